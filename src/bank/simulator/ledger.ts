/**
 * The simulator's own books: the source of truth for tests that check every refund was paid exactly once. State is
 * built only by applying records; with a file, each record is appended as one JSON line and fsynced before `append`
 * returns (so before the HTTP answer), and the file is replayed at start, so a restarted simulator keeps its history.
 * Appends are synchronous on purpose: a check and the booking that follows it can never interleave with another.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingTransfer, PayoutStatus, StatementEntry, TransferRequest } from '../gateway';

export interface VirtualAccount {
  accountNo: string;
  reference: string;
  name: string;
  openedAt: string;
}

export type LedgerRecord =
  | { type: 'account'; account: VirtualAccount }
  /** `dropped`: booked, but its notification is never sent (only the statement shows it). */
  | { type: 'credit'; transfer: IncomingTransfer; dropped: boolean }
  /** The platform answered 2xx to a notification of it, or the notifier gave up. */
  | { type: 'delivery'; txnId: string; outcome: 'delivered' | 'gave-up' }
  | { type: 'payout'; request: TransferRequest; requestedAt: string }
  /** A payout settles once: succeeded books the debit `entry`, failed carries the code. */
  | { type: 'settle'; status: PayoutStatus; entry: StatementEntry | null };

export interface CreditState {
  transfer: IncomingTransfer;
  dropped: boolean;
  /** 2xx answers the platform gave to notifications of it. */
  deliveries: number;
  gaveUp: boolean;
}

export interface PayoutRecordState {
  request: TransferRequest;
  requestedAt: string;
  status: PayoutStatus;
}

export class LedgerCorrupt extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`bank simulator ledger ${path.basename(file)} line ${line}: ${reason}`);
    this.name = 'LedgerCorrupt';
  }
}

export class Ledger {
  readonly accounts = new Map<string, VirtualAccount>();
  readonly accountByReference = new Map<string, string>();
  readonly credits = new Map<string, CreditState>();
  readonly payouts = new Map<string, PayoutRecordState>();
  /** Every debit booked, in booking order; a key must appear at most once. */
  readonly debits: StatementEntry[] = [];
  private readonly balances = new Map<string, number>();
  private fd: number | null = null;

  /** An in-memory ledger, or one kept in `file` (created if missing, replayed if present). */
  static open(file: string | null): Ledger {
    const ledger = new Ledger();
    if (file) ledger.attach(file);
    return ledger;
  }

  append(record: LedgerRecord): void {
    if (this.fd !== null) {
      const line = Buffer.from(JSON.stringify(record) + '\n');
      let written = 0;
      while (written < line.length) written += fs.writeSync(this.fd, line, written);
      fs.fsyncSync(this.fd);
    }
    this.apply(record);
  }

  balanceFen(accountNo: string): number {
    return this.balances.get(accountNo) ?? 0;
  }

  /** How many debits were booked for a payout key: the simulator's promise is that this never exceeds 1. */
  bookings(idempotencyKey: string): number {
    return this.debits.filter((d) => d.reference === idempotencyKey).length;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private attach(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const created = !fs.existsSync(file);
    if (!created) this.replay(file);
    this.fd = fs.openSync(file, 'a');
    if (created) {
      fs.fsyncSync(this.fd);
      syncDirectory(path.dirname(file));
    }
  }

  private replay(file: string): void {
    let text = fs.readFileSync(file, 'utf8');
    // A crash in the middle of an append leaves a torn last line with no newline: that record was never answered,
    // so it is cut off rather than kept for the next append to run into.
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline !== text.length - 1) {
      text = text.slice(0, lastNewline + 1);
      fs.truncateSync(file, Buffer.byteLength(text));
    }
    const lines = text.split('\n').slice(0, -1);
    lines.forEach((line, i) => {
      try {
        this.apply(JSON.parse(line) as LedgerRecord);
      } catch (err) {
        throw new LedgerCorrupt(file, i + 1, err instanceof Error ? err.message : String(err));
      }
    });
  }

  private apply(record: LedgerRecord): void {
    switch (record.type) {
      case 'account':
        this.accounts.set(record.account.accountNo, record.account);
        this.accountByReference.set(record.account.reference, record.account.accountNo);
        return;
      case 'credit':
        this.credits.set(record.transfer.txnId, { transfer: record.transfer, dropped: record.dropped, deliveries: 0, gaveUp: false });
        this.addToBalance(record.transfer.virtualAccountNo, record.transfer.amountFen);
        return;
      case 'delivery': {
        const credit = this.credits.get(record.txnId);
        if (!credit) return;
        if (record.outcome === 'delivered') credit.deliveries += 1;
        else credit.gaveUp = true;
        return;
      }
      case 'payout':
        this.payouts.set(record.request.idempotencyKey, {
          request: record.request,
          requestedAt: record.requestedAt,
          status: { idempotencyKey: record.request.idempotencyKey, state: 'pending', bankTxnId: null, failureCode: null, settledAt: null },
        });
        return;
      case 'settle': {
        const payout = this.payouts.get(record.status.idempotencyKey);
        if (payout) payout.status = record.status;
        if (record.entry) {
          this.debits.push(record.entry);
          this.addToBalance(record.entry.virtualAccountNo, -record.entry.amountFen);
        }
        return;
      }
      default:
        throw new Error(`unknown ledger record ${(record as { type: unknown }).type}`);
    }
  }

  private addToBalance(accountNo: string, fen: number): void {
    this.balances.set(accountNo, this.balanceFen(accountNo) + fen);
  }
}

/** A new file's name is durable only once its directory is synced. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse to fsync a directory; the records themselves are still synced.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
