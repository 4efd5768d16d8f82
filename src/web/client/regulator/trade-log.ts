/**
 * 交易日志: a tender's audit events (who did what, when), and whether the chain they sit in is intact — verified
 * by the platform from the first event, and anchored in signed checkpoints (Merkle roots) that anyone holding the
 * platform's certificate can check offline.
 */
import { get } from '../lib/api';
import { field, h, replace, section } from '../lib/dom';
import { shanghai } from '../lib/format';
import { notifyError } from '../lib/layout';
import { eventsTable } from './evidence';
import { loading, type AuditEvent, type TenderSummary } from './shared';

const PAGE = 100;

interface Verify {
  ok: boolean;
  checked: number;
  headSeq: number | null;
  firstBroken?: { seq: number; problem: 'SEQ_GAP' | 'PREV_HASH_MISMATCH' | 'HASH_MISMATCH'; expected: string; found: string };
}
interface Checkpoint {
  treeSize: number;
  rootHash: string;
  madeAt: string;
  signerSerial: string;
}

const PROBLEMS: Record<string, string> = {
  SEQ_GAP: '序号不连续，有事件被删除 / a gap: an event was removed',
  PREV_HASH_MISMATCH: '与前一条的链接不符，事件被调换或插入 / the link to the previous event does not match',
  HASH_MISMATCH: '内容与其哈希不符，事件被改动 / the event was altered',
};

async function verification(events: AuditEvent[]): Promise<HTMLElement> {
  const [v, checkpoints] = await Promise.all([get<Verify>('/audit/verify'), get<Checkpoint[]>('/audit/checkpoints?limit=1')]);
  const latest = checkpoints[0];
  const status = v.ok
    ? h('p', { class: 'state-banner', 'data-testid': 'chain-status' }, h('span', { class: 'badge ok' }, '完整 / intact'), ` 链完整，已验证至第 ${v.headSeq ?? 0} 条 / the chain verifies up to event ${v.headSeq ?? 0}`)
    : h('p', { class: 'state-banner sev-critical', 'data-testid': 'chain-status' }, h('span', { class: 'badge bad' }, '断裂 / broken'),
        ` 链在第 ${v.firstBroken?.seq} 条处断裂：${PROBLEMS[v.firstBroken?.problem ?? ''] ?? v.firstBroken?.problem}；第 ${v.headSeq ?? 0} 条及以前完好 / the chain breaks at event ${v.firstBroken?.seq}`);
  const mine = events.map((e) => e.seq);
  const anchored = latest ? mine.filter((s) => s <= latest.treeSize).length : 0;
  return h(
    'div',
    {},
    status,
    h('p', {}, `平台从第 1 条起逐条重算哈希并核对前后链接，共核对 ${v.checked} 条。 / Every event's hash and link was recomputed from the first.`),
    latest
      ? h('p', { 'data-testid': 'checkpoint-status' },
          `最新签名检查点：覆盖前 ${latest.treeSize} 条事件，默克尔根 ${latest.rootHash.slice(0, 16)}…，由平台证书（序列号 ${latest.signerSerial}）于 ${shanghai(latest.madeAt, true)} 签署。`,
          mine.length ? ` 本项目已显示的 ${mine.length} 条事件中 ${anchored} 条已纳入该检查点${anchored < mine.length ? '，其余将在下一次签署检查点时纳入' : ''}。` : '',
          ' / The latest signed checkpoint (Merkle root) covers the first ', String(latest.treeSize), ' events.')
      : h('p', { 'data-testid': 'checkpoint-status', class: 'muted' }, '尚未签署检查点：交易中心定时签署，签署后可离线核验。 / No signed checkpoint yet.'),
  );
}

async function showTender(host: HTMLElement, tender: TenderSummary): Promise<void> {
  const verifyHost = h('div', {}, loading('正在校验交易日志链… / Verifying the chain…'));
  const listHost = h('div', {}, loading('正在加载交易日志… / Loading the log…'));
  replace(host, section(`链校验 · Chain verification`, verifyHost), section(`交易日志 · ${tender.code} ${tender.name}`, listHost));
  const events = await get<AuditEvent[]>(`/audit/events?tenderId=${tender.id}&limit=${PAGE}`);
  const tbl = eventsTable(events, {}, { details: true, testId: 'trade-log', empty: '该项目尚无日志事件。 / No events for this tender yet.' });
  const more = h('button', { type: 'button', class: 'secondary' }, '加载更早的事件 / Older events');
  let oldest = events.at(-1)?.seq;
  more.hidden = events.length < PAGE;
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const older = await get<AuditEvent[]>(`/audit/events?tenderId=${tender.id}&limit=${PAGE}&beforeSeq=${oldest}`);
      const rows = eventsTable(older, {}, { details: true }).tBodies[0]!.rows;
      tbl.tBodies[0]!.append(...[...rows]);
      events.push(...older);
      oldest = older.at(-1)?.seq;
      more.hidden = older.length < PAGE;
    } catch (err) {
      notifyError(err);
    } finally {
      more.disabled = false;
    }
  });
  replace(listHost, h('p', { class: 'muted' }, `新到旧，共 ${events.length}${events.length === PAGE ? '+' : ''} 条。 / Newest first.`), h('div', { class: 'table-wrap' }, tbl), h('p', {}, more));
  try {
    replace(verifyHost, await verification(events));
  } catch (err) {
    replace(verifyHost, h('p', { class: 'muted' }, '链校验未能完成。 / Verification failed to run.'));
    notifyError(err);
  }
}

/** `tenderId` from the hash (#log/<id>): the tender shown, so Back returns to it. */
export async function tradeLogView(main: HTMLElement, tenders: TenderSummary[], tenderId?: string): Promise<void> {
  const host = h('div', { 'aria-live': 'polite' });
  if (tenders.length === 0) {
    main.append(section('交易日志 · Trade log', h('p', { class: 'muted' }, '平台上还没有招标项目；项目发布后，其全部操作都记入交易日志。 / No tenders yet.')));
    return;
  }
  const choose = h('select', { name: 'tender' }, h('option', { value: '' }, '— 请选择项目 / choose a tender —'), tenders.map((t) => h('option', { value: t.id }, `${t.code} ${t.name}`)));
  choose.value = tenderId ?? '';
  choose.addEventListener('change', () => {
    location.hash = choose.value ? `#log/${choose.value}` : '#log';
  });
  main.append(section('交易日志 · Trade log', field('项目 / Tender', choose, '选择项目查看其全部操作记录及日志链校验结果 / choose a tender to see its events'), host));
  // a tender older than the newest hundred, reached by its link: asked for by id
  const tender = tenders.find((t) => t.id === tenderId) ?? (tenderId ? await get<TenderSummary>(`/tenders/${tenderId}`).catch(() => undefined) : undefined);
  if (tender && !tenders.includes(tender)) {
    choose.append(h('option', { value: tender.id }, `${tender.code} ${tender.name}`));
    choose.value = tender.id;
  }
  if (!tender) {
    replace(host, h('p', { class: 'muted' }, tenderId ? '未找到该项目。 / Tender not found.' : '请选择一个项目。 / Choose a tender above.'));
    return;
  }
  try {
    await showTender(host, tender);
  } catch (err) {
    replace(host, h('p', { class: 'muted' }, '交易日志未能加载。 / The log could not be loaded.'));
    notifyError(err);
  }
}
