/** The only knex for deposit accounts, credits, notification nonces, releases and refunds. */
import type { Runner } from '../db';

export interface DepositAccount {
  id: string;
  tenderId: string;
  sectionId: string;
  bidderOrgId: string;
  accountNo: string;
  bankName: string;
  requiredFen: number;
  openedAt: Date;
}

export type CreditFinding = 'LATE' | 'NOT_BASIC_ACCOUNT' | 'SHARED_ACCOUNT' | 'UNMATCHED';

export interface Credit {
  txnId: string;
  source: 'notification' | 'statement';
  virtualAccountNo: string;
  depositAccountId: string | null;
  payerAccountNo: string;
  payerAccountName: string;
  payerBankName: string;
  amountFen: number;
  bookedAt: Date;
  receivedAt: Date;
  findings: CreditFinding[];
}

export interface Release {
  sectionId: string;
  bidderOrgId: string;
  tenderId: string;
  reason: string;
  bidId: string | null;
  releasedAt: Date;
}

export type RefundStatus = 'due' | 'sending' | 'paid' | 'failed' | 'forfeited';

export interface Refund {
  id: string;
  creditTxnId: string;
  depositAccountId: string;
  fromAccountNo: string;
  tenderId: string;
  sectionId: string;
  bidderOrgId: string;
  reason: string;
  releasedAt: Date;
  dueAt: Date;
  dueEstimated: boolean;
  principalFen: number;
  interestFen: number | null;
  interestDays: number | null;
  interestRateBp: number | null;
  toAccountNo: string | null;
  toAccountName: string | null;
  toBankName: string | null;
  fallback: boolean;
  idempotencyKey: string | null;
  status: RefundStatus;
  failureCode: string | null;
  forfeitBasis: string | null;
  bankTxnId: string | null;
  paidAt: Date | null;
  sends: number;
  unanswered: number;
  voucherBlobKey: string | null;
}

type Row = Record<string, any>;
const date = (v: unknown) => (v ? new Date(v as string) : null);
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const account = (r: Row): DepositAccount => ({
  id: r.id,
  tenderId: r.tender_id,
  sectionId: r.section_id,
  bidderOrgId: r.bidder_org_id,
  accountNo: r.account_no,
  bankName: r.bank_name,
  requiredFen: Number(r.required_fen),
  openedAt: new Date(r.opened_at),
});

const credit = (r: Row): Credit => ({
  txnId: r.txn_id,
  source: r.source,
  virtualAccountNo: r.virtual_account_no,
  depositAccountId: r.deposit_account_id ?? null,
  payerAccountNo: r.payer_account_no,
  payerAccountName: r.payer_account_name,
  payerBankName: r.payer_bank_name,
  amountFen: Number(r.amount_fen),
  bookedAt: new Date(r.booked_at),
  receivedAt: new Date(r.received_at),
  findings: json(r.findings) ?? [],
});

const release = (r: Row): Release => ({
  sectionId: r.section_id,
  bidderOrgId: r.bidder_org_id,
  tenderId: r.tender_id,
  reason: r.reason,
  bidId: r.bid_id ?? null,
  releasedAt: new Date(r.released_at),
});

const refund = (r: Row): Refund => ({
  id: r.id,
  creditTxnId: r.credit_txn_id,
  depositAccountId: r.deposit_account_id,
  fromAccountNo: r.from_account_no,
  tenderId: r.tender_id,
  sectionId: r.section_id,
  bidderOrgId: r.bidder_org_id,
  reason: r.reason,
  releasedAt: new Date(r.released_at),
  dueAt: new Date(r.due_at),
  dueEstimated: r.due_estimated,
  principalFen: Number(r.principal_fen),
  interestFen: num(r.interest_fen),
  interestDays: num(r.interest_days),
  interestRateBp: num(r.interest_rate_bp),
  toAccountNo: r.to_account_no ?? null,
  toAccountName: r.to_account_name ?? null,
  toBankName: r.to_bank_name ?? null,
  fallback: r.fallback,
  idempotencyKey: r.idempotency_key ?? null,
  status: r.status,
  failureCode: r.failure_code ?? null,
  forfeitBasis: r.forfeit_basis ?? null,
  bankTxnId: r.bank_txn_id ?? null,
  paidAt: date(r.paid_at),
  sends: Number(r.sends),
  unanswered: Number(r.unanswered),
  voucherBlobKey: r.voucher_blob_key ?? null,
});

export const depositsRepository = {
  // ---- accounts ---------------------------------------------------------------------------------------------------

  async findAccount(db: Runner, sectionId: string, bidderOrgId: string): Promise<DepositAccount | null> {
    const r = await db('deposit_accounts').where({ section_id: sectionId, bidder_org_id: bidderOrgId }).first();
    return r ? account(r) : null;
  },

  async findAccountByNo(db: Runner, accountNo: string): Promise<DepositAccount | null> {
    const r = await db('deposit_accounts').where({ account_no: accountNo }).first();
    return r ? account(r) : null;
  },

  async findAccountById(db: Runner, id: string): Promise<DepositAccount | null> {
    const r = await db('deposit_accounts').where({ id }).first();
    return r ? account(r) : null;
  },

  /** Inserts the account, or returns the one a concurrent request inserted first. */
  async insertAccount(db: Runner, a: Omit<DepositAccount, 'id'>): Promise<DepositAccount> {
    await db('deposit_accounts')
      .insert({
        tender_id: a.tenderId,
        section_id: a.sectionId,
        bidder_org_id: a.bidderOrgId,
        account_no: a.accountNo,
        bank_name: a.bankName,
        required_fen: a.requiredFen,
        opened_at: a.openedAt,
      })
      .onConflict(['section_id', 'bidder_org_id'])
      .ignore();
    return (await this.findAccount(db, a.sectionId, a.bidderOrgId))!;
  },

  async accountsOfTender(db: Runner, tenderId: string): Promise<DepositAccount[]> {
    return (await db('deposit_accounts').where({ tender_id: tenderId }).orderBy('opened_at')).map(account);
  },

  async accountsOfBidder(db: Runner, bidderOrgId: string): Promise<DepositAccount[]> {
    return (await db('deposit_accounts').where({ bidder_org_id: bidderOrgId }).orderBy('opened_at', 'desc')).map(account);
  },

  // ---- credits ----------------------------------------------------------------------------------------------------

  /** Stores a credit once by the bank's transaction id; false if it was already stored (a duplicate). */
  async insertCredit(db: Runner, c: Credit): Promise<boolean> {
    const rows = await db('deposit_credits')
      .insert({
        txn_id: c.txnId,
        source: c.source,
        virtual_account_no: c.virtualAccountNo,
        deposit_account_id: c.depositAccountId,
        payer_account_no: c.payerAccountNo,
        payer_account_name: c.payerAccountName,
        payer_bank_name: c.payerBankName,
        amount_fen: c.amountFen,
        booked_at: c.bookedAt,
        received_at: c.receivedAt,
        findings: JSON.stringify(c.findings),
      })
      .onConflict('txn_id')
      .ignore()
      .returning('txn_id');
    return rows.length > 0;
  },

  async findCredit(db: Runner, txnId: string): Promise<Credit | null> {
    const r = await db('deposit_credits').where({ txn_id: txnId }).first();
    return r ? credit(r) : null;
  },

  async creditsOfAccount(db: Runner, depositAccountId: string): Promise<Credit[]> {
    return (await db('deposit_credits').where({ deposit_account_id: depositAccountId }).orderBy('booked_at')).map(credit);
  },

  async creditsOfTender(db: Runner, tenderId: string): Promise<Array<Credit & { bidderOrgId: string; sectionId: string }>> {
    const rows = await db('deposit_credits as c')
      .join('deposit_accounts as a', 'a.id', 'c.deposit_account_id')
      .where('a.tender_id', tenderId)
      .select('c.*', 'a.bidder_org_id', 'a.section_id')
      .orderBy('c.booked_at');
    return rows.map((r: Row) => ({ ...credit(r), bidderOrgId: r.bidder_org_id, sectionId: r.section_id }));
  },

  /** Credits booked on one Asia/Shanghai day [from, to), for reconciliation against the bank's statement. */
  async creditsBookedBetween(db: Runner, from: Date, to: Date): Promise<Credit[]> {
    return (await db('deposit_credits').where('booked_at', '>=', from).andWhere('booked_at', '<', to)).map(credit);
  },

  async rememberNonce(db: Runner, nonce: string, txnId: string, at: Date): Promise<boolean> {
    const rows = await db('bank_notification_nonces').insert({ nonce, txn_id: txnId, received_at: at }).onConflict('nonce').ignore().returning('nonce');
    return rows.length > 0;
  },

  // ---- releases ---------------------------------------------------------------------------------------------------

  /** Records the release of a (section, bidder) deposit; false if it was released before (the first reason stands). */
  async insertRelease(db: Runner, r: Release): Promise<boolean> {
    const rows = await db('deposit_releases')
      .insert({ section_id: r.sectionId, bidder_org_id: r.bidderOrgId, tender_id: r.tenderId, reason: r.reason, bid_id: r.bidId, released_at: r.releasedAt })
      .onConflict(['section_id', 'bidder_org_id'])
      .ignore()
      .returning('section_id');
    return rows.length > 0;
  },

  async findRelease(db: Runner, sectionId: string, bidderOrgId: string): Promise<Release | null> {
    const r = await db('deposit_releases').where({ section_id: sectionId, bidder_org_id: bidderOrgId }).first();
    return r ? release(r) : null;
  },

  // ---- refunds ----------------------------------------------------------------------------------------------------

  /** One refund (or forfeiture) per credit; false if the credit already has one. */
  async insertRefund(db: Runner, r: Pick<Refund, 'creditTxnId' | 'depositAccountId' | 'fromAccountNo' | 'tenderId' | 'sectionId' | 'bidderOrgId' | 'reason' | 'releasedAt' | 'dueAt' | 'dueEstimated' | 'principalFen' | 'status' | 'forfeitBasis'>): Promise<Refund | null> {
    const rows = await db('refunds')
      .insert({
        credit_txn_id: r.creditTxnId,
        deposit_account_id: r.depositAccountId,
        from_account_no: r.fromAccountNo,
        tender_id: r.tenderId,
        section_id: r.sectionId,
        bidder_org_id: r.bidderOrgId,
        reason: r.reason,
        released_at: r.releasedAt,
        due_at: r.dueAt,
        due_estimated: r.dueEstimated,
        principal_fen: r.principalFen,
        status: r.status,
        forfeit_basis: r.forfeitBasis,
      })
      .onConflict('credit_txn_id')
      .ignore()
      .returning('*');
    return rows.length > 0 ? refund(rows[0]) : null;
  },

  async findRefund(db: Runner, id: string, forUpdate = false): Promise<Refund | null> {
    const q = db('refunds').where({ id }).first();
    if (forUpdate) q.forUpdate();
    const r = await q;
    return r ? refund(r) : null;
  },

  async findRefundByKey(db: Runner, idempotencyKey: string): Promise<Refund | null> {
    const r = await db('refunds').where({ idempotency_key: idempotencyKey }).first();
    return r ? refund(r) : null;
  },

  async updateRefund(db: Runner, id: string, patch: Record<string, unknown>): Promise<void> {
    await db('refunds').where({ id }).update(patch);
  },

  async refundsOfAccount(db: Runner, depositAccountId: string): Promise<Refund[]> {
    return (await db('refunds').where({ deposit_account_id: depositAccountId }).orderBy('released_at', 'desc')).map(refund);
  },

  async refundsOfTender(db: Runner, tenderId: string): Promise<Refund[]> {
    return (await db('refunds').where({ tender_id: tenderId }).orderBy('released_at')).map(refund);
  },

  /** Refunds released in [from, to) — a period of the SLA report — optionally of one tender. */
  async refundsReleasedBetween(db: Runner, from: Date, to: Date, tenderId?: string): Promise<Refund[]> {
    const q = db('refunds').where('released_at', '>=', from).andWhere('released_at', '<', to).whereNot({ status: 'forfeited' });
    if (tenderId) q.andWhere({ tender_id: tenderId });
    return (await q.orderBy('released_at')).map(refund);
  },

  async refundsPaidBetween(db: Runner, from: Date, to: Date): Promise<Refund[]> {
    return (await db('refunds').where('paid_at', '>=', from).andWhere('paid_at', '<', to)).map(refund);
  },
};
