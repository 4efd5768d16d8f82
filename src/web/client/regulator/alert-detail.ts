/**
 * One alert's page (#alert/<id>): what was found, under which law, how urgent and by when, the evidence, the steps
 * taken so far, and the form for the next step. Each step needs a note; the API decides whether the step is allowed
 * (another supervisor may have moved the alert meanwhile, or the alert may be about this supervisor's own
 * organisation) and its refusal is shown as it comes.
 */
import { get, post } from '../lib/api';
import { field, h, replace, section, table } from '../lib/dom';
import { shanghai } from '../lib/format';
import { notify, notifyError, onSubmit } from '../lib/layout';
import { severityBadge, statusBadge } from './alerts';
import { eventsTable, fieldsTable } from './evidence';
import { STEP_LABELS, lawText, statusText, type Status } from './labels';
import { loading, type Alert, type AuditEvent, type Disposition } from './shared';

interface AlertPage extends Alert {
  tender: { id: string; code: string | null; name: string | null } | null;
  subjectOrg: { id: string; name: string | null } | null;
  dispositions: Disposition[];
  evidenceEvents: AuditEvent[];
  evidenceNotShown: number[];
  context: { scope: 'tender' | 'chain'; around: number; events: Array<AuditEvent & { nearEvidenceSeq: number }> };
  organisations: Record<string, { name: string; type: string }>;
  /** the steps the API accepts from the current status; it still decides (a stale page's step is refused) */
  nextStatuses: Status[];
}

const NOTE_MAX = 2000;

function facts(a: AlertPage): HTMLElement {
  const rows: Array<[string, Node | string]> = [
    ['预警 / Alert', a.title],
    ['严重程度 / Severity', severityBadge(a.severity)],
    ['监测规则 / Rule', a.rule],
    ['依据 / Law cited', h('span', {}, lawText(a.basis), a.basis !== lawText(a.basis) ? h('span', { class: 'muted' }, `（${a.basis}）`) : null)],
    ['项目 / Tender', a.tender ? `${a.tender.code ?? ''} ${a.tender.name ?? ''}`.trim() : '（不涉及具体项目 / none）'],
    ['涉及单位 / Subject', a.subjectOrg?.name ?? '（未指明 / none）'],
    ['发现时间 / Raised', `${shanghai(a.raisedAt, true)}（北京时间）`],
    ['处理期限 / Due', a.dueAt ? `${shanghai(a.dueAt)}（北京时间）${a.dueEstimated ? '，按自然日估算（缺少工作日历）' : ''}` : '—'],
    ['当前状态 / Status', h('span', { class: 'row' }, statusBadge(a), a.handledOnTime === true ? h('span', { class: 'badge ok' }, '按期处理') : a.handledOnTime === false ? h('span', { class: 'badge bad' }, '逾期处理') : null)],
  ];
  return h('dl', { class: 'facts', 'data-testid': 'alert-facts' }, rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

function history(a: AlertPage): HTMLElement {
  return table(
    ['时间 / Time', '处置 / Step', '处置人 / By', '意见 / Note', '日志序号'],
    a.dispositions.map((d) => [
      shanghai(d.at, true),
      `${statusText(d.fromStatus)} → ${statusText(d.toStatus)}`,
      `${d.orgName ?? ''} ${d.userName ?? ''}`.trim() || '—',
      h('span', { class: 'note' }, d.note),
      `#${d.auditSeq}`,
    ]),
    { testId: 'disposition-history', empty: '尚未处置。 / No steps taken yet.' },
  );
}

function dispositionForm(a: AlertPage, reload: () => Promise<void>): HTMLElement {
  const steps = a.nextStatuses;
  if (steps.length === 0) return h('p', { class: 'muted' }, `该预警已处理完毕（${statusText(a.status)}），不能再处置。 / This alert is closed.`);
  const step = h('select', { name: 'status', required: true }, steps.map((s) => h('option', { value: s }, STEP_LABELS[s] ?? s)));
  const note = h('textarea', { name: 'note', required: true, maxlength: NOTE_MAX, rows: 4 });
  const form = h(
    'form',
    { 'aria-label': '处置预警 / Record a disposition' },
    field('处置 / Step', step),
    field('处置意见（必填）/ Note (required)', note, `写明查看了什么、为何如此处置（不超过 ${NOTE_MAX} 字），将记入交易日志。 / What you looked at and why; recorded in the log.`),
    h('button', { type: 'submit' }, '提交处置 / Record'),
  );
  onSubmit(form, async () => {
    const to = step.value as Status;
    const closing = to === 'confirmed' || to === 'dismissed';
    // confirming or dismissing ends the alert's handling: it cannot be undone
    if (closing && !confirm(`确定将该预警${STEP_LABELS[to]}？此操作不可撤销。 / This cannot be undone.`)) return;
    await post(`/alerts/${a.id}/dispositions`, { status: to, note: note.value, from: a.status });
    await reload();
    notify(`已记录处置：${statusText(to)} / Recorded`, 'ok');
  });
  return form;
}

export async function alertDetailView(main: HTMLElement, id: string): Promise<void> {
  const host = h('div', {}, loading('正在加载预警… / Loading the alert…'));
  main.append(h('p', {}, h('a', { href: '#alerts' }, '← 返回预警列表 / Back to alerts')), host);
  const reload = async () => {
    const a = await get<AlertPage>(`/alerts/${id}?around=3`);
    const fields = a.evidence.fields ?? {};
    replace(
      host,
      section(`预警详情 · ${a.title}`, facts(a)),
      section(
        '证据 · Evidence',
        h('h3', {}, '匹配内容 / What matched'),
        h('div', { class: 'table-wrap', 'data-testid': 'evidence-fields' }, Object.keys(fields).length ? fieldsTable(fields, a.organisations) : h('p', { class: 'muted' }, '（该规则未记录匹配字段，见下方日志事件）')),
        h('h3', {}, '证据事件（交易日志）/ Evidence events'),
        h('div', { class: 'table-wrap' }, eventsTable(a.evidenceEvents, a.organisations, { details: true, testId: 'evidence-events' })),
        a.evidenceNotShown.length ? h('p', { class: 'muted' }, `另有 ${a.evidenceNotShown.length} 条证据事件未展开：${a.evidenceNotShown.map((s) => `#${s}`).join('、')}`) : null,
        a.context.events.length
          ? h('details', {}, h('summary', {}, `前后相关事件（${a.context.scope === 'tender' ? '同一项目' : '全链'}，${a.context.events.length} 条）/ Events around`),
              h('div', { class: 'table-wrap' }, eventsTable(a.context.events, a.organisations)))
          : null,
      ),
      section('处置记录 · Review history', h('div', { class: 'table-wrap' }, history(a))),
      section('处置 · Record a disposition', dispositionForm(a, reload)),
    );
  };
  try {
    await reload();
  } catch (err) {
    replace(host, h('p', { class: 'muted' }, '预警未能加载。 / The alert could not be loaded.'));
    notifyError(err);
  }
}
