/**
 * The release of a deposit, by the event the law names: the award notice for the losers and the contract for the
 * winner (TLR 57; GPR 33, GP87 38), withdrawal before the deadline (TLR 35, GP87 38), a failed opening (流标, TLR 44),
 * the tender terminated (TLR 31; GP87 29), a bid withdrawn at the opening through no fault of its bidder (EB 31), or
 * no bid at all by the deadline. A release is called inside the transaction of the event that causes it, so the
 * refund rows and their jobs commit with it or not at all. Each refund is due by the end of the second working day
 * after the release (the platform's promise, stricter than the law's five).
 *
 * Forfeiture only where the law allows it — a bid revoked after the deadline (TLR 35; EB 31), a winner who refuses
 * to sign (TLR 74) — and always recorded with its reason and basis.
 */
import type { Runner } from '../db';
import type { Clock } from '../shared/clock';
import type { ActionContext } from '../shared/access';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import { bidsRepository } from '../bids/bids.repository';
import { depositsRepository as repo } from './deposits.repository';
import { REFUND_JOB, REFUND_WATCH_JOB } from './deposits.jobs';
import type { RefundDueDates } from './refund-due';

export type ReleaseReason =
  | 'award-notice'
  | 'contract-signed'
  | 'withdrawal'
  | 'failed-opening'
  | 'tender-terminated'
  | 'withdrawn-not-bidder-fault'
  | 'no-bid'
  | 'paid-after-release';

export type ForfeitReason = 'revoked-after-deadline' | 'winner-refused-to-sign';

const FORFEIT_BASIS: Record<ForfeitReason, string> = {
  'revoked-after-deadline': 'TLR 35; EB 31',
  'winner-refused-to-sign': 'TLR 74',
};

/** The platform's promise: refunded within this many working days of the release. */
export const REFUND_WORKING_DAYS = 2;

export interface ReleaseInput {
  tenderId: string;
  sectionId: string;
  bidderOrgId: string;
  bidId?: string | null;
  reason: ReleaseReason;
}

export class DepositReleases {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly due: RefundDueDates,
  ) {}

  /**
   * Releases the deposit of (section, bidder): records the release (the first reason stands), and gives every credit
   * not yet refunded its refund, due in two working days, with the jobs that pay and watch it. Idempotent: a second
   * release refunds only credits that arrived since.
   */
  async release(trx: Runner, ctx: ActionContext, r: ReleaseInput): Promise<void> {
    const now = await this.record(trx, ctx, 'deposit.release', r, {});
    await this.refundCredits(trx, r, r.reason, now);
  }

  /** The audit event and the release row (the first reason stands) of a release or a forfeiture; returns its time. */
  private async record(trx: Runner, ctx: ActionContext, action: string, r: Omit<ReleaseInput, 'reason'> & { reason: string }, extra: Record<string, unknown>): Promise<Date> {
    const now = this.clock.now();
    await this.audit.append(trx, ctx, {
      action,
      objectType: r.bidId ? 'bid' : 'section',
      objectId: r.bidId ?? r.sectionId,
      tenderId: r.tenderId,
      payload: { bidderOrgId: r.bidderOrgId, sectionId: r.sectionId, reason: r.reason, ...extra },
    });
    await repo.insertRelease(trx, { tenderId: r.tenderId, sectionId: r.sectionId, bidderOrgId: r.bidderOrgId, reason: r.reason, bidId: r.bidId ?? null, releasedAt: now });
    return now;
  }

  /** Every deposit of a tender, for one reason (the tender terminated, TLR 31). */
  async releaseTender(trx: Runner, ctx: ActionContext, tenderId: string, reason: ReleaseReason): Promise<void> {
    for (const a of await repo.accountsOfTender(trx, tenderId)) await this.release(trx, ctx, { ...a, reason });
  }

  /** At the deadline: deposits of those who hold an account but sent no bid for its section go back. */
  async releaseWithoutBid(trx: Runner, ctx: ActionContext, tenderId: string): Promise<void> {
    const bids = await bidsRepository.listCurrent(trx, tenderId);
    for (const a of await repo.accountsOfTender(trx, tenderId)) {
      if (!bids.some((b) => b.sectionId === a.sectionId && b.bidderOrgId === a.bidderOrgId)) await this.release(trx, ctx, { ...a, reason: 'no-bid' });
    }
  }

  /** Gives each credit of the account that has none its refund (or, with `forfeit`, its forfeiture). */
  async refundCredits(trx: Runner, r: Omit<ReleaseInput, 'reason'>, reason: string, now: Date, forfeit?: ForfeitReason): Promise<number> {
    const account = await repo.findAccount(trx, r.sectionId, r.bidderOrgId);
    if (!account) return 0; // no deposit account, nothing paid
    const credits = await repo.creditsOfAccount(trx, account.id);
    if (credits.length === 0) return 0;
    const { dueAt, estimated } = await this.due.dueAt(trx, now, REFUND_WORKING_DAYS);
    let created = 0;
    for (const c of credits) {
      const refund = await repo.insertRefund(trx, {
        creditTxnId: c.txnId,
        depositAccountId: account.id,
        fromAccountNo: account.accountNo,
        tenderId: account.tenderId,
        sectionId: account.sectionId,
        bidderOrgId: account.bidderOrgId,
        reason,
        releasedAt: now,
        dueAt,
        dueEstimated: estimated,
        principalFen: c.amountFen,
        status: forfeit ? 'forfeited' : 'due',
        forfeitBasis: forfeit ? FORFEIT_BASIS[forfeit] : null,
      });
      if (!refund) continue; // this credit already has its refund
      created += 1;
      if (forfeit) continue;
      await enqueueInTrx(trx, { ...REFUND_JOB, payload: { refundId: refund.id }, runAt: now });
      // halfway to the due time, an alert if it is still unpaid; at the due time, another (see refunds.service)
      const half = new Date(now.getTime() + (dueAt.getTime() - now.getTime()) / 2);
      await enqueueInTrx(trx, { ...REFUND_WATCH_JOB, payload: { refundId: refund.id, stage: 'at-risk' }, runAt: half });
      await enqueueInTrx(trx, { ...REFUND_WATCH_JOB, payload: { refundId: refund.id, stage: 'overdue' }, runAt: dueAt });
    }
    return created;
  }

  /** Keeps the deposit where the law allows it, recording why (TLR 35, TLR 74). */
  async forfeit(trx: Runner, ctx: ActionContext, r: Omit<ReleaseInput, 'reason'> & { reason: ForfeitReason }): Promise<void> {
    const now = await this.record(trx, ctx, 'deposit.forfeit', r, { basis: FORFEIT_BASIS[r.reason] });
    await this.refundCredits(trx, r, r.reason, now, r.reason);
  }
}
