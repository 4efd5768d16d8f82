/**
 * The bank, as the platform sees it: a bank-enterprise direct connection (银企直连) to the trading centre's deposit
 * account. The platform opens one virtual sub-account per (section, bidder) so an incoming transfer names its deposit
 * by where it lands; the bank pushes a signed notification for each credit; payouts (refunds) are transfers with an
 * idempotency key whose outcome arrives asynchronously; a daily statement lists every booking of a day.
 *
 * Implementations: HttpBankGateway (http-gateway.ts) speaks to the bank simulator (simulator/, `npm run bank:sim`)
 * and is the shape a real bank adapter takes. Amounts are integer fen; dates are Asia/Shanghai calendar days.
 */

/** Why a bank refuses a payout; the first two send a refund to the bidder's registered refund account instead. */
export type PayoutFailureCode = 'ACCOUNT_CLOSED' | 'ACCOUNT_FROZEN' | 'ACCOUNT_NOT_FOUND' | 'INSUFFICIENT_FUNDS' | 'REJECTED';

export type PayoutState = 'pending' | 'succeeded' | 'failed';

export interface PayoutStatus {
  idempotencyKey: string;
  state: PayoutState;
  /** The bank's transaction id once booked (succeeded). */
  bankTxnId: string | null;
  failureCode: PayoutFailureCode | null;
  /** When the bank booked or refused it (ISO 8601), null while pending. */
  settledAt: string | null;
}

export interface TransferRequest {
  /** The platform's refund id: the same key never pays twice, however often it is sent. */
  idempotencyKey: string;
  /** The virtual sub-account the deposit sits in. */
  fromAccountNo: string;
  toAccountNo: string;
  toAccountName: string;
  toBankName: string;
  amountFen: number;
  /** 附言, shown on the payee's statement. */
  memo: string;
}

/** A credit to a virtual sub-account, as the bank notifies it (the body it signs). */
export interface IncomingTransfer {
  /** The bank's transaction id: unique, the notification's identity. */
  txnId: string;
  virtualAccountNo: string;
  payerAccountNo: string;
  payerAccountName: string;
  payerBankName: string;
  amountFen: number;
  /** When the bank booked it (ISO 8601): this, not the notification's arrival, is when the deposit was paid. */
  bookedAt: string;
}

export interface StatementEntry {
  txnId: string;
  direction: 'credit' | 'debit';
  virtualAccountNo: string;
  counterpartyAccountNo: string;
  counterpartyName: string;
  amountFen: number;
  bookedAt: string;
  /** For a debit, the payout's idempotency key. */
  reference: string | null;
}

export interface BankGateway {
  /** Opens a virtual sub-account for `reference` (idempotent: the same reference gets the same account). */
  openVirtualAccount(input: { reference: string; name: string }): Promise<{ accountNo: string; bankName: string }>;
  /**
   * Asks for a payout. Idempotent by key: a repeat answers the first request's current status and never pays again.
   * May throw BankUnavailable (timeout, connection refused, 5xx): the caller retries with the same key.
   */
  transfer(req: TransferRequest): Promise<PayoutStatus>;
  /** The current status of a payout, or null if the bank never received it. May throw BankUnavailable. */
  payoutStatus(idempotencyKey: string): Promise<PayoutStatus | null>;
  /** Every booking of one Asia/Shanghai day (YYYY-MM-DD). May throw BankUnavailable. */
  statement(date: string): Promise<StatementEntry[]>;
}

/** The bank could not be reached or did not answer in time: nothing is known of the request; retry with the same key. */
export class BankUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BankUnavailable';
  }
}

/**
 * Notifications are signed with HMAC-SHA256 under a secret shared with the bank, over
 * `${timestamp}.${nonce}.${rawBody}`, sent as headers X-Bank-Timestamp (ISO 8601), X-Bank-Nonce and
 * X-Bank-Signature (hex). See notification-signature.ts.
 */
export const NOTIFICATION_HEADERS = { timestamp: 'x-bank-timestamp', nonce: 'x-bank-nonce', signature: 'x-bank-signature' } as const;
