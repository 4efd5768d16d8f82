/**
 * 行政监督 (the regulator console): alerts and their handling, a tender's trade log with the chain's verification,
 * the deposit-refund SLA report and the exports. Views are chosen by the location hash (#alerts, #alert/<id>,
 * #log/<tenderId>, #reports) so Back and bookmarks work; only regulators get here — anyone else is sent home
 * before anything is fetched.
 */
import { get } from '../lib/api';
import { h } from '../lib/dom';
import { mainArea, notifyError, topBar } from '../lib/layout';
import { requireSession } from '../lib/session';
import { alertDetailView } from '../regulator/alert-detail';
import { alertsView } from '../regulator/alerts';
import { reportsView } from '../regulator/reports';
import type { TenderSummary } from '../regulator/shared';
import { tradeLogView } from '../regulator/trade-log';

const TABS: Array<[string, string]> = [
  ['#alerts', '预警 / Alerts'],
  ['#log', '交易日志 / Trade log'],
  ['#reports', '报告与导出 / Reports & exports'],
];

let tenders: Promise<TenderSummary[]> | null = null;

/** The tenders for the filters and the trade log, asked once (the newest hundred). */
function tenderList(): Promise<TenderSummary[]> {
  tenders ??= get<{ items: TenderSummary[] }>('/tenders?pageSize=100').then(
    (r) => r.items,
    (err) => {
      notifyError(err);
      tenders = null;
      return [];
    },
  );
  return tenders;
}

function tabs(current: string): HTMLElement {
  return h(
    'nav',
    { 'aria-label': '行政监督栏目 / Console sections', class: 'row tabs' },
    TABS.map(([href, label]) => h('a', { href, class: 'button secondary', 'aria-current': current === href ? 'page' : null }, label)),
  );
}

async function route(): Promise<void> {
  const hash = location.hash || '#alerts';
  const [view, arg] = hash.slice(1).split('/');
  const main = mainArea('行政监督 · Regulator console');
  const tab = view === 'alert' ? '#alerts' : `#${view}`;
  // each view fills its own container: a slow view left behind by a quicker click fills a detached one
  const host = h('div', {});
  main.append(tabs(tab), host);
  switch (view) {
    case 'alert':
      if (arg) return alertDetailView(host, arg);
      break;
    case 'log':
      return tradeLogView(host, await tenderList(), arg);
    case 'reports':
      return reportsView(host);
  }
  return alertsView(host, await tenderList());
}

const session = requireSession(['regulator']);
if (session) {
  topBar(session);
  window.addEventListener('hashchange', () => void route());
  void route();
}
