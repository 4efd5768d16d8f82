/** 预警: the counts, the filters and the list, newest first, a page at a time ("more" follows X-Next-Cursor). */
import { get, getWithHeaders } from '../lib/api';
import { field, h, replace, section, table } from '../lib/dom';
import { shanghai } from '../lib/format';
import { notifyError } from '../lib/layout';
import { SERVICE_RULES, SEVERITIES, SEVERITY_LABELS, STATUSES, STATUS_LABELS, severityText, statusText } from './labels';
import { loading, type Alert, type TenderSummary } from './shared';

const PAGE_SIZE = 20;

/** The filter survives a visit to an alert's page and back. */
const filter: Record<string, string> = {};

function query(extra: Record<string, string> = {}, omit: string[] = []): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filter, ...extra })) if (v && !omit.includes(k)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function select(name: string, options: Array<[string, string]>): HTMLSelectElement {
  const el = h('select', { name }, h('option', { value: '' }, '全部 / All'), options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = filter[name] ?? '';
  return el;
}

export function severityBadge(s: string): HTMLElement {
  return h('span', { class: `badge ${s === 'critical' || s === 'high' ? 'bad' : s === 'warning' ? 'warn' : ''} sev-${s}` }, severityText(s));
}

export function statusBadge(a: Pick<Alert, 'status' | 'overdue'>): HTMLElement[] {
  const handled = a.status === 'confirmed' || a.status === 'dismissed';
  return [
    h('span', { class: `badge ${handled ? 'ok' : ''}` }, statusText(a.status)),
    a.overdue ? h('span', { class: 'badge bad' }, '已逾期 / overdue') : null,
  ].filter((x): x is HTMLElement => x !== null);
}

async function summaryPanel(): Promise<HTMLElement> {
  const [all, ...bySeverity] = await Promise.all([
    get<{ total: number; byStatus: Record<string, number>; unhandled: number; overdue: number; asOf: string }>(`/alerts/summary${query()}`),
    ...SEVERITIES.map((s) => get<{ total: number; unhandled: number; overdue: number }>(`/alerts/summary${query({ severity: s })}`)),
  ]);
  return h(
    'div',
    { 'data-testid': 'alert-summary' },
    h('p', {}, `共 ${all.total} 条，未处理完毕 ${all.unhandled} 条，`, h('strong', { class: all.overdue ? 'sev-critical' : '' }, `已逾期 ${all.overdue} 条`), `（统计于 ${shanghai(all.asOf)}）`),
    h(
      'div',
      { class: 'grid' },
      h('div', { class: 'table-wrap' }, table(['严重程度 / Severity', '合计', '未处理完毕', '逾期'],
        SEVERITIES.map((s, i) => [severityBadge(s), String(bySeverity[i]!.total), String(bySeverity[i]!.unhandled), String(bySeverity[i]!.overdue)]),
        { caption: '按严重程度 / by severity', numeric: [1, 2, 3] })),
      h('div', { class: 'table-wrap' }, table(['状态 / Status', '条数'],
        STATUSES.map((s) => [STATUS_LABELS[s], String(all.byStatus[s] ?? 0)]),
        { caption: '按处理状态 / by status', numeric: [1] })),
    ),
  );
}

function rowOf(a: Alert): HTMLElement[] {
  return [
    h('span', {}, shanghai(a.raisedAt)),
    severityBadge(a.severity),
    h('a', { href: `#alert/${a.id}` }, a.title),
    h('span', {}, a.tenderId ? `${a.tenderCode ?? ''} ${a.tenderName ?? ''}`.trim() : '—'),
    h('span', {}, a.subjectOrgName ?? (a.subjectOrgId ? '…' : '—')),
    h('span', { class: 'row' }, statusBadge(a)),
    h('span', {}, a.dueAt ? shanghai(a.dueAt) : '—'),
  ];
}

const HEADERS = ['发现时间 / Raised', '严重程度', '预警 / Alert', '项目 / Tender', '涉及单位 / Subject', '状态 / Status', '处理期限 / Due'];

async function listPanel(host: HTMLElement): Promise<void> {
  const { body, headers } = await getWithHeaders<Alert[]>(`/alerts${query({ limit: String(PAGE_SIZE) })}`);
  const tbl = table(HEADERS, body.map(rowOf), { testId: 'alert-list', empty: '没有符合条件的预警。可清除筛选条件查看全部。 / No alerts match: clear the filter to see all.' });
  const tbody = tbl.tBodies[0]!;
  const more = h('button', { type: 'button', class: 'secondary' }, '加载更多 / More');
  let cursor = headers.get('X-Next-Cursor');
  more.hidden = !cursor;
  more.addEventListener('click', async () => {
    if (!cursor) return;
    more.disabled = true;
    more.setAttribute('aria-busy', 'true');
    try {
      const next = await getWithHeaders<Alert[]>(`/alerts${query({ limit: String(PAGE_SIZE) })}&${cursor}`.replace('?&', '?'));
      for (const a of next.body) tbody.append(h('tr', {}, rowOf(a).map((c, i) => h('td', { 'data-label': HEADERS[i] }, c))));
      cursor = next.headers.get('X-Next-Cursor');
      more.hidden = !cursor;
    } catch (err) {
      notifyError(err);
    } finally {
      more.disabled = false;
      more.removeAttribute('aria-busy');
    }
  });
  replace(host, h('div', { class: 'table-wrap' }, tbl), h('p', {}, more));
}

async function ruleOptions(): Promise<Array<[string, string]>> {
  const rules = await get<Array<{ id: string; description: string }>>('/monitoring/rules').catch(() => []);
  const out = new Map<string, string>(Object.entries(SERVICE_RULES));
  for (const r of rules) out.set(r.id, r.description.split(/[：:（(，。]/)[0]!.slice(0, 30) || r.id);
  return [...out.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, text]) => [id, `${text}（${id}）`]);
}

function filterForm(rules: Array<[string, string]>, tenders: TenderSummary[], apply: () => void): HTMLFormElement {
  const controls = {
    severity: select('severity', SEVERITIES.map((s) => [s, SEVERITY_LABELS[s]])),
    status: select('status', STATUSES.map((s) => [s, STATUS_LABELS[s]])),
    rule: select('rule', rules),
    tenderId: select('tenderId', tenders.map((t) => [t.id, `${t.code} ${t.name}`])),
    overdue: select('overdue', [['true', '仅逾期未处理 / overdue only'], ['false', '未逾期 / not overdue']]),
  };
  const clear = h('button', { type: 'button', class: 'secondary' }, '清除筛选 / Clear');
  const form = h(
    'form',
    { 'aria-label': '筛选预警 / Filter alerts' },
    h('div', { class: 'inline-fields' },
      field('严重程度 / Severity', controls.severity),
      field('处理状态 / Status', controls.status),
      field('监测规则 / Rule', controls.rule),
      field('项目 / Tender', controls.tenderId),
      field('是否逾期 / Overdue', controls.overdue),
    ),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, '筛选 / Filter'), clear),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const [k, el] of Object.entries(controls)) filter[k] = el.value;
    apply();
  });
  clear.addEventListener('click', () => {
    for (const [k, el] of Object.entries(controls)) {
      el.value = '';
      filter[k] = '';
    }
    apply();
  });
  return form;
}

/** The alerts view; `tenders` feeds the tender filter. */
export async function alertsView(main: HTMLElement, tenders: TenderSummary[]): Promise<void> {
  const summaryHost = h('div', {}, loading());
  const listHost = h('div', { 'aria-live': 'polite' }, loading());
  const formHost = h('div', {}, loading());
  main.append(
    section('预警概况 · Summary', summaryHost),
    section('预警列表 · Alerts', formHost, listHost),
  );
  const refresh = async () => {
    replace(summaryHost, loading());
    replace(listHost, loading());
    try {
      const [summary] = await Promise.all([summaryPanel(), listPanel(listHost)]);
      replace(summaryHost, summary);
    } catch (err) {
      replace(listHost, h('p', { class: 'muted' }, '预警未能加载。 / The alerts could not be loaded.'));
      replace(summaryHost);
      notifyError(err);
    }
  };
  replace(formHost, filterForm(await ruleOptions(), tenders, () => void refresh()));
  await refresh();
}
