/**
 * The demo's deposits: the bidders pay through the bank simulator — two from their basic accounts, one short, two
 * from one and the same third party's account (TLR 40(6)) — and the alerts say so; after the opening, the award and
 * the contract release the deposits, the refunds are paid with interest within two working days, and the
 * regulators' SLA line is printed.
 */
import { formatYuan } from '../shared/money';
import { formatShanghai } from '../shared/time';
import { RELEASE_REASONS } from '../documents/refund-voucher';
import type { DemoBank } from './demo-bank';
import { StepFailed, table, type ApiClient, type Json, type Out } from './demo-support';

export interface DemoBidder {
  key: string;
  name: string;
  token(): string;
  basicAccountNo: string;
  basicAccountBank: string;
}

export interface DepositDemo {
  api: ApiClient;
  bank: DemoBank;
  say: Out;
  tenderId: string;
  sectionId: string;
  bidders: DemoBidder[];
  agencyToken(): string;
  operatorToken(): string;
  regulatorToken(): string;
}

/** One third party paying two bidders' deposits: what TLR 40(6) deems collusion. */
const SHARED_PAYER = { no: '6228480088776655443', name: '西安某劳务派遣有限公司', bank: '中国农业银行西安分行' };
/** The third bidder's transfer falls short by this much. */
const SHORT_BY_FEN = 50_000_00;

async function pollFor<T>(what: string, probe: () => Promise<T | null>, ms = 20_000): Promise<T> {
  const limit = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > limit) throw new StepFailed(`${ms / 1000} 秒内未见${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STATUS_LABELS: Record<string, string> = { due: '待退', sending: '退款中', paid: '已退', failed: '失败', forfeited: '不予退还' };

export async function payDeposits(d: DepositDemo): Promise<void> {
  const rows = [['投标人 (bidder)', '保证金账户 (virtual account)', '付款账户 (paid from)', '金额（元）', '状态']];
  for (const [i, b] of d.bidders.entries()) {
    const acc = (await d.api.call('POST', `/api/v1/tenders/${d.tenderId}/sections/${d.sectionId}/deposit-account`, { token: b.token(), expect: 200 })).body;
    const shared = i >= 3;
    const payer = shared ? SHARED_PAYER : { no: b.basicAccountNo, name: b.name, bank: b.basicAccountBank };
    const amountFen = i === 2 ? acc.requiredFen - SHORT_BY_FEN : acc.requiredFen;
    await d.bank.credit({ virtualAccountNo: acc.accountNo, payerAccountNo: payer.no, payerAccountName: payer.name, payerBankName: payer.bank, amountFen });
    const mine: Json = await pollFor('银行到账通知 (the bank notification)', async () => {
      const list = (await d.api.call('GET', '/api/v1/deposits/mine', { token: b.token(), expect: 200 })).body as Json[];
      const view = list.find((x) => x.accountNo === acc.accountNo);
      return view && view.credits.length > 0 ? view : null;
    });
    rows.push([b.name, acc.accountNo, shared ? `${payer.name}（代缴）` : '本单位基本账户', formatYuan(amountFen), mine.statusLabel]);
  }
  for (const line of table(rows)) d.say(`  ${line}`);
  const alerts = (await d.api.call('GET', `/api/v1/alerts?tenderId=${d.tenderId}`, { token: d.operatorToken(), expect: 200 })).body as Json[];
  for (const a of alerts.filter((x) => x.rule.startsWith('deposit-'))) d.say(`! 预警 (alert, ${a.severity})：${a.title}（${a.basis}）`);
  if (!alerts.some((a) => a.rule === 'deposit-shared-account')) throw new StepFailed('未见同一账户代缴两家保证金的预警 (no shared-account alert)');
  const sealed = (await d.api.call('GET', `/api/v1/tenders/${d.tenderId}/deposits`, { token: d.agencyToken(), expect: 200 })).body;
  const s = sealed.sections.find((x: Json) => x.sectionId === d.sectionId);
  d.say(`开标前代理机构只看到笔数 (before the opening the agency sees counts only)：第 ${s.seq} 标段 ${s.accounts} 个账户，${s.paid} 家足额到账；谁缴了保证金不可见`);
}

export async function awardAndRefunds(d: DepositDemo, readings: Json[], moveClockTo: (at: Date) => Promise<Date>): Promise<void> {
  const p = `/api/v1/tenders/${d.tenderId}/sections/${d.sectionId}`;
  const opened = readings.filter((r) => r.sectionId === d.sectionId && (r.outcome === 'decrypted' || r.outcome === 'custodian-opened'));
  // a bid whose deposit is not paid in full is rejected by the evaluation committee (TLR 26; the tender documents)
  for (const r of opened.filter((x) => x.deposit !== '已缴')) d.say(`评标委员会否决 ${r.bidder} 的投标：投标保证金${r.deposit} (deposit not paid in full)`);
  const valid = opened.filter((r) => r.deposit === '已缴');
  const ranked = [...valid].sort((a, b) => a.totalPriceFen - b.totalPriceFen).slice(0, 3);
  await d.api.call('POST', `${p}/evaluation`, {
    token: d.agencyToken(),
    json: { report: '评标委员会按招标文件规定的经评审的最低投标价法评审，推荐中标候选人三名。', candidates: ranked.map((r, i) => ({ bidId: r.bidId, rank: i + 1 })) },
    expect: 201,
  });
  const publicity = (await d.api.call('POST', `${p}/publicity`, { token: d.agencyToken(), json: {}, expect: 201 })).body.publicity;
  d.say(`评标结果：第一中标候选人 ${ranked[0].bidder}，报价 ${formatYuan(ranked[0].totalPriceFen)} 元；公示至 ${formatShanghai(new Date(publicity.endsAt))}（不少于3日，TLR 54）`);
  await moveClockTo(new Date(new Date(publicity.endsAt).getTime() + 60_000));
  await d.api.call('POST', `${p}/award`, { token: d.agencyToken(), json: {}, expect: 201 });
  d.say('✓ 中标通知书发出：未中标人的保证金随即释放，2个工作日内退还本息 (losers’ deposits released)');
  await refundsSettled(d, (x) => x.bidder !== ranked[0].bidder);
  const now = (await d.api.call('GET', '/api/v1/time', { expect: 200 })).body.now;
  await d.api.call('POST', `${p}/contract`, { token: d.agencyToken(), json: { signedAt: now, amountFen: ranked[0].totalPriceFen }, expect: 201 });
  d.say(`✓ ${ranked[0].bidder} 签订合同：中标人的保证金释放并退还 (the winner’s deposit released)`);
  const view = await refundsSettled(d, () => true);

  const rows = [['投标人 (bidder)', '退还或不予退还的原因 (why)', '本金（元）', '利息（元）', '退至账户', '状态', '按期']];
  for (const dep of view.deposits as Json[]) {
    for (const r of dep.refunds as Json[]) {
      rows.push([dep.bidder, RELEASE_REASONS[r.reason] ?? r.reason, formatYuan(r.principalFen), r.interestFen === null ? '—' : formatYuan(r.interestFen), r.toAccountNo ?? '—', STATUS_LABELS[r.status] ?? r.status, r.onTime === null ? '—' : r.onTime ? '是' : '否']);
    }
  }
  for (const line of table(rows)) d.say(`  ${line}`);
  const sla = (await d.api.call('GET', `/api/v1/deposits/sla-report?from=2000-01-01&to=2099-12-31&tenderId=${d.tenderId}`, { token: d.regulatorToken(), expect: 200 })).body;
  const t = sla.totals;
  d.say(`保证金退还时效 (SLA)：应退 ${t.released} 笔，已退 ${t.paid} 笔，2个工作日内 ${t.paidOnTime} 笔（${(t.onTimeRate * 100).toFixed(1)}%），逾期 ${t.paidLate + t.overdue} 笔`);
  if (t.released === 0 || t.paidOnTime !== t.released) throw new StepFailed('有保证金未按期退还 (a refund was not paid on time)');
}

/** Waits until every refund of the bidders chosen is settled (paid, or forfeited where the law allows). */
async function refundsSettled(d: DepositDemo, which: (deposit: Json) => boolean): Promise<Json> {
  return pollFor('退款完成 (the refunds paid)', async () => {
    const view = (await d.api.call('GET', `/api/v1/tenders/${d.tenderId}/deposits`, { token: d.agencyToken(), expect: 200 })).body;
    const chosen = (view.deposits as Json[]).filter(which);
    const settled = chosen.every((x) => x.refunds.length > 0 && x.refunds.every((r: Json) => r.status === 'paid' || r.status === 'forfeited'));
    return settled ? view : null;
  });
}
