/** The hall's read-only panels: they are re-drawn from data and hold no input, so redrawing loses nothing. */
import { h, replace, table } from '../lib/dom';
import { countdown, shanghai, yuan } from '../lib/format';
import { CONFIRMATION_LABELS, OUTCOME_LABELS, STATE_LABELS, type HallView, type Objection, type Reading, type Tender } from './model';

export function sectionLabel(tender: Tender | null, sectionId: string): string {
  const s = tender?.sections.find((x) => x.id === sectionId);
  return s ? `第${s.seq}标段 ${s.name}` : '标段';
}

/** The state, the platform clock and the countdowns; `now` is platform time. */
export function drawClock(el: HTMLElement, v: HallView, now: Date): void {
  const until = (end: string | null, before: string) => {
    if (!end) return before;
    if (v.paused) return '已暂停 / paused';
    const ms = new Date(end).getTime() - now.getTime();
    return ms > 0 ? `剩余 ${countdown(ms)}` : `已结束 ${shanghai(end)}`;
  };
  const item = (label: string, value: string, at: string | null, id: string) =>
    h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': id }, value), at ? h('dd', { class: 'muted' }, shanghai(at)) : null);
  replace(
    el,
    h(
      'p',
      { class: 'row' },
      h('span', { class: 'state-banner', 'data-testid': 'hall-state' }, STATE_LABELS[v.state] ?? v.state),
      v.paused ? h('span', { class: 'badge warn' }, '主持人已暂停 / paused') : null,
    ),
    h('p', { class: 'clock' }, '平台时间 / Platform time：', h('strong', { 'data-testid': 'server-time' }, shanghai(now))),
    h(
      'dl',
      { class: 'countdowns' },
      item('投标截止 / Bid deadline', now >= new Date(v.bidDeadline) ? '已截止 / closed' : `剩余 ${countdown(new Date(v.bidDeadline).getTime() - now.getTime())}`, v.bidDeadline, 'cd-deadline'),
      item(`解密时限（${v.decryptionWindowMinutes} 分钟） / Decryption`, until(v.decryptionEndsAt, '主持人开始解密后计时 / starts with the host'), v.decryptionEndsAt, 'cd-decryption'),
      item('确认时限 / Confirmation', until(v.confirmationEndsAt, '唱标后计时 / after the reading'), v.confirmationEndsAt, 'cd-confirmation'),
      item('异议时限 / Objections', until(v.objectionEndsAt, '确认结束后计时 / after confirmation'), v.objectionEndsAt, 'cd-objections'),
    ),
  );
}

export function drawParticipants(el: HTMLElement, v: HallView): void {
  const p = v.progress;
  const done = p.decrypted + p.failed;
  replace(
    el,
    h('p', {}, `投标文件 ${p.bids} 份：已解密 ${p.decrypted}，解密中 ${p.keyReceived}，失败 ${p.failed} / ${p.bids} bids: ${p.decrypted} decrypted`),
    h('progress', { max: Math.max(p.bids, 1), value: done, 'aria-label': '解密进度 / decryption progress', 'data-testid': 'decrypt-progress' }),
    table(
      ['投标人 / Bidder', '签到时间 / Signed in', '解密 / Decryption'],
      v.participants.map((x) => [
        x.name,
        shanghai(x.signedInAt),
        x.decryption.bids === 0
          ? '—'
          : x.decryption.decrypted === x.decryption.bids
            ? h('span', { class: 'badge ok' }, '已解密')
            : x.decryption.failed > 0
              ? h('span', { class: 'badge bad' }, `失败 ${x.decryption.failed}`)
              : x.decryption.keyReceived > 0
                ? h('span', { class: 'badge warn' }, '解密中')
                : h('span', { class: 'badge' }, '待解密'),
      ]),
      { testId: 'participants', empty: '尚无投标人签到 / nobody has signed in yet' },
    ),
  );
}

export function drawReadings(el: HTMLElement, tender: Tender | null, readings: Reading[]): void {
  replace(
    el,
    h(
      'div',
      { class: 'table-wrap' },
      table(
        ['标段 / Section', '投标人 / Bidder', '投标报价 / Price', '工期 / Days', '质量 / Quality', '项目负责人 / Manager', '保证金 / Deposit', '解密结果 / Result', '确认 / Confirmed'],
        readings.map((r) => [
          sectionLabel(tender, r.sectionId),
          r.bidder,
          r.totalPriceFen === null ? '—' : yuan(r.totalPriceFen),
          r.durationDays === null ? '—' : `${r.durationDays} 日历天`,
          r.quality ?? '—',
          r.projectManager ?? '—',
          r.deposit ?? '—',
          r.outcome ? (OUTCOME_LABELS[r.outcome] ?? r.outcome) : '—',
          r.confirmation ? (CONFIRMATION_LABELS[r.confirmation] ?? r.confirmation) : '待确认',
        ]),
        { testId: 'readings', numeric: [2, 3], empty: '唱标尚未开始 / not yet read out' },
      ),
    ),
  );
}

/** Objections with their answers; `answerForm` gives the host a form for an unanswered one. */
export function drawObjections(
  el: HTMLElement,
  objections: Objection[],
  names: (orgId: string) => string,
  answerForm: ((o: Objection) => HTMLElement) | null,
): void {
  replace(
    el,
    objections.length === 0
      ? h('p', { class: 'muted' }, '暂无异议 / no objections')
      : h(
          'ol',
          { 'data-testid': 'objections' },
          objections.map((o) =>
            h(
              'li',
              {},
              h('p', {}, h('strong', {}, names(o.bidderOrgId)), `（${shanghai(o.raisedAt)}）：`, o.text),
              o.answer
                ? h('p', {}, h('span', { class: 'badge ok' }, '已答复'), ` ${shanghai(o.answeredAt)}：`, o.answer)
                : answerForm
                  ? answerForm(o)
                  : h('p', { class: 'badge warn' }, '待答复 / awaiting the answer'),
            ),
          ),
        ),
  );
}
