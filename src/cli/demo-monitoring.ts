/**
 * The demo's monitoring: once the bids are decrypted, the rules compare them — two bidders packed their bids on one
 * machine, one copied another's technical proposal, the four prices climb in equal steps — and the supervising
 * department finds the alerts waiting, next to the shared deposit account found when the money came in. A regulator
 * signs for the copied-proposal alert and opens an investigation, each step with a note on the trade log.
 */
import { StepFailed, table, type ApiClient, type Json, type Out } from './demo-support';

export interface MonitoringDemo {
  api: ApiClient;
  say: Out;
  tenderId: string;
  regulatorToken(): string;
}

/** The rules the demo's story must trip, with what the regulator should read for each. */
export const EXPECTED_RULES = ['deposit-shared-account', 'same-bid-tool', 'similar-bids', 'regular-prices'] as const;

const SEVERITY = { critical: '严重', high: '高', warning: '关注', info: '提示' } as Record<string, string>;

async function alertsOf(d: MonitoringDemo): Promise<Json[]> {
  return (await d.api.call('GET', `/api/v1/alerts?tenderId=${d.tenderId}&limit=100`, { token: d.regulatorToken(), expect: 200 })).body;
}

/** Waits (up to 30 s: the scan runs every few seconds, then the analysis job) until every expected rule has alerted. */
async function awaitAlerts(d: MonitoringDemo): Promise<Json[]> {
  const limit = Date.now() + 30_000;
  for (;;) {
    const alerts = await alertsOf(d);
    const missing = EXPECTED_RULES.filter((r) => !alerts.some((a) => a.rule === r));
    if (missing.length === 0) return alerts;
    if (Date.now() > limit) throw new StepFailed(`30 秒内未见预警 (no alert within 30 s)：${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function reviewAlerts(d: MonitoringDemo): Promise<void> {
  const alerts = await awaitAlerts(d);
  const rows = [['严重程度', '规则 (rule)', '预警 (alert)', '涉及单位 (organisations)']];
  for (const a of [...alerts].sort((x, y) => x.rule.localeCompare(y.rule))) {
    // the alert's page names every organisation its evidence points at
    const page = (await d.api.call('GET', `/api/v1/alerts/${a.id}?around=0`, { token: d.regulatorToken(), expect: 200 })).body;
    const ids: string[] = a.evidence.fields?.orgIds ?? a.evidence.fields?.bidderOrgIds ?? (a.subjectOrgId ? [a.subjectOrgId] : []);
    rows.push([`${SEVERITY[a.severity] ?? a.severity} (${a.severity})`, a.rule, a.title, ids.map((id) => page.organisations[id]?.name ?? id).join('、') || '—']);
  }
  d.say(`监管部门的预警列表 (the regulator's alerts for this tender)：${alerts.length} 条`);
  for (const line of table(rows)) d.say(`  ${line}`);
  const copied = alerts.find((a) => a.rule === 'similar-bids')!;
  const page = (await d.api.call('GET', `/api/v1/alerts/${copied.id}`, { token: d.regulatorToken(), expect: 200 })).body;
  const documents = (page.evidence.fields.pairs ?? page.evidence.fields.documents ?? []) as Json[];
  d.say(`「${copied.title}」依据 (basis)：${copied.basis}`);
  d.say(`证据 (evidence)：交易日志事件 ${page.evidenceEvents.length} 条，前后相关事件 ${page.context.events.length} 条${documents.length ? `，比对结果 ${documents.length} 项` : ''}`);
  const steps: Array<[string, string]> = [
    ['acknowledged', '已签收，调取两家投标文件原件比对。'],
    ['investigating', '两份技术标除单位名称外基本一致，立案调查，通知招标人暂缓定标。'],
  ];
  for (const [status, note] of steps) {
    const res = await d.api.call('POST', `/api/v1/alerts/${copied.id}/dispositions`, { token: d.regulatorToken(), json: { status, note }, expect: 201 });
    d.say(`✓ 处置 (disposition) → ${res.body.alert.status}：「${note}」（交易日志第 ${res.body.disposition.auditSeq} 条）`);
  }
}
