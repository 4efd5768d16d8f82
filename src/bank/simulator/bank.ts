/**
 * The simulated bank's operations over its ledger: virtual sub-accounts, incoming credits (booked, then notified),
 * payouts (accepted pending, settled once after a delay), statements. HTTP lives in server.ts; faults that concern
 * the HTTP answer (failNext, timeoutNext) are applied there, faults that concern the books here.
 */
import crypto from 'node:crypto';
import type { Clock } from '../../shared/clock';
import { shanghaiDate } from '../../shared/time';
import type { IncomingTransfer, PayoutStatus, StatementEntry, TransferRequest } from '../gateway';
import type { Faults } from './faults';
import type { Ledger, VirtualAccount } from './ledger';
import type { Notifier } from './notifier';

export const SIM_BANK_NAME = '模拟银行 Simulated Bank';

/** A refusal the simulated bank answers with a 4xx. */
export class SimBankError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export type CreditInput = Omit<IncomingTransfer, 'txnId' | 'bookedAt'> & { bookedAt?: string };

export interface PayoutView {
  idempotencyKey: string;
  state: PayoutStatus['state'];
  amountFen: number;
  fromAccountNo: string;
  toAccountNo: string;
  toAccountName: string;
  bankTxnId: string | null;
  failureCode: PayoutStatus['failureCode'];
  requestedAt: string;
  settledAt: string | null;
  /** How often the platform asked for this key since the simulator started. */
  requests: number;
  /** How many debits were booked for this key: never more than 1. */
  bookings: number;
}

export interface LedgerView {
  accounts: Array<VirtualAccount & { balanceFen: number }>;
  credits: Array<IncomingTransfer & { dropped: boolean; deliveries: number; gaveUp: boolean }>;
  payouts: PayoutView[];
}

export class SimBank {
  private readonly settleTimers = new Map<string, NodeJS.Timeout>();
  private readonly requestCounts = new Map<string, number>();

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly faults: Faults,
    private readonly notifier: Notifier,
    private readonly log: (line: string) => void,
  ) {}

  /** After a restart: settle the payouts left pending and send the notifications never delivered. */
  resume(): void {
    for (const [key, payout] of this.ledger.payouts) if (payout.status.state === 'pending') this.scheduleSettle(key);
    for (const credit of this.ledger.credits.values()) {
      if (!credit.dropped && credit.deliveries === 0 && !credit.gaveUp) this.notifier.notify(credit.transfer);
    }
  }

  openVirtualAccount(reference: string, name: string): { accountNo: string; bankName: string } {
    const existing = this.ledger.accountByReference.get(reference);
    if (existing) return { accountNo: existing, bankName: SIM_BANK_NAME };
    const accountNo = this.newAccountNo(reference);
    this.ledger.append({ type: 'account', account: { accountNo, reference, name, openedAt: this.clock.now().toISOString() } });
    this.log(`account ${accountNo} opened for ${reference}`);
    return { accountNo, bankName: SIM_BANK_NAME };
  }

  /** Books an incoming transfer, then has it notified (unless a dropNext fault swallows the notification). */
  credit(input: CreditInput): IncomingTransfer {
    if (!this.ledger.accounts.has(input.virtualAccountNo)) {
      throw new SimBankError('ACCOUNT_NOT_FOUND', 404, `没有这个虚拟子账户 (no virtual sub-account ${input.virtualAccountNo})`);
    }
    const transfer: IncomingTransfer = {
      txnId: newTxnId('C'),
      virtualAccountNo: input.virtualAccountNo,
      payerAccountNo: input.payerAccountNo,
      payerAccountName: input.payerAccountName,
      payerBankName: input.payerBankName,
      amountFen: input.amountFen,
      bookedAt: input.bookedAt ?? this.clock.now().toISOString(),
    };
    const dropped = this.faults.take('dropNext');
    this.ledger.append({ type: 'credit', transfer, dropped });
    this.log(`credit ${transfer.txnId}: ${transfer.amountFen} fen to ${transfer.virtualAccountNo}${dropped ? ' (notification dropped)' : ''}`);
    if (!dropped) this.notifier.notify(transfer);
    return transfer;
  }

  /** Accepts a payout, or answers the status of the one already accepted under its key: never books it twice. */
  requestPayout(req: TransferRequest): PayoutStatus {
    this.requestCounts.set(req.idempotencyKey, (this.requestCounts.get(req.idempotencyKey) ?? 0) + 1);
    const existing = this.ledger.payouts.get(req.idempotencyKey);
    if (existing) {
      const first = existing.request;
      if (first.fromAccountNo !== req.fromAccountNo || first.toAccountNo !== req.toAccountNo || first.amountFen !== req.amountFen) {
        throw new SimBankError('IDEMPOTENCY_KEY_REUSED', 409, `幂等键已用于另一笔转账 (idempotency key ${req.idempotencyKey} was used for a different transfer)`);
      }
      return existing.status;
    }
    if (!this.ledger.accounts.has(req.fromAccountNo)) {
      throw new SimBankError('UNKNOWN_ACCOUNT', 422, `付款账户不是本行的虚拟子账户 (${req.fromAccountNo} is not a virtual sub-account here)`);
    }
    this.ledger.append({ type: 'payout', request: req, requestedAt: this.clock.now().toISOString() });
    this.log(`payout ${req.idempotencyKey}: ${req.amountFen} fen from ${req.fromAccountNo} to ${req.toAccountNo} accepted`);
    this.scheduleSettle(req.idempotencyKey);
    return this.ledger.payouts.get(req.idempotencyKey)!.status;
  }

  payoutStatus(idempotencyKey: string): PayoutStatus | null {
    return this.ledger.payouts.get(idempotencyKey)?.status ?? null;
  }

  /** Every credit and debit booked on one Asia/Shanghai day. */
  statement(date: string): StatementEntry[] {
    const credits: StatementEntry[] = [...this.ledger.credits.values()].map(({ transfer: t }) => ({
      txnId: t.txnId,
      direction: 'credit',
      virtualAccountNo: t.virtualAccountNo,
      counterpartyAccountNo: t.payerAccountNo,
      counterpartyName: t.payerAccountName,
      amountFen: t.amountFen,
      bookedAt: t.bookedAt,
      reference: null,
    }));
    return [...credits, ...this.ledger.debits]
      .filter((e) => shanghaiDate(new Date(e.bookedAt)) === date)
      .sort((a, b) => Date.parse(a.bookedAt) - Date.parse(b.bookedAt) || a.txnId.localeCompare(b.txnId));
  }

  view(): LedgerView {
    return {
      accounts: [...this.ledger.accounts.values()].map((a) => ({ ...a, balanceFen: this.ledger.balanceFen(a.accountNo) })),
      credits: [...this.ledger.credits.values()].map((c) => ({ ...c.transfer, dropped: c.dropped, deliveries: c.deliveries, gaveUp: c.gaveUp })),
      payouts: [...this.ledger.payouts.entries()].map(([key, p]) => ({
        idempotencyKey: key,
        state: p.status.state,
        amountFen: p.request.amountFen,
        fromAccountNo: p.request.fromAccountNo,
        toAccountNo: p.request.toAccountNo,
        toAccountName: p.request.toAccountName,
        bankTxnId: p.status.bankTxnId,
        failureCode: p.status.failureCode,
        requestedAt: p.requestedAt,
        settledAt: p.status.settledAt,
        requests: this.requestCounts.get(key) ?? 0,
        bookings: this.ledger.bookings(key),
      })),
    };
  }

  close(): void {
    for (const t of this.settleTimers.values()) clearTimeout(t);
    this.settleTimers.clear();
  }

  private scheduleSettle(key: string): void {
    const timer = setTimeout(() => {
      this.settleTimers.delete(key);
      try {
        this.settle(key);
      } catch (err) {
        this.log(`payout ${key} not settled: ${err instanceof Error ? err.message : err}`);
      }
    }, this.faults.current.payoutDelayMs);
    this.settleTimers.set(key, timer);
  }

  /** Pays or refuses a pending payout, once (see interestAllowanceFen for the funds rule): the payee's account state first, then the virtual account's funds. */
  private settle(key: string): void {
    const payout = this.ledger.payouts.get(key);
    if (!payout || payout.status.state !== 'pending') return;
    const req = payout.request;
    const settledAt = this.clock.now().toISOString();
    const failureCode =
      this.faults.payeeFailure(req.toAccountNo) ?? (this.ledger.balanceFen(req.fromAccountNo) + interestAllowanceFen(this.ledger.balanceFen(req.fromAccountNo)) < req.amountFen ? 'INSUFFICIENT_FUNDS' : null);
    if (failureCode) {
      this.ledger.append({ type: 'settle', status: { idempotencyKey: key, state: 'failed', bankTxnId: null, failureCode, settledAt }, entry: null });
      this.log(`payout ${key} failed: ${failureCode}`);
      return;
    }
    const bankTxnId = newTxnId('D');
    const entry: StatementEntry = {
      txnId: bankTxnId,
      direction: 'debit',
      virtualAccountNo: req.fromAccountNo,
      counterpartyAccountNo: req.toAccountNo,
      counterpartyName: req.toAccountName,
      amountFen: req.amountFen,
      bookedAt: settledAt,
      reference: key,
    };
    this.ledger.append({ type: 'settle', status: { idempotencyKey: key, state: 'succeeded', bankTxnId, failureCode: null, settledAt }, entry });
    this.log(`payout ${key} paid: ${bankTxnId}`);
  }

  /** A stable number for a reference (so even an in-memory simulator restarted gives the same one), unique here. */
  private newAccountNo(reference: string): string {
    for (let salt = 0; ; salt++) {
      const digest = crypto.createHash('sha256').update(`${salt}:${reference}`).digest();
      const accountNo = '6216' + (digest.readBigUInt64BE(0) % 10n ** 14n).toString().padStart(14, '0');
      if (!this.ledger.accounts.has(accountNo)) return accountNo;
    }
  }
}

/** Bank transaction ids: random, so a restarted in-memory simulator never reuses one the platform has seen. */
function newTxnId(prefix: 'C' | 'D'): string {
  return `SIM${prefix}${crypto.randomBytes(8).toString('hex').toUpperCase()}`;
}

/**
 * A virtual sub-account is a ledger within the trading centre's deposit account, on which the bank pays interest: a
 * refund of principal plus interest may exceed the sub-account's balance by the interest, here allowed up to 1% of
 * the balance (years of interest at a demand-deposit rate). Anything beyond is INSUFFICIENT_FUNDS.
 */
export function interestAllowanceFen(balanceFen: number): number {
  return balanceFen > 0 ? Math.floor(balanceFen / 100) : 0;
}
