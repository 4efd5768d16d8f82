/**
 * After the opening (定标), per section: the evaluation result and ranked candidates (TLR 53), the candidate
 * publicity of at least 3 days and the answers to its objections (TLR 54), the signed award notice (TL 45), the
 * contract within 30 days (TL 46). The platform keeps the order and the time limits; the page shows where the
 * section stands as a list of steps and offers the one step that comes next.
 */
import { ApiError, download, get, post } from '../lib/api';
import { field, h, section, table } from '../lib/dom';
import { shanghai, yuan } from '../lib/format';
import { notify, notifyError } from '../lib/layout';
import { beijingInput, fenToYuanInput, toBeijingInput, yuanToFen } from './money';
import { confirmAction, formError, InputError, submitWith, type TenderSection, type TenderSummary } from './ui';
import { objectionsBlock } from './objections';
import type { Reading } from '../hall/model';

export interface AwardStatus {
  stage: 'awaiting-evaluation' | 'evaluated' | 'publicity' | 'publicity-ended' | 'awarded' | 'contracted';
  serverTime: string;
  evaluation: { report: string; summary: string | null; recordedAt: string } | null;
  candidates: Array<{ rank: number; bidId: string; bidderName: string; priceFen: number }>;
  publicity: { startsAt: string; endsAt: string; running: boolean } | null;
  objections: Array<{ id: string; text: string; raisedAt: string; answerDueAt: string; answer: string | null; answeredAt: string | null; late: boolean }>;
  award: { rank: number; reason: string | null; priceFen: number; issuedAt: string; contractDueBy: string } | null;
  contract: { signedAt: string; amountFen: number; late: boolean; recordedAt: string } | null;
}

const STEPS: Array<[string, (s: AwardStatus) => boolean]> = [
  ['录入评标结果及中标候选人 / Evaluation result', (s) => s.evaluation !== null],
  ['中标候选人公示（不少于 3 日） / Candidate publicity', (s) => s.publicity !== null && !s.publicity.running],
  ['答复公示期异议 / Answer objections', (s) => s.publicity !== null && !s.publicity.running && s.objections.every((o) => o.answer)],
  ['发出中标通知书 / Award notice', (s) => s.award !== null],
  ['登记合同签订（30 日内） / Contract recorded', (s) => s.contract !== null],
];

function stepList(s: AwardStatus): HTMLElement {
  const current = STEPS.findIndex(([, done]) => !done(s));
  return h(
    'ol',
    { class: 'agency-steps', 'aria-label': '定标进度 / Award steps' },
    STEPS.map(([label, done], i) => {
      const state = done(s) ? 'done' : i === current ? 'current' : 'todo';
      const mark = state === 'done' ? '✓ 已完成 / done' : state === 'current' ? '● 当前步骤 / current' : '○ 待办 / to do';
      return h('li', { class: `agency-step ${state}`, 'aria-current': state === 'current' ? 'step' : null }, h('span', {}, label), ' ', h('span', { class: 'muted' }, mark));
    }),
  );
}

/** The award panels of a sealed tender: one per section once the opening record is published. */
export async function awardPanels(t: TenderSummary, manages: boolean, reload: () => void): Promise<HTMLElement[]> {
  let state: string;
  try {
    state = (await get<{ state: string }>(`/tenders/${t.id}/opening`)).state;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) notifyError(err);
    state = 'none';
  }
  if (state !== 'recorded' && state !== 'closed') {
    return [
      section(
        '定标 · Award',
        h('p', {}, state === 'failed'
          ? '开标未能进行（有效投标不足等），须重新招标（TLR 44）。 / The opening failed: tender again.'
          : '开标记录公布后，可在此录入评标结果、公示中标候选人、发出中标通知书。 / Once the opening record is published, the award steps appear here.'),
        h('p', {}, h('a', { href: `/hall/${t.id}` }, '前往开标大厅 / Go to the opening hall')),
      ),
    ];
  }
  let readings: Reading[] = [];
  if (manages) {
    try {
      readings = await get<Reading[]>(`/tenders/${t.id}/opening/readings`);
    } catch (err) {
      notifyError(err);
    }
  }
  return Promise.all(t.sections.map((s) => sectionAward(t, s, manages, readings.filter((r) => r.sectionId === s.id), reload)));
}

async function sectionAward(t: TenderSummary, s: TenderSection, manages: boolean, readings: Reading[], reload: () => void): Promise<HTMLElement> {
  const title = `定标 · 第 ${s.seq} 标段：${s.name}`;
  let st: AwardStatus;
  try {
    st = await get<AwardStatus>(`/tenders/${t.id}/sections/${s.id}/award-status`);
  } catch (err) {
    notifyError(err);
    return section(title, h('p', {}, '定标进度加载失败，请刷新页面。 / Could not load the award status.'));
  }
  const base = `/tenders/${t.id}/sections/${s.id}`;
  const parts: Array<HTMLElement | null> = [stepList(st)];
  if (st.evaluation) {
    parts.push(
      h('h3', {}, '中标候选人 · Candidates'),
      h('div', { class: 'table-wrap' }, table(['排名 / Rank', '投标人 / Bidder', '投标报价 / Price'], st.candidates.map((c) => [`第 ${c.rank} 名`, c.bidderName, yuan(c.priceFen)]), { testId: `candidates-${s.seq}`, numeric: [2] })),
      h('details', {}, h('summary', {}, `评标报告（录入于 ${shanghai(st.evaluation.recordedAt)}） / Evaluation report`), h('p', { class: 'agency-prewrap' }, st.evaluation.report)),
    );
  }
  if (st.publicity) parts.push(h('p', {}, `公示期 / Publicity：${shanghai(st.publicity.startsAt)} — ${shanghai(st.publicity.endsAt)}`, st.publicity.running ? h('span', { class: 'badge warn' }, ' 公示中 / running') : h('span', { class: 'badge ok' }, ' 已结束 / ended')));
  if (st.publicity) parts.push(objectionsBlock(base, st, manages, reload));
  if (st.award) {
    const pdf = h('button', { type: 'button', class: 'secondary' }, '下载中标通知书 PDF / Download award notice');
    pdf.addEventListener('click', () => download(`${base}/award/notice.pdf`, `中标通知书-${t.code}-${s.seq}.pdf`).catch(notifyError));
    const sig = h('button', { type: 'button', class: 'link agency-link' }, '下载平台签名 (.p7s) / signature');
    sig.addEventListener('click', () => download(`${base}/award/notice.p7s`, `中标通知书-${t.code}-${s.seq}.p7s`).catch(notifyError));
    const winner = st.candidates.find((c) => c.rank === st.award!.rank);
    parts.push(
      h('p', {}, `中标人 / Winner：${winner?.bidderName ?? ''}（第 ${st.award.rank} 名），中标价 ${yuan(st.award.priceFen)}；通知书发出 ${shanghai(st.award.issuedAt)}；合同须于 ${shanghai(st.award.contractDueBy)} 前签订。`),
      h('p', { class: 'row' }, pdf, sig),
    );
  }
  if (st.contract) {
    parts.push(h('p', {}, `合同已签订 / Contract：${shanghai(st.contract.signedAt)}，金额 ${yuan(st.contract.amountFen)}`, st.contract.late ? h('span', { class: 'badge bad' }, ' 逾期签订 (TL 46)') : null));
  }
  if (manages) parts.push(nextStep(base, st, readings, reload));
  return section(title, ...parts);
}

function nextStep(base: string, st: AwardStatus, readings: Reading[], reload: () => void): HTMLElement | null {
  switch (st.stage) {
    case 'awaiting-evaluation':
      return evaluationForm(base, readings, reload);
    case 'evaluated':
      return publicityForm(base, reload);
    case 'publicity-ended':
      return awardForm(base, st, reload);
    case 'awarded':
      return contractForm(base, st, reload);
    default:
      return null;
  }
}

function evaluationForm(base: string, readings: Reading[], reload: () => void): HTMLElement {
  const valid = readings.filter((r) => (r.outcome === 'decrypted' || r.outcome === 'custodian-opened') && r.totalPriceFen !== null);
  if (valid.length === 0) return h('p', { class: 'muted' }, '本标段没有已解密的有效投标，无法推荐中标候选人。 / No decrypted bids in this section.');
  const report = h('textarea', { required: true, minlength: 2, maxlength: 20000, rows: 4 });
  const summary = h('input', { type: 'text', maxlength: 2000 });
  const picks = [1, 2, 3].slice(0, valid.length).map((rank) =>
    h(
      'select',
      { required: rank === 1 },
      h('option', { value: '' }, rank === 1 ? '请选择 / Choose' : '（不推荐） / none'),
      valid.map((r) => h('option', { value: r.bidId }, `${r.bidder} — ${yuan(r.totalPriceFen)}`)),
    ),
  );
  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '录入评标结果 / Record the evaluation' },
    h('h3', {}, '录入评标结果 · Record the evaluation result'),
    field('评标报告 / Evaluation report', report, '评标委员会的评标报告或其摘要 (TLR 53)'),
    field('评标结果摘要（可选） / Summary (optional)', summary),
    h('div', { class: 'inline-fields' }, picks.map((p, i) => field(`第 ${i + 1} 名中标候选人 / Candidate ranked ${i + 1}`, p))),
    errorEl,
    h('button', { type: 'submit' }, '保存评标结果 / Save evaluation'),
  );
  submitWith(form, errorEl, async () => {
    const chosen = picks.map((p, i) => ({ bidId: p.value, rank: i + 1 })).filter((c) => c.bidId);
    if (chosen.length === 0) throw new InputError('请至少推荐一名中标候选人 (choose at least one candidate)');
    if (chosen.some((c, i) => c.rank !== i + 1)) throw new InputError('中标候选人须按名次连续推荐，不能跳过 (ranks 1..n without gaps)');
    if (new Set(chosen.map((c) => c.bidId)).size !== chosen.length) throw new InputError('同一投标人不能重复推荐 (a bid chosen twice)');
    await post(`${base}/evaluation`, { report: report.value.trim(), summary: summary.value.trim() || undefined, candidates: chosen });
    reload();
    notify('评标结果已录入。下一步：发布中标候选人公示。 / Evaluation recorded.', 'ok');
  });
  return form;
}

function publicityForm(base: string, reload: () => void): HTMLElement {
  const endsAt = h('input', { type: 'datetime-local' });
  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '发布中标候选人公示 / Publish the candidates' },
    h('h3', {}, '发布中标候选人公示 · Candidate publicity'),
    h('p', { class: 'muted' }, '公示自发布时起，不少于 3 日（首日不计）；须在收到评标报告之日起 3 日内发布（TLR 54）。'),
    field('公示截止时间（北京时间，可选） / Publicity ends (optional)', endsAt, '留空取最早允许的截止时间 / empty: the earliest allowed'),
    errorEl,
    h('button', { type: 'submit' }, '发布公示 / Publish publicity'),
  );
  submitWith(form, errorEl, async () => {
    const at = endsAt.value ? beijingInput(endsAt.value) : undefined;
    if (endsAt.value && !at) throw new InputError('公示截止时间格式无效 (invalid time)');
    await post(`${base}/publicity`, at ? { endsAt: at } : {});
    reload();
    notify('中标候选人公示已发布。 / Publicity published.', 'ok');
  });
  return form;
}

function awardForm(base: string, st: AwardStatus, reload: () => void): HTMLElement {
  const rank = h('select', {}, st.candidates.map((c) => h('option', { value: String(c.rank) }, `第 ${c.rank} 名：${c.bidderName}（${yuan(c.priceFen)}）`)));
  const reason = h('textarea', { maxlength: 2000, rows: 2 });
  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '发出中标通知书 / Issue the award notice' },
    h('h3', {}, '发出中标通知书 · Issue the award notice'),
    field('中标人 / Winner', rank, '一般为排名第一的中标候选人 (TLR 55)'),
    field('理由（非第一名时必填） / Reason (required if not ranked first)', reason),
    errorEl,
    h('button', { type: 'submit' }, '发出中标通知书 / Issue award'),
  );
  submitWith(form, errorEl, async () => {
    const chosen = st.candidates.find((c) => String(c.rank) === rank.value);
    if (!chosen) throw new InputError('请选择中标人 (choose the winner)');
    if (chosen.rank !== 1 && !reason.value.trim()) throw new InputError('确定排名第一以外的候选人为中标人须说明理由（TLR 55） [AWARD_REASON_REQUIRED]');
    const yes = await confirmAction({
      title: '确认发出中标通知书？ · Issue the award notice?',
      body: [
        `中标人：${chosen.bidderName}，中标价 ${yuan(chosen.priceFen)}。`,
        '中标通知书由平台签名后发出，对招标人和中标人具有法律效力（TL 45），不能撤回；其他投标人的投标保证金随即退还。',
        'The signed notice is binding and cannot be withdrawn; the other bidders’ deposits are released.',
      ],
      confirm: '确认发出 / Issue',
      danger: true,
    });
    if (!yes) return;
    await post(`${base}/award`, { rank: chosen.rank, reason: reason.value.trim() || undefined });
    reload();
    notify('中标通知书已发出。 / Award notice issued.', 'ok');
  });
  return form;
}

function contractForm(base: string, st: AwardStatus, reload: () => void): HTMLElement {
  // prefilled with the platform's present time (to the second) and the award price: the usual case
  const signedAt = h('input', { type: 'datetime-local', step: 1, required: true, value: toBeijingInput(st.serverTime) });
  const amount = h('input', { type: 'text', inputmode: 'decimal', required: true, value: st.award ? fenToYuanInput(st.award.priceFen) : '' });
  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '登记合同签订 / Record the contract' },
    h('h3', {}, '登记合同签订 · Record the contract'),
    h('div', { class: 'inline-fields' }, field('合同签订时间（北京时间） / Signed at (Beijing time)', signedAt), field('合同金额（元） / Contract amount (yuan)', amount)),
    errorEl,
    h('button', { type: 'submit' }, '登记合同 / Record contract'),
  );
  submitWith(form, errorEl, async () => {
    const at = beijingInput(signedAt.value);
    const amountFen = yuanToFen(amount.value);
    if (!at) throw new InputError('请填写合同签订时间 (enter the signing time)');
    if (amountFen === null || amountFen < 1) throw new InputError('合同金额不是有效金额（元，最多两位小数）');
    await post(`${base}/contract`, { signedAt: at, amountFen });
    reload();
    notify('合同签订已登记；中标人的投标保证金将退还。 / Contract recorded.', 'ok');
  });
  return form;
}
