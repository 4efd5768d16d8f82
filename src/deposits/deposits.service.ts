/**
 * Deposits as their people see them. A bidder asks for the account of a section (a virtual sub-account of the
 * trading centre's deposit account, unique to the section and the bidder, so the transfer identifies itself) and
 * follows its deposits and refunds with their due dates. Who paid stays sealed until the opening (TL 22: who is
 * bidding is nobody's business): before the prices are read, the agency, the tenderer and the supervisors see counts
 * only; from then on, each bidder's deposit status. The supervisors' SLA report lives in sla-report.ts.
 */
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import { formatYuan } from '../shared/money';
import type { BlobStore } from '../shared/blobs';
import type { AuditService } from '../monitoring/audit.service';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository, type Tender } from '../tenders/tenders.repository';
import { openingRepository } from '../opening/opening.repository';
import { BankUnavailable, type BankGateway } from '../bank/gateway';
import { BankNotConfigured, BankUnavailableError, DepositAfterDeadline, NoDepositRequired, RefundNotFound, VoucherNotReady } from './deposits.errors';
import { depositsRepository as repo, type Credit, type DepositAccount, type Refund } from './deposits.repository';

export type DepositStatus = 'unpaid' | 'short' | 'paid' | 'over';

/** 已缴 / 未缴 / 不足 / 超额, as the 唱标 table and the opening record show it. */
export const DEPOSIT_STATUS_LABELS: Record<DepositStatus, string> = { unpaid: '未缴', short: '不足', paid: '已缴', over: '超额' };

/** Paid before the deadline counts; a late credit does not make a deposit (TLR 26). */
export function depositStatus(requiredFen: number, credits: Credit[]): { status: DepositStatus; paidFen: number } {
  const paidFen = credits.filter((c) => !c.findings.includes('LATE')).reduce((sum, c) => sum + c.amountFen, 0);
  const status: DepositStatus = paidFen === 0 ? 'unpaid' : paidFen < requiredFen ? 'short' : paidFen > requiredFen ? 'over' : 'paid';
  return { status, paidFen };
}

/**
 * Each (section, bidder)'s deposit status, as 唱标 reads it out and the opening record prints it (EB 30): keyed
 * `${sectionId}:${bidderOrgId}`; a bidder with no deposit account reads 未缴.
 */
export async function depositStatusLabels(db: Runner, tenderId: string): Promise<(sectionId: string, bidderOrgId: string) => string> {
  const labels = new Map<string, string>();
  for (const a of await repo.accountsOfTender(db, tenderId)) {
    labels.set(`${a.sectionId}:${a.bidderOrgId}`, DEPOSIT_STATUS_LABELS[depositStatus(a.requiredFen, await repo.creditsOfAccount(db, a.id)).status]);
  }
  const free = new Set((await tendersRepository.listSections(db, tenderId)).filter((s) => s.depositFen <= 0).map((s) => s.id));
  return (sectionId, bidderOrgId) => (free.has(sectionId) ? '无需缴纳' : (labels.get(`${sectionId}:${bidderOrgId}`) ?? DEPOSIT_STATUS_LABELS.unpaid));
}

/** The opening states in which who paid is no longer sealed: the prices have been read (EB 30). */
const UNSEALED_STATES = new Set(['announcing', 'objections', 'recorded', 'closed', 'failed']);

const refundView = (r: Refund) => ({
  refundId: r.id,
  status: r.status,
  reason: r.reason,
  releasedAt: r.releasedAt,
  dueAt: r.dueAt,
  dueEstimated: r.dueEstimated,
  principalFen: r.principalFen,
  principalYuan: formatYuan(r.principalFen),
  interestFen: r.interestFen,
  toAccountNo: r.toAccountNo,
  fallback: r.fallback,
  paidAt: r.paidAt,
  onTime: r.paidAt ? r.paidAt.getTime() <= r.dueAt.getTime() : null,
  failureCode: r.failureCode,
  forfeitBasis: r.forfeitBasis,
  voucher: r.voucherBlobKey !== null,
});

export class DepositService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly blobs: BlobStore,
    private readonly bank: BankGateway | null,
  ) {}

  /** A bidder's deposit account for a section: opened at the bank the first time, the same one afterwards. */
  async openAccount(ctx: ActionContext, tenderId: string, sectionId: string) {
    const actor = requireActor(ctx, 'bidder');
    const tender = await tendersRepository.findTender(this.db, tenderId);
    const section = tender && (await tendersRepository.listSections(this.db, tender.id)).find((s) => s.id === sectionId);
    if (!tender || !section || tender.status === 'draft') throw NotFound({ resource: '标段' });
    if (section.depositFen <= 0) throw NoDepositRequired();
    let account = await repo.findAccount(this.db, section.id, actor.orgId);
    if (!account) {
      if (tender.status !== 'published' || this.clock.now().getTime() >= tender.bidDeadline.getTime()) {
        throw DepositAfterDeadline({ bidDeadline: tender.bidDeadline.toISOString() });
      }
      if (!this.bank) throw BankNotConfigured();
      const bidder = (await identityRepository.findOrganisation(this.db, actor.orgId))!;
      let opened: { accountNo: string; bankName: string };
      try {
        opened = await this.bank.openVirtualAccount({ reference: `${section.id}.${actor.orgId}`, name: `${tender.code}-${section.seq} ${bidder.name}` });
      } catch (err) {
        if (err instanceof BankUnavailable) throw BankUnavailableError();
        throw err;
      }
      account = await this.db.transaction(async (trx) => {
        const a = await repo.insertAccount(trx, {
          tenderId: tender.id,
          sectionId: section.id,
          bidderOrgId: actor.orgId,
          accountNo: opened.accountNo,
          bankName: opened.bankName,
          requiredFen: section.depositFen,
          openedAt: this.clock.now(),
        });
        await this.audit.append(trx, ctx, { action: 'deposit.account-open', objectType: 'deposit_account', objectId: a.id, tenderId: tender.id, payload: { sectionId: section.id } });
        return a;
      });
    }
    return this.accountView(this.db, tender, account);
  }

  private async accountView(db: Runner, tender: Tender, a: DepositAccount) {
    const credits = await repo.creditsOfAccount(db, a.id);
    const { status, paidFen } = depositStatus(a.requiredFen, credits);
    const refunds = await repo.refundsOfAccount(db, a.id);
    return {
      tenderId: tender.id,
      tenderCode: tender.code,
      tenderName: tender.name,
      sectionId: a.sectionId,
      accountNo: a.accountNo,
      bankName: a.bankName,
      requiredFen: a.requiredFen,
      requiredYuan: formatYuan(a.requiredFen),
      payBy: tender.bidDeadline,
      status,
      statusLabel: DEPOSIT_STATUS_LABELS[status],
      paidFen,
      paidYuan: formatYuan(paidFen),
      credits: credits.map((c) => ({ txnId: c.txnId, amountFen: c.amountFen, payerAccountNo: c.payerAccountNo, bookedAt: c.bookedAt, findings: c.findings })),
      refunds: refunds.map(refundView),
    };
  }

  /** A bidder's own deposits and refunds, newest first. */
  async mine(ctx: ActionContext) {
    const actor = requireActor(ctx, 'bidder');
    const accounts = await repo.accountsOfBidder(this.db, actor.orgId);
    const views = [];
    for (const a of accounts) views.push(await this.accountView(this.db, (await tendersRepository.findTender(this.db, a.tenderId))!, a));
    return views;
  }

  /** A tender's deposits: counts until the prices are read, then each bidder's status (TL 22; EB 30). */
  async ofTender(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency', 'tenderer', 'regulator', 'operator');
    const tender = await tendersRepository.findTender(this.db, tenderId);
    // the tender's own agency and tenderer, and the supervisors; anyone else is told it does not exist
    if (!tender || (!seesEverything(actor) && actor.orgId !== tender.agencyOrgId && actor.orgId !== tender.tendererOrgId)) {
      throw NotFound({ resource: '招标项目' });
    }
    const sections = await tendersRepository.listSections(this.db, tender.id);
    const accounts = await repo.accountsOfTender(this.db, tender.id);
    const statuses = await Promise.all(accounts.map(async (a) => ({ a, ...depositStatus(a.requiredFen, await repo.creditsOfAccount(this.db, a.id)) })));
    const opening = await openingRepository.find(this.db, tender.id);
    const sealed = !opening || !UNSEALED_STATES.has(opening.state);
    const counts = sections.map((s) => {
      const mine = statuses.filter((x) => x.a.sectionId === s.id);
      return { sectionId: s.id, seq: s.seq, requiredFen: s.depositFen, accounts: mine.length, paid: mine.filter((x) => x.status === 'paid' || x.status === 'over').length };
    });
    if (sealed) {
      // the trading centre's own staff reaching for who is bidding while it is secret (TL 22) is recorded, and watched
      // by the monitoring (rule payer-list-early); the agency, tenderer and supervisors read these counts as routine
      if (actor.orgType === 'operator') {
        await this.audit.record(ctx, { action: 'deposit.payers.view', objectType: 'tender', objectId: tender.id, tenderId: tender.id, payload: { sealed: true, openingState: opening?.state ?? null } });
      }
      return { tenderId: tender.id, sealed: true, sections: counts };
    }
    const orgs = await identityRepository.listOrganisations(this.db, { ids: accounts.map((a) => a.bidderOrgId) });
    const refunds = await repo.refundsOfTender(this.db, tender.id);
    return {
      tenderId: tender.id,
      sealed: false,
      sections: counts,
      deposits: statuses.map(({ a, status, paidFen }) => ({
        sectionId: a.sectionId,
        bidderOrgId: a.bidderOrgId,
        bidder: orgs.find((o) => o.id === a.bidderOrgId)?.name ?? '',
        requiredFen: a.requiredFen,
        paidFen,
        status,
        statusLabel: DEPOSIT_STATUS_LABELS[status],
        refunds: refunds.filter((r) => r.depositAccountId === a.id).map(refundView),
      })),
    };
  }

  /** The 保证金退还凭证 of a paid refund: its bidder, and the supervisors. */
  async voucher(ctx: ActionContext, refundId: string): Promise<Buffer> {
    const actor = requireActor(ctx);
    const r = await repo.findRefund(this.db, refundId);
    if (!r || (r.bidderOrgId !== actor.orgId && !seesEverything(actor))) throw RefundNotFound();
    if (!r.voucherBlobKey) throw VoucherNotReady();
    const chunks: Buffer[] = [];
    for await (const c of (await this.blobs.get(r.voucherBlobKey)) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }
}
