/**
 * 报告与导出: the deposit-refund SLA report for a period (and its PDF), the alerts' exports and report PDF, and
 * the audit log's export with how to check it offline, without trusting the platform.
 */
import { download, get } from '../lib/api';
import { field, h, replace, section, table } from '../lib/dom';
import { shanghai, shanghaiDate, yuan } from '../lib/format';
import { PlatformClock } from '../lib/clock';
import { action, onSubmit } from '../lib/layout';
import { loading } from './shared';

interface SlaFigures {
  released: number;
  paid: number;
  paidOnTime: number;
  paidLate: number;
  unpaid: number;
  overdue: number;
  onTimeRate: number;
  /** principal released for refund, paid back (principal and interest), still to pay back — in fen */
  releasedFen: number;
  paidFen: number;
  unpaidFen: number;
}
interface SlaReport {
  period: { from: string; to: string };
  generatedAt: string;
  totals: SlaFigures;
  tenders: Array<{ tenderId: string; code: string; name: string } & SlaFigures>;
}

/** The platform's today in Beijing, YYYY-MM-DD, and the first of its month (the platform's clock governs, not this computer's). */
async function beijingToday(): Promise<{ today: string; monthStart: string }> {
  const clock = new PlatformClock();
  await clock.sync();
  const today = shanghaiDate(clock.date());
  return { today, monthStart: `${today.slice(0, 8)}01` };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

type Day = { today: string; monthStart: string };

function dateRange(prefix: string, { today, monthStart }: Day): { from: HTMLInputElement; to: HTMLInputElement; fields: HTMLElement } {
  const from = h('input', { type: 'date', name: `${prefix}-from`, required: true, value: monthStart });
  const to = h('input', { type: 'date', name: `${prefix}-to`, required: true, value: today });
  return { from, to, fields: h('div', { class: 'inline-fields' }, field('起始日期 / From', from), field('截止日期 / To', to)) };
}

function slaTable(r: SlaReport): HTMLElement {
  const t = r.totals;
  const rows = r.tenders.map((x) => [x.code, x.name, String(x.released), String(x.paidOnTime), String(x.paidLate), String(x.unpaid), String(x.overdue), pct(x.onTimeRate), yuan(x.releasedFen), yuan(x.paidFen), yuan(x.unpaidFen)]);
  return h(
    'div',
    { 'data-testid': 'sla-report' },
    h('p', {}, `统计期间（按释放日期）${r.period.from} 至 ${r.period.to}，生成于 ${shanghai(r.generatedAt)}（北京时间）。平台承诺：释放后 2 个工作日内退还本息。`),
    h('div', { class: 'table-wrap' }, table(
      ['应退笔数 / Due', '按期已退 / On time', '逾期已退 / Late', '未退 / Unpaid', '已逾期未退 / Overdue', '按期率', '应退本金 / Released', '已退本息 / Paid', '未退本金 / Unpaid'],
      [[String(t.released), String(t.paidOnTime), String(t.paidLate), String(t.unpaid), String(t.overdue), pct(t.onTimeRate), yuan(t.releasedFen), yuan(t.paidFen), yuan(t.unpaidFen)]],
      { caption: '合计 / Totals', numeric: [0, 1, 2, 3, 4, 5, 6, 7, 8] },
    )),
    h('div', { class: 'table-wrap' }, table(
      ['项目编号', '项目名称', '应退', '按期', '逾期已退', '未退', '逾期未退', '按期率', '应退本金', '已退本息', '未退本金'],
      rows,
      { caption: '按项目 / By tender', numeric: [2, 3, 4, 5, 6, 7, 8, 9, 10], empty: '该期间没有释放的保证金退款。可放宽日期范围再查。 / No refunds were released in this period.' },
    )),
  );
}

function slaSection(day: Day): HTMLElement {
  const range = dateRange('sla', day);
  const out = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, '选择期间后点“查询”。 / Choose a period and press Show.'));
  const pdf = h('button', { type: 'button', class: 'secondary' }, '下载 PDF / Download PDF');
  const form = h('form', { 'aria-label': '保证金退还时限报告期间 / SLA report period' }, range.fields, h('div', { class: 'row' }, h('button', { type: 'submit' }, '查询 / Show'), pdf));
  const q = () => `from=${range.from.value}&to=${range.to.value}`;
  onSubmit(form, async () => {
    replace(out, loading());
    try {
      replace(out, slaTable(await get<SlaReport>(`/deposits/sla-report?${q()}`)));
    } catch (err) {
      replace(out);
      throw err;
    }
  });
  // the current month at once: a supervisor opening the tab wants the figures, not a form
  queueMicrotask(() => form.requestSubmit());
  action(pdf, () => download(`/deposits/sla-report.pdf?${q()}`, `deposit-sla-${range.from.value}-${range.to.value}.pdf`), '报告 PDF 已下载 / Downloaded');
  return section('保证金退还时限报告 · Deposit refund SLA', form, out);
}

function exportsSection(day: Day): HTMLElement {
  const range = dateRange('alerts', day);
  const csv = h('button', { type: 'button' }, '预警 CSV / Alerts CSV');
  const json = h('button', { type: 'button', class: 'secondary' }, '预警 JSON（含处置记录）/ Alerts JSON');
  const report = h('button', { type: 'button', class: 'secondary' }, '预警处置报告 PDF / Alerts report PDF');
  const audit = h('button', { type: 'button', class: 'secondary' }, '交易日志导出（NDJSON）/ Audit log export');
  const q = () => `raisedFrom=${range.from.value}&raisedTo=${range.to.value}`;
  const stamp = () => `${range.from.value}-${range.to.value}`;
  action(csv, () => download(`/alerts/export.csv?${q()}`, `alerts-${stamp()}.csv`), 'CSV 已下载 / Downloaded');
  action(json, () => download(`/alerts/export.json?${q()}`, `alerts-${stamp()}.json`), 'JSON 已下载 / Downloaded');
  action(report, () => download(`/alerts/report.pdf?from=${range.from.value}&to=${range.to.value}`, `alerts-report-${stamp()}.pdf`), '报告 PDF 已下载 / Downloaded');
  action(audit, () => download('/audit/export', 'audit-export.ndjson'), '交易日志已导出 / Exported');
  return section(
    '导出 · Exports',
    h('p', {}, '预警按发现日期（北京时间，含首尾两日）导出；CSV 可直接用 Excel 打开。 / Alerts raised in the period, both days included.'),
    range.fields,
    h('div', { class: 'row' }, csv, json, report),
    h('h3', {}, '交易日志离线核验 / Verifying the audit log offline'),
    h('p', {}, '导出的交易日志包含全部事件、签名检查点及平台证书，可在任何电脑上核验，无需连接平台数据库：'),
    h('div', { class: 'row' }, audit),
    h('ol', {},
      h('li', {}, '下载上面的导出文件（或由交易中心运行 ', h('code', {}, 'npm run audit:export -- --out 目录'), ' 导出为目录）；'),
      h('li', {}, '运行 ', h('code', {}, 'npm run audit:verify -- --export audit-export.ndjson'), '：逐条重算哈希、链接与顺序，核对每个检查点的默克尔根、签名及证书链，指出每处问题（退出码 0 表示完整）；'),
      h('li', {}, '将输出的根证书指纹与平台公布的根证书（', h('code', {}, 'GET /api/v1/pki/ca-certificate'), '）核对。'),
    ),
  );
}

export async function reportsView(main: HTMLElement): Promise<void> {
  const wait = loading();
  main.append(wait);
  const day = await beijingToday();
  wait.replaceWith(slaSection(day), exportsSection(day));
}
