/**
 * 开标大厅: the online opening as everyone sees it — state, platform time and countdowns, sign-ins and decryption
 * progress, the 唱标 table as it fills, objections and answers, the record — kept current by the live feed. A
 * bidder signs in, decrypts (here, with WebCrypto, or with bidtool), confirms and objects; the host (the agency)
 * starts the decryption, pauses and resumes, answers objections and publishes the record.
 */
import { api, ApiError, download, get, post } from '../lib/api';
import { PlatformClock } from '../lib/clock';
import { byId, h, replace, section } from '../lib/dom';
import { action, mainArea, notifyError, onSubmit, topBar } from '../lib/layout';
import { requireSession } from '../lib/session';
import { bidtoolHint, decryptForm } from '../hall/decrypt';
import { LiveFeed, type LinkState } from '../hall/live';
import { describeEvent, DECRYPTION_LABELS, type HallView, type LiveEvent, type Objection, type Reading, type Tender } from '../hall/model';
import { drawClock, drawObjections, drawParticipants, drawReadings, sectionLabel } from '../hall/panels';
import { countdown, shanghai } from '../lib/format';

const session = requireSession();
const tenderId = document.body.dataset.tenderId ?? '';

interface Hall {
  view: HallView | null;
  tender: Tender | null;
  readings: Reading[];
  objections: Objection[];
  /** platform time − this computer's time, from the last answer: countdowns follow the platform (EB 27) */
  offsetMs: number;
}

const hall: Hall = { view: null, tender: null, readings: [], objections: [], offsetMs: 0 };
const now = () => new Date(Date.now() + hall.offsetMs);
const isBidder = session?.organisation.type === 'bidder';
const isHost = session?.organisation.type === 'agency';

const clockEl = h('div', { 'data-testid': 'hall-clock' });
const linkEl = h('span', { class: 'badge', 'data-testid': 'live-state' }, '连接中…');
const participantsEl = h('div');
const readingsEl = h('div');
const objectionsEl = h('div');
const recordEl = h('div');
const feedEl = h('ol', { class: 'feed', 'data-testid': 'feed', 'aria-live': 'polite' });
const mineEl = h('div', { 'data-testid': 'my-actions' });
const hostEl = h('div', { 'data-testid': 'host-actions' });

const nameOf = (orgId: unknown): string =>
  hall.view?.participants.find((p) => p.bidderOrgId === orgId)?.name ??
  hall.readings.find((r) => r.bidderOrgId === orgId)?.bidder ??
  (orgId === session?.organisation.id ? (session?.organisation.name ?? '') : '一位投标人');

// ---- loading ---------------------------------------------------------------------------------------------------

async function load(): Promise<void> {
  const view = await get<HallView>(`/tenders/${tenderId}/opening`);
  hall.offsetMs = new Date(view.serverTime).getTime() - Date.now();
  hall.view = view;
  const read = !['signing-in', 'decrypting'].includes(view.state);
  const [readings, objections] = await Promise.all([
    read ? get<Reading[]>(`/tenders/${tenderId}/opening/readings`) : Promise.resolve([]),
    get<Objection[]>(`/tenders/${tenderId}/opening/objections`),
  ]);
  hall.readings = readings;
  hall.objections = objections;
  draw();
}

let pending: ReturnType<typeof setTimeout> | null = null;
/** Events come in bursts (a window closing decrypts many bids): one reload for a burst. */
function reloadSoon(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    load().catch(notifyError);
  }, 250);
}

// ---- drawing ---------------------------------------------------------------------------------------------------

function draw(): void {
  const v = hall.view;
  if (!v) return;
  drawClock(clockEl, v, now());
  drawParticipants(participantsEl, v);
  drawReadings(readingsEl, hall.tender, hall.readings);
  drawObjections(objectionsEl, hall.objections, nameOf, isHost && ['announcing', 'objections'].includes(v.state) ? answerForm : null);
  drawRecord(v);
  if (isBidder) drawMine(v);
  if (isHost) drawHost(v);
}

function drawRecord(v: HallView): void {
  if (!v.recordedAt) return replace(recordEl, h('p', { class: 'muted' }, '异议处理完毕后由主持人发布 / published by the host once objections are answered'));
  const pdf = h('button', { type: 'button' }, '下载开标记录表 PDF / Download the record');
  const sig = h('button', { type: 'button', class: 'secondary' }, '下载平台签名 .p7s');
  action(pdf, () => download(`/tenders/${tenderId}/opening/record.pdf`, `开标记录表-${hall.tender?.code ?? tenderId}.pdf`));
  action(sig, () => download(`/tenders/${tenderId}/opening/record.p7s`, `开标记录表-${hall.tender?.code ?? tenderId}.p7s`));
  replace(
    recordEl,
    h('p', {}, `开标记录表已于 ${shanghai(v.recordedAt)} 发布，平台已签名（可用 openssl cms -verify 核验）。`),
    h('p', { class: 'row' }, pdf, sig),
  );
}

// the bidder's forms are built once per situation, so an event never wipes what is being typed or chosen
let mineKey = '';
function drawMine(v: HallView): void {
  const signedIn = v.participants.some((p) => p.bidderOrgId === session?.organisation.id);
  const mine = v.myBids ?? [];
  const needKey = mine.filter((b) => b.decryption === 'no-key' || b.decryption === 'failed');
  const myConfirmation = hall.readings.find((r) => r.bidderOrgId === session?.organisation.id)?.confirmation ?? null;
  const objectionOpen = ['announcing', 'objections'].includes(v.state) && (!v.objectionEndsAt || now() < new Date(v.objectionEndsAt));
  const key = [v.state, v.paused, signedIn, needKey.map((b) => b.bidId).join(','), myConfirmation, objectionOpen].join('|');
  const status = h(
    'ul',
    { 'data-testid': 'my-bids' },
    mine.map((b) => h('li', {}, `${sectionLabel(hall.tender, b.sectionId)}：${DECRYPTION_LABELS[b.decryption] ?? b.decryption}${b.failureCode ? `（${b.failureCode}）` : ''}`)),
  );
  if (key === mineKey) {
    mineEl.querySelector('[data-testid="my-bids"]')?.replaceWith(status);
    return;
  }
  mineKey = key;
  const parts: HTMLElement[] = [status];
  if (!signedIn && ['signing-in', 'decrypting'].includes(v.state)) {
    const b = h('button', { type: 'button' }, '签到 / Sign in to the opening');
    action(b, async () => void (await post(`/tenders/${tenderId}/opening/sign-in`), await load()), '已签到 / signed in');
    parts.push(h('p', {}, '开标须以数字证书签到（EB 29） / sign in with your certificate:'), b);
  } else if (signedIn) {
    parts.push(h('p', {}, h('span', { class: 'badge ok' }, '本单位已签到 / signed in')));
  }
  if (signedIn && v.state === 'decrypting' && !v.paused && needKey.length > 0) {
    parts.push(
      decryptForm(tenderId, needKey.map((b) => ({ bidId: b.bidId, sectionLabel: sectionLabel(hall.tender, b.sectionId) })), now, () => void load().catch(notifyError)),
      bidtoolHint(tenderId),
    );
  } else if (v.state === 'signing-in' && signedIn) {
    parts.push(h('p', { class: 'muted' }, '请等待主持人开始解密，届时在此解密本单位投标文件 / wait for the host to start the decryption'));
  }
  if (v.state === 'announcing' && !v.paused && myConfirmation === null) {
    const ok = h('button', { type: 'button' }, '确认唱标结果 / Confirm');
    const dispute = h('button', { type: 'button', class: 'secondary' }, '有异议 / Dispute');
    action(ok, async () => void (await post(`/tenders/${tenderId}/opening/confirmation`, { kind: 'confirmed' }), await load()), '已确认 / confirmed');
    action(dispute, async () => void (await post(`/tenders/${tenderId}/opening/confirmation`, { kind: 'disputed' }), await load()), '已表示有异议，请在下方提出具体异议 / raise your objection below');
    parts.push(h('p', {}, '请核对唱标结果；确认时限内未确认的视为认可（GP87 42）。'), h('p', { class: 'row' }, ok, dispute));
  }
  if (objectionOpen) parts.push(objectionForm());
  replace(mineEl, ...parts);
}

// one objection form for the page's life: a stage changing while someone types must not wipe the text
let objectionFormEl: HTMLElement | null = null;
function objectionForm(): HTMLElement {
  objectionFormEl ??= buildObjectionForm();
  return objectionFormEl;
}

function buildObjectionForm(): HTMLElement {
  const text = h('textarea', { name: 'objection', required: true, minlength: 2, maxlength: 2000 });
  const form = h(
    'form',
    {},
    h('div', { class: 'field' }, h('label', { for: 'objection-text' }, '对开标提出异议 / Raise an objection（TLR 44）'), text),
    h('button', { type: 'submit' }, '提交异议 / Submit'),
  );
  text.id = 'objection-text';
  onSubmit(form, async () => {
    await post(`/tenders/${tenderId}/opening/objections`, { text: text.value });
    text.value = '';
    await load();
  }, '异议已提交，主持人将当场答复 / objection raised');
  return form;
}

const answerForms = new Map<string, HTMLElement>();
function answerForm(o: Objection): HTMLElement {
  let form = answerForms.get(o.id) as HTMLFormElement | undefined;
  if (form) return form;
  const text = h('textarea', { required: true, minlength: 2, maxlength: 2000, id: `answer-${o.id}` });
  form = h('form', {}, h('div', { class: 'field' }, h('label', { for: text.id }, '答复 / Answer'), text), h('button', { type: 'submit' }, '答复并记录 / Answer'));
  onSubmit(form, async () => {
    await post(`/tenders/${tenderId}/opening/objections/${o.id}/answer`, { answer: text.value });
    await load();
  }, '已答复 / answered');
  answerForms.set(o.id, form);
  return form;
}

let hostKey = '';
function drawHost(v: HallView): void {
  const key = [v.state, v.paused].join('|');
  if (key === hostKey) return;
  hostKey = key;
  const buttons: HTMLElement[] = [];
  const step = (label: string, path: string, done: string, confirmText?: string, cls?: string) => {
    const b = h('button', { type: 'button', class: cls ?? null }, label);
    action(b, async () => {
      if (confirmText && !confirm(confirmText)) return;
      await post(`/tenders/${tenderId}/opening/${path}`);
      await load();
    }, done);
    buttons.push(b);
  };
  if (v.state === 'signing-in' && !v.paused) step('开始解密 / Start the decryption', 'start-decryption', '解密时限开始 / the window is open', `开始解密后投标人须在 ${v.decryptionWindowMinutes} 分钟内解密。确定开始？`);
  if (['signing-in', 'decrypting', 'announcing', 'objections'].includes(v.state)) {
    if (v.paused) step('恢复开标 / Resume', 'resume', '已恢复，时限顺延 / resumed');
    else step('暂停开标 / Pause', 'pause', '已暂停 / paused', undefined, 'secondary');
  }
  if (v.state === 'objections' && !v.paused) step('发布开标记录表 / Publish the record', 'record', '开标记录表已发布 / the record is published', '发布后开标记录表经平台签名，不可更改。确定发布？');
  if (v.state === 'recorded') step('结束开标 / Close the opening', 'close', '开标已结束 / closed', '确定结束开标？');
  replace(hostEl, buttons.length ? h('p', { class: 'row' }, buttons) : h('p', { class: 'muted' }, '当前阶段无需主持人操作 / nothing to do now'));
}

// ---- live ------------------------------------------------------------------------------------------------------

const LINK_LABELS: Record<LinkState, [string, string]> = {
  connecting: ['连接中… / connecting', 'badge'],
  open: ['实时连接 / live', 'badge ok'],
  reconnecting: ['重新连接中，事件不会丢失 / reconnecting', 'badge warn'],
  'signed-out': ['登录已过期，请重新登录 / sign in again', 'badge bad'],
};

function onEvent(e: LiveEvent): void {
  feedEl.prepend(h('li', { 'data-seq': e.seq }, `${shanghai(e.occurredAt)}  ${describeEvent(e, nameOf)}`));
  reloadSoon();
}

function onLink(state: LinkState): void {
  const [label, cls] = LINK_LABELS[state];
  linkEl.textContent = label;
  linkEl.className = cls;
  if (state === 'signed-out') linkEl.replaceWith(h('a', { href: `/?next=${encodeURIComponent(location.pathname)}`, class: cls, 'data-testid': 'live-state' }, label));
  // after a gap, what changed meanwhile is replayed as events; reload too, in case the gap outlived the replay
  if (state === 'open' && !waiting) reloadSoon();
  // waiting for the opening: did it begin while the line was down?
  if (state === 'open' && waiting) get(`/tenders/${tenderId}/opening`).then(() => location.reload(), () => undefined);
}

async function main(): Promise<void> {
  if (!session) return;
  topBar(session);
  const mainEl = mainArea('开标大厅 · Opening hall');
  try {
    hall.tender = await api<Tender>('GET', `/tenders/${tenderId}`);
    byId('main').querySelector('h1')!.textContent = `开标大厅 · ${hall.tender.name}`;
    document.title = `开标大厅 · ${hall.tender.name}`;
    await load();
  } catch (err) {
    if (hall.tender && err instanceof ApiError && err.code === 'OPENING_NOT_FOUND') return waitForOpening(mainEl, hall.tender);
    notifyError(err);
    return;
  }
  mainEl.append(
    h('p', { class: 'muted' }, `项目编号 / Code：${hall.tender.code}　`, linkEl),
    section('开标状态 / Status', clockEl),
    h(
      'div',
      { class: 'grid' },
      section('签到与解密 / Sign-in and decryption', participantsEl),
      isBidder ? section('本单位 / My organisation', mineEl) : null,
      isHost ? section('主持人操作 / Host', hostEl) : null,
    ),
    section('唱标 / Reading out (EB 30)', readingsEl),
    section('异议与答复 / Objections (TLR 44)', objectionsEl),
    section('开标记录表 / Opening record (EB 32)', recordEl),
    section('实时动态 / Live events', feedEl),
  );
  setInterval(() => hall.view && drawClock(clockEl, hall.view, now()), 1000);
  new LiveFeed(tenderId, onEvent, onLink).start();
}

/**
 * Before the deadline there is no opening yet: the hall says when it begins, counts down on the platform's clock and
 * turns into the hall by itself when the platform announces the opening (its first live event).
 */
let waiting = false;
async function waitForOpening(mainEl: HTMLElement, tender: Tender): Promise<void> {
  waiting = true;
  const clock = new PlatformClock();
  await clock.sync();
  const left = h('strong', { 'data-testid': 'opening-countdown' });
  const tick = () => {
    const ms = new Date(tender.bidDeadline).getTime() - clock.now();
    left.textContent = ms > 0 ? countdown(ms) : '即将开始 / starting';
  };
  tick();
  setInterval(tick, 1000);
  mainEl.append(
    h('p', { class: 'muted' }, `项目编号 / Code：${tender.code}　`, linkEl),
    section(
      '开标尚未开始 / The opening has not begun',
      h('p', {}, `投标截止时间 ${shanghai(tender.bidDeadline)}（北京时间）到达后，开标自动开始，本页随即更新。 / The opening begins at the bid deadline; this page updates by itself.`),
      h('p', { class: 'clock' }, '距开标 / Time left：', left),
      isBidder
        ? h('p', {}, '请提前准备：本单位的密钥文件（bidtool enroll 生成）和投标时提交的数字信封（.cms）。开标时须以数字证书签到，并在解密时限内解密。 / Have your key files and the sealed bid (.cms) ready: you sign in and decrypt within the window.')
        : null,
    ),
  );
  new LiveFeed(tenderId, () => location.reload(), onLink).start();
}

main();
