/**
 * Paying refunds: principal plus interest at the configured demand-deposit rate (actual days / 360, from the day the
 * deposit was booked to the day it is refunded; TLR 57: "with bank interest"), to the account that paid it.
 *
 * Exactly once: before the first request the amount, the payee and the idempotency key are fixed in the refund's
 * row, so whatever happens afterwards — a timeout, a crash between the bank's answer and our commit, a job delivered
 * twice — every try asks the bank for the same payout under the same key, and the bank books it once. A payee
 * account the bank reports closed or frozen falls back to the bidder's registered basic account under a second key.
 * A refund still unpaid halfway to its due time, and at it, raises an alert.
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { shanghaiDayNumber } from '../shared/time';
import type { ActionContext } from '../shared/access';
import type { BlobStore } from '../shared/blobs';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository } from '../tenders/tenders.repository';
import { BankUnavailable, type BankGateway, type PayoutStatus, type TransferRequest } from '../bank/gateway';
import { renderRefundVoucher } from '../documents/refund-voucher';
import { depositsRepository as repo, type Refund } from './deposits.repository';
import { REFUND_JOB, VOUCHER_JOB } from './deposits.jobs';

/** Closed or frozen: the payer's account can't take the money back, so it goes to the registered basic account. */
const FALLBACK_CODES = new Set(['ACCOUNT_CLOSED', 'ACCOUNT_FROZEN', 'ACCOUNT_NOT_FOUND']);
/** How long one job waits for a pending payout to settle before it hands over to a later job. */
const SETTLE_POLLS = 10;
const SETTLE_POLL_MS = 200;
/**
 * Without a bank (no BANK_URL), and while a payout stays pending, the refund is looked at again this much later
 * (platform time). When the bank does not answer, the wait doubles with each unanswered request, up to
 * MAX_RECHECK_MS, under the same key, for as long as it takes; the watch raises an alert well before that can make
 * the refund late.
 */
const RECHECK_MS = 30_000;
const MAX_RECHECK_MS = 30 * 60_000;

/** Interest in fen: principal × rate × days / 360, rounded down (rate in basis points a year). */
export function interestFen(principalFen: number, rateBp: number, days: number): number {
  if (days <= 0 || rateBp <= 0) return 0;
  return Number((BigInt(principalFen) * BigInt(rateBp) * BigInt(days)) / 3_600_000n);
}

export class RefundService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly blobs: BlobStore,
    private readonly bank: BankGateway | null,
    /** The demand-deposit rate, basis points a year (35 = 0.35%). */
    private readonly interestRateBp: number,
  ) {}

  /** The refund job: fix, send, settle. Safe to run any number of times, from any point it was interrupted. */
  async pay(refundId: string, ctx: ActionContext): Promise<void> {
    const found = await repo.findRefund(this.db, refundId);
    if (!found || (found.status !== 'due' && found.status !== 'sending')) return;
    if (!this.bank) return this.recheckLater(found.id);
    const r: Refund = found.status === 'due' ? await this.fix(found, ctx) : found;
    if (r.status !== 'sending') return; // another run got there first
    try {
      await this.send(this.bank, r, ctx);
    } catch (err) {
      if (!(err instanceof BankUnavailable)) throw err;
      const unanswered = r.unanswered + 1;
      await repo.updateRefund(this.db, r.id, { unanswered });
      return this.recheckLater(r.id, Math.min(RECHECK_MS * 2 ** (unanswered - 1), MAX_RECHECK_MS));
    }
  }

  /** Sends the fixed request and follows it to its end: paid, fallen back and paid, or failed. */
  private async send(bank: BankGateway, first: Refund, ctx: ActionContext): Promise<void> {
    let r = first;
    for (;;) {
      let st = await bank.transfer(this.request(r)); // the same request under the same key, however often
      if (r.unanswered > 0) await repo.updateRefund(this.db, r.id, { unanswered: 0 });
      for (let i = 0; st.state === 'pending' && i < SETTLE_POLLS; i++) {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
        st = (await bank.payoutStatus(r.idempotencyKey!)) ?? st;
      }
      if (st.state === 'pending') return this.recheckLater(r.id);
      if (st.state === 'succeeded') return this.markPaid(r, st, ctx);
      const next: Refund | null = !r.fallback && FALLBACK_CODES.has(st.failureCode ?? '') ? await this.toFallback(r, st, ctx) : null;
      if (!next) return this.markFailed(r, st.failureCode ?? 'REJECTED', ctx);
      r = next;
    }
  }

  private request(r: Refund): TransferRequest {
    return {
      idempotencyKey: r.idempotencyKey!,
      fromAccountNo: r.fromAccountNo,
      toAccountNo: r.toAccountNo!,
      toAccountName: r.toAccountName!,
      toBankName: r.toBankName!,
      amountFen: r.principalFen + (r.interestFen ?? 0),
      memo: `退还投标保证金 ${r.id.slice(0, 8)}`,
    };
  }

  /** Fixes amount, payee and key in the row before anything is sent (status due → sending). */
  private async fix(r: Refund, ctx: ActionContext): Promise<Refund> {
    return this.db.transaction(async (trx) => {
      const locked = (await repo.findRefund(trx, r.id, true))!;
      if (locked.status !== 'due') return locked;
      const credit = (await repo.findCredit(trx, locked.creditTxnId))!;
      const days = shanghaiDayNumber(this.clock.now()) - shanghaiDayNumber(credit.bookedAt);
      const interest = interestFen(locked.principalFen, this.interestRateBp, days);
      const patch = {
        status: 'sending',
        interest_fen: interest,
        interest_days: Math.max(days, 0),
        interest_rate_bp: this.interestRateBp,
        to_account_no: credit.payerAccountNo,
        to_account_name: credit.payerAccountName,
        to_bank_name: credit.payerBankName,
        idempotency_key: locked.id,
        sends: locked.sends + 1,
      };
      await repo.updateRefund(trx, locked.id, patch);
      await this.audit.append(trx, ctx, {
        action: 'deposit.refund.send',
        objectType: 'refund',
        objectId: locked.id,
        tenderId: locked.tenderId,
        payload: { bidderOrgId: locked.bidderOrgId, principalFen: locked.principalFen, interestFen: interest, interestDays: patch.interest_days, toAccountNo: credit.payerAccountNo },
      });
      return (await repo.findRefund(trx, locked.id))!;
    });
  }

  private async toFallback(r: Refund, st: PayoutStatus, ctx: ActionContext): Promise<Refund | null> {
    return this.db.transaction(async (trx) => {
      const locked = (await repo.findRefund(trx, r.id, true))!;
      if (locked.status !== 'sending' || locked.fallback) return null;
      const org = (await identityRepository.findOrganisation(trx, locked.bidderOrgId))!;
      if (!org.basicAccountNo || org.basicAccountNo === locked.toAccountNo) return null;
      await repo.updateRefund(trx, locked.id, {
        fallback: true,
        to_account_no: org.basicAccountNo,
        to_account_name: org.name,
        to_bank_name: org.basicAccountBank ?? '',
        idempotency_key: `${locked.id}.fallback`,
        sends: locked.sends + 1,
      });
      await this.audit.append(trx, ctx, {
        action: 'deposit.refund.fallback',
        objectType: 'refund',
        objectId: locked.id,
        tenderId: locked.tenderId,
        payload: { failureCode: st.failureCode, from: locked.toAccountNo, to: org.basicAccountNo },
      });
      return (await repo.findRefund(trx, locked.id))!;
    });
  }

  private async markPaid(r: Refund, st: PayoutStatus, ctx: ActionContext): Promise<void> {
    await this.db.transaction(async (trx) => {
      const locked = (await repo.findRefund(trx, r.id, true))!;
      if (locked.status !== 'sending') return;
      const paidAt = st.settledAt ? new Date(st.settledAt) : this.clock.now();
      await repo.updateRefund(trx, locked.id, { status: 'paid', bank_txn_id: st.bankTxnId, paid_at: paidAt });
      await this.audit.append(trx, ctx, {
        action: 'deposit.refund.paid',
        objectType: 'refund',
        objectId: locked.id,
        tenderId: locked.tenderId,
        payload: { bidderOrgId: locked.bidderOrgId, bankTxnId: st.bankTxnId, amountFen: locked.principalFen + (locked.interestFen ?? 0), onTime: paidAt <= locked.dueAt },
      });
      await enqueueInTrx(trx, { ...VOUCHER_JOB, payload: { refundId: locked.id }, runAt: this.clock.now() });
    });
  }

  private async markFailed(r: Refund, code: string, ctx: ActionContext): Promise<void> {
    const failed = await this.db.transaction(async (trx) => {
      const locked = (await repo.findRefund(trx, r.id, true))!;
      if (locked.status !== 'sending') return false;
      await repo.updateRefund(trx, locked.id, { status: 'failed', failure_code: code });
      return true;
    });
    if (!failed) return;
    await this.alerts.recordAndRaise(
      ctx,
      { action: 'deposit.refund.failed', objectType: 'refund', objectId: r.id, tenderId: r.tenderId, payload: { failureCode: code, bidderOrgId: r.bidderOrgId } },
      { rule: 'refund-failed', severity: 'high', title: '保证金退款被银行拒绝，需人工处理', basis: 'TLR 57; GP87 38', fields: { refundId: r.id, failureCode: code } },
    );
  }

  private async recheckLater(refundId: string, afterMs = RECHECK_MS): Promise<void> {
    await this.db.transaction((trx) => enqueueInTrx(trx, { ...REFUND_JOB, payload: { refundId }, runAt: new Date(this.clock.now().getTime() + afterMs) }));
  }

  /** Halfway to the due time ('at-risk') and at it ('overdue'): an alert if the refund is still unpaid. */
  async watch(refundId: string, stage: 'at-risk' | 'overdue', ctx: ActionContext): Promise<void> {
    const r = await repo.findRefund(this.db, refundId);
    if (!r || r.status === 'paid' || r.status === 'forfeited') return;
    const overdue = stage === 'overdue';
    await this.alerts.recordAndRaise(
      ctx,
      { action: `deposit.refund.${stage}`, objectType: 'refund', objectId: r.id, tenderId: r.tenderId, payload: { status: r.status, dueAt: r.dueAt.toISOString() } },
      {
        rule: overdue ? 'refund-overdue' : 'refund-at-risk',
        severity: overdue ? 'critical' : 'high',
        title: overdue ? '保证金退款已逾期（超过2个工作日）' : '保证金退款临近期限仍未支付',
        basis: '平台承诺2个工作日内退还; GP87 38; TLR 57',
        fields: { refundId: r.id, status: r.status, dueAt: r.dueAt.toISOString() },
      },
    );
  }

  /** The 保证金退还凭证 of a paid refund, kept in the blob store. */
  async renderVoucher(refundId: string): Promise<void> {
    const r = await repo.findRefund(this.db, refundId);
    if (!r || r.status !== 'paid' || r.voucherBlobKey) return;
    const tender = (await tendersRepository.findTender(this.db, r.tenderId))!;
    const section = (await tendersRepository.listSections(this.db, r.tenderId)).find((s) => s.id === r.sectionId)!;
    const bidder = (await identityRepository.findOrganisation(this.db, r.bidderOrgId))!;
    const credit = (await repo.findCredit(this.db, r.creditTxnId))!;
    const pdf = await renderRefundVoucher({ refund: r, credit, tender: { code: tender.code, name: tender.name }, section: { seq: section.seq, name: section.name }, bidderName: bidder.name });
    const key = `vouchers/${r.tenderId}/${r.id}.pdf`;
    await this.blobs.put(key, pdf);
    await repo.updateRefund(this.db, r.id, { voucher_blob_key: key });
  }
}
