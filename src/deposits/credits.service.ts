/**
 * Money arriving: the bank's signed notification of each credit to a virtual sub-account (or, for one the bank never
 * notified, the line of its daily statement), verified, stored once by the bank's transaction id, matched to its
 * deposit by the account it landed in, and checked:
 * - paid after the bid deadline (the deposit must be in place with the bid; TLR 26);
 * - not from the bidder's registered basic account (TLR 26) — an alert;
 * - from an account that paid another bidder's deposit in the same tender (TLR 40(6): deemed collusion) — an alert
 *   naming both credits;
 * - landing in no known account — an alert, the money to be returned by hand.
 * A credit for a deposit already released (and no current bid for it) is refunded at once.
 */
import { z } from 'zod';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { MINUTE_MS } from '../shared/clock';
import type { ActionContext } from '../shared/access';
import { ValidationFailed } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository } from '../tenders/tenders.repository';
import { bidsRepository } from '../bids/bids.repository';
import type { IncomingTransfer } from '../bank/gateway';
import { signatureMatches } from '../bank/notification-signature';
import { NotificationReplayed, NotificationSignatureInvalid, NotificationStale } from './deposits.errors';
import { depositsRepository as repo, type CreditFinding } from './deposits.repository';
import type { DepositReleases } from './deposit-releases';

/** A notification signed longer ago than this (either way) is refused: a replay, or a clock to fix. */
export const NOTIFICATION_MAX_SKEW_MS = 5 * MINUTE_MS;

const IncomingTransferSchema = z.object({
  txnId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  virtualAccountNo: z.string().regex(/^[0-9A-Za-z-]{1,40}$/),
  payerAccountNo: z.string().regex(/^[0-9A-Za-z-]{1,40}$/),
  payerAccountName: z.string().min(1).max(200),
  payerBankName: z.string().min(1).max(200),
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  bookedAt: z.iso.datetime({ offset: true }),
});

export interface SignedNotification {
  rawBody: Buffer;
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

export class CreditService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly releases: DepositReleases,
    private readonly notifySecret: string,
  ) {}

  /** The bank's notification endpoint: verify, then store once. A refusal is recorded and raised, never silent. */
  async receive(ctx: ActionContext, n: SignedNotification): Promise<{ txnId: string; duplicate: boolean }> {
    const { rawBody, timestamp = '', nonce = '', signature = '' } = n;
    if (!nonce || !signatureMatches(this.notifySecret, timestamp, nonce, rawBody, signature)) {
      await this.refused(ctx, 'signature', { nonce: nonce.slice(0, 64) });
      throw NotificationSignatureInvalid();
    }
    const signedAt = Date.parse(timestamp);
    if (!Number.isFinite(signedAt) || Math.abs(this.clock.now().getTime() - signedAt) > NOTIFICATION_MAX_SKEW_MS) {
      await this.refused(ctx, 'stale', { nonce, timestamp: timestamp.slice(0, 40) });
      throw NotificationStale({ timestamp: timestamp.slice(0, 40) });
    }
    let transfer: IncomingTransfer;
    try {
      transfer = IncomingTransferSchema.parse(JSON.parse(rawBody.toString('utf8')));
    } catch {
      throw ValidationFailed({ issues: [{ path: 'body', message: '到账通知内容不符合约定格式 (not an incoming-transfer notification)' }] });
    }
    const outcome = await this.db.transaction(async (trx) => {
      if (!(await repo.rememberNonce(trx, nonce, transfer.txnId, this.clock.now()))) {
        // the same signed message again (a bank retrying a delivery whose answer it lost) changes nothing; the nonce
        // under another transaction would mean a forged or broken sender
        const existing = await repo.findCredit(trx, transfer.txnId);
        return existing ? 'duplicate' : 'replayed';
      }
      return (await this.ingest(trx, ctx, transfer, 'notification')) ? 'stored' : 'duplicate';
    });
    if (outcome === 'replayed') {
      await this.refused(ctx, 'nonce-reused', { nonce, txnId: transfer.txnId });
      throw NotificationReplayed();
    }
    return { txnId: transfer.txnId, duplicate: outcome === 'duplicate' };
  }

  private async refused(ctx: ActionContext, reason: string, fields: Record<string, unknown>): Promise<void> {
    await this.alerts.recordAndRaise(
      ctx,
      { action: 'bank.notification-refused', objectType: 'bank_notification', payload: { reason, ...fields } },
      { rule: 'bank-notification-refused', severity: 'high', title: '拒收银行到账通知（签名无效或疑似重放）', basis: 'EB 49', fields: { reason } },
    );
  }

  /**
   * Stores a credit once (by the bank's transaction id), matches and checks it, and raises what the checks find.
   * False when it was stored before. Runs in the caller's transaction (the notification's, or reconciliation's).
   */
  async ingest(trx: Runner, ctx: ActionContext, t: IncomingTransfer, source: 'notification' | 'statement'): Promise<boolean> {
    if (await repo.findCredit(trx, t.txnId)) return false;
    const account = await repo.findAccountByNo(trx, t.virtualAccountNo);
    const findings: CreditFinding[] = [];
    const bookedAt = new Date(t.bookedAt);
    let sharedWith: Array<{ txnId: string; bidderOrgId: string }> = [];
    if (!account) findings.push('UNMATCHED');
    else {
      const tender = (await tendersRepository.findTender(trx, account.tenderId))!;
      if (bookedAt.getTime() >= tender.bidDeadline.getTime()) findings.push('LATE');
      const bidder = await identityRepository.findOrganisation(trx, account.bidderOrgId);
      if (bidder?.basicAccountNo && bidder.basicAccountNo !== t.payerAccountNo) findings.push('NOT_BASIC_ACCOUNT');
      sharedWith = (await repo.creditsOfTender(trx, account.tenderId))
        .filter((c) => c.payerAccountNo === t.payerAccountNo && c.bidderOrgId !== account.bidderOrgId)
        .map((c) => ({ txnId: c.txnId, bidderOrgId: c.bidderOrgId }));
      if (sharedWith.length > 0) findings.push('SHARED_ACCOUNT');
    }
    const now = this.clock.now();
    await repo.insertCredit(trx, { ...t, source, bookedAt, receivedAt: now, depositAccountId: account?.id ?? null, findings });
    const event = await this.audit.append(trx, ctx, {
      action: 'deposit.credit',
      objectType: 'bank_transaction',
      objectId: t.txnId,
      tenderId: account?.tenderId ?? null,
      payload: {
        source,
        sectionId: account?.sectionId ?? null,
        bidderOrgId: account?.bidderOrgId ?? null,
        amountFen: t.amountFen,
        payerAccountNo: t.payerAccountNo,
        bookedAt: t.bookedAt,
        findings,
      },
    });
    const raise = (rule: string, severity: 'warning' | 'high', title: string, basis: string, fields: Record<string, unknown>) =>
      this.alerts.raise(trx, {
        rule,
        severity,
        title,
        basis,
        tenderId: account?.tenderId ?? null,
        subjectOrgId: account?.bidderOrgId ?? null,
        evidence: { auditSeqs: [event.seq], fields: { txnId: t.txnId, payerAccountNo: t.payerAccountNo, ...fields } },
      });
    if (findings.includes('UNMATCHED')) await raise('deposit-unmatched', 'warning', '到账资金未能匹配任何保证金子账户', 'TLR 26', { virtualAccountNo: t.virtualAccountNo });
    if (findings.includes('NOT_BASIC_ACCOUNT')) await raise('deposit-not-basic-account', 'warning', '投标保证金未从投标人基本账户转出', 'TLR 26', {});
    if (findings.includes('SHARED_ACCOUNT')) {
      await raise('deposit-shared-account', 'high', '不同投标人的投标保证金从同一账户转出（视为串通投标）', 'TLR 40(6)', {
        sharedWith,
        bidderOrgIds: [account!.bidderOrgId, ...new Set(sharedWith.map((s) => s.bidderOrgId))],
      });
    }
    if (account && (await repo.findRelease(trx, account.sectionId, account.bidderOrgId))) {
      const current = await bidsRepository.listCurrent(trx, account.tenderId, account.bidderOrgId);
      // money for a deposit already released goes straight back, unless a bid made since is waiting for it
      if (!current.some((b) => b.sectionId === account.sectionId)) {
        await this.releases.refundCredits(trx, account, 'paid-after-release', now);
      }
    }
    return true;
  }
}
