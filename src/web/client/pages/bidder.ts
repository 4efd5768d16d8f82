/**
 * 投标人工作台: the signed-in bidder's open tenders (and how to bid with bidtool), its own bids with their receipts,
 * and its deposits and refunds. Three parts on one page with a local menu, so a phone user can jump between them.
 */
import { h, loading, replace } from '../lib/dom';
import { mainArea, notifyError, topBar } from '../lib/layout';
import { requireSession } from '../lib/session';
import { PlatformClock } from '../lib/clock';
import { loadAll } from '../bidder/model';
import { renderOpenTenders } from '../bidder/tenders';
import { renderBids } from '../bidder/bids';
import { renderDeposits } from '../bidder/deposits';

const session = requireSession(['bidder']);

const PARTS = [
  { id: 'open-tenders', title: '可投标项目 · Open tenders' },
  { id: 'my-bids', title: '我的投标文件 · My bids' },
  { id: 'my-deposits', title: '我的保证金 · My deposits' },
] as const;

function part(id: string, title: string): { section: HTMLElement; body: HTMLElement } {
  // not a live region: a reload replaces whole tables, which a screen reader would read out in full
  const body = h('div', { class: 'part-body' });
  const section = h('section', { id, class: 'part', 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), body);
  return { section, body };
}


if (session) {
  topBar(session);
  const main = mainArea('投标人工作台 · Bidder');
  const clock = new PlatformClock();
  const parts = PARTS.map((p) => ({ ...p, ...part(p.id, p.title) }));
  const menu = h(
    'nav',
    { class: 'part-menu', 'aria-label': '本页内容 / On this page' },
    h('ul', {}, parts.map((p) => h('li', {}, h('a', { href: `#${p.id}` }, p.title)))),
  );
  main.append(menu, ...parts.map((p) => p.section));
  let tick: () => void = () => undefined;

  const load = async (): Promise<void> => {
    parts.forEach((p) => p.body.setAttribute('aria-busy', 'true'));
    try {
      const data = await loadAll(clock);
      const [open, bids, deposits] = parts.map((p) => {
        replace(p.body);
        return p.body;
      });
      tick = renderOpenTenders(open, data, session, clock, load);
      renderBids(bids, data, clock, load);
      renderDeposits(deposits, data);
    } catch (err) {
      notifyError(err);
      parts.forEach((p) => replace(p.body, h('p', { class: 'empty-state' }, '未能加载，请检查网络后刷新本页。 / Could not load: check the connection and reload.')));
    } finally {
      parts.forEach((p) => p.body.removeAttribute('aria-busy'));
    }
  };

  parts.forEach((p) => replace(p.body, loading()));
  void load();
  setInterval(() => tick(), 1000);
}
