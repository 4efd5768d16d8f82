/**
 * What a test asks the simulated bank to get wrong. Counters (`…Next`) are used up one event at a time; settings
 * hold until changed or reset. None of this is persisted: a restarted simulator behaves.
 */
import { z } from 'zod';
import type { PayoutFailureCode } from '../gateway';

export type PayeeAccountState = 'open' | 'closed' | 'frozen' | 'not-found';

const count = z.number().int().min(0);

export const FaultPatchSchema = z.strictObject({
  /** Book the next n credits but never notify them: only the statement shows them. */
  dropNext: count.optional(),
  /** Notify each of the next n credits twice (each delivery with its own nonce, as a bank resending). */
  duplicateNext: count.optional(),
  /** Hold notifications for this long before sending them. */
  delayMs: count.optional(),
  /** Send held notifications newest first (held for `delayMs`, or REORDER_WINDOW_MS without it). */
  reorder: z.boolean().optional(),
  /** Sign the next n delivery attempts wrongly (a retry signs correctly again). */
  badSignatureNext: count.optional(),
  /** Accept and book the next n payout requests, then never answer: the client times out not knowing. */
  timeoutNext: count.optional(),
  /** Answer the next n payout requests 503 without booking them. */
  failNext: count.optional(),
  /** How long a payout stays pending before it settles (real time). */
  payoutDelayMs: count.optional(),
  /** Payee accounts' states; 'open' clears one. */
  accounts: z.record(z.string().min(1), z.enum(['open', 'closed', 'frozen', 'not-found'])).optional(),
});
export type FaultPatch = z.infer<typeof FaultPatchSchema>;

export type Counter = 'dropNext' | 'duplicateNext' | 'badSignatureNext' | 'timeoutNext' | 'failNext';

export interface FaultState {
  dropNext: number;
  duplicateNext: number;
  delayMs: number;
  reorder: boolean;
  badSignatureNext: number;
  timeoutNext: number;
  failNext: number;
  payoutDelayMs: number;
  accounts: Record<string, Exclude<PayeeAccountState, 'open'>>;
}

/** Without `delayMs`, how long `reorder` holds notifications to have something to reorder. */
export const REORDER_WINDOW_MS = 200;

const PAYEE_FAILURE: Record<Exclude<PayeeAccountState, 'open'>, PayoutFailureCode> = {
  closed: 'ACCOUNT_CLOSED',
  frozen: 'ACCOUNT_FROZEN',
  'not-found': 'ACCOUNT_NOT_FOUND',
};

export class Faults {
  private state: FaultState;

  constructor(private readonly defaults: { payoutDelayMs: number }) {
    this.state = this.initial();
  }

  get current(): Readonly<FaultState> {
    return this.state;
  }

  update(patch: FaultPatch): void {
    const { accounts, ...rest } = patch;
    for (const [key, value] of Object.entries(rest)) if (value !== undefined) (this.state as unknown as Record<string, unknown>)[key] = value;
    for (const [accountNo, state] of Object.entries(accounts ?? {})) {
      if (state === 'open') delete this.state.accounts[accountNo];
      else this.state.accounts[accountNo] = state;
    }
  }

  reset(): void {
    this.state = this.initial();
  }

  /** Uses up one of a counter: true if the fault applies to this event. */
  take(counter: Counter): boolean {
    if (this.state[counter] <= 0) return false;
    this.state[counter] -= 1;
    return true;
  }

  /** Why the bank refuses to pay into `accountNo`, if it does. */
  payeeFailure(accountNo: string): PayoutFailureCode | null {
    const state = this.state.accounts[accountNo];
    return state ? PAYEE_FAILURE[state] : null;
  }

  /** How long notifications are held now, 0 if they go at once. */
  holdMs(): number {
    if (this.state.delayMs > 0) return this.state.delayMs;
    return this.state.reorder ? REORDER_WINDOW_MS : 0;
  }

  private initial(): FaultState {
    return {
      dropNext: 0,
      duplicateNext: 0,
      delayMs: 0,
      reorder: false,
      badSignatureNext: 0,
      timeoutNext: 0,
      failNext: 0,
      payoutDelayMs: this.defaults.payoutDelayMs,
      accounts: {},
    };
  }
}
