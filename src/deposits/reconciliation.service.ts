/**
 * Each night the bank's statement of the day before is set against what the platform recorded (architecture:
 * "cross-checked against the daily statement"):
 * - a credit on the statement the bank never notified is taken in from the statement (and the lost notification is
 *   raised);
 * - a credit the platform holds that the statement lacks is raised for the operators;
 * - a debit for a refund still marked as sending is the bank's word that it paid: the refund job runs again and, the
 *   bank answering for the same key, records it paid;
 * - a refund recorded paid without its debit, or a debit the platform did not ask for, is raised.
 * Then the next night's run is scheduled (once, whatever number of workers).
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { DAY_MS, HOUR_MS } from '../shared/clock';
import { shanghaiDate, startOfShanghaiDay } from '../shared/time';
import type { ActionContext } from '../shared/access';
import { enqueueInTrx, hasOpenJob } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import type { BankGateway, StatementEntry } from '../bank/gateway';
import { depositsRepository as repo } from './deposits.repository';
import type { CreditService } from './credits.service';
import { RECONCILE_JOB, REFUND_JOB } from './deposits.jobs';

/** The statement of day D is fetched at 02:00 Shanghai on D + 1. */
const RUN_HOUR = 2;

const dayNumberOf = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
const nextDate = (date: string) => new Date((dayNumberOf(date) + 1) * DAY_MS).toISOString().slice(0, 10);
/** When the statement of `date` is reconciled. */
const runAtFor = (date: string) => new Date(startOfShanghaiDay(dayNumberOf(date) + 1).getTime() + RUN_HOUR * HOUR_MS);

export interface ReconciliationResult {
  date: string;
  credits: number;
  debits: number;
  takenFromStatement: string[];
  missingFromStatement: string[];
  refundsConfirmed: string[];
  paidWithoutDebit: string[];
  unknownDebits: string[];
}

export class ReconciliationService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly credits: CreditService,
    private readonly bank: BankGateway | null,
  ) {}

  /** Makes sure yesterday's statement is due to be reconciled (at start; later runs schedule their successor). */
  async schedule(): Promise<void> {
    const yesterday = shanghaiDate(new Date(this.clock.now().getTime() - DAY_MS));
    await this.db.transaction(async (trx) => {
      if (!(await hasOpenJob(trx, RECONCILE_JOB.name, { date: yesterday }))) {
        await enqueueInTrx(trx, { ...RECONCILE_JOB, payload: { date: yesterday }, runAt: runAtFor(yesterday) });
      }
    });
  }

  async reconcile(date: string, ctx: ActionContext): Promise<ReconciliationResult | null> {
    if (!this.bank) return null;
    const entries = await this.bank.statement(date); // BankUnavailable: the job retries
    const from = startOfShanghaiDay(dayNumberOf(date));
    const to = startOfShanghaiDay(dayNumberOf(date) + 1);
    const held = await repo.creditsBookedBetween(this.db, from, to);
    const credits = entries.filter((e) => e.direction === 'credit');
    const debits = entries.filter((e) => e.direction === 'debit');
    const result: ReconciliationResult = {
      date,
      credits: credits.length,
      debits: debits.length,
      takenFromStatement: [],
      missingFromStatement: [],
      refundsConfirmed: [],
      paidWithoutDebit: [],
      unknownDebits: [],
    };

    for (const e of credits) {
      if (held.some((c) => c.txnId === e.txnId)) continue;
      const stored = await this.db.transaction((trx) => this.credits.ingest(trx, ctx, creditOf(e), 'statement'));
      if (stored) result.takenFromStatement.push(e.txnId);
    }
    result.missingFromStatement = held.filter((c) => !credits.some((e) => e.txnId === c.txnId)).map((c) => c.txnId);

    for (const d of debits) {
      const refund = d.reference ? await repo.findRefundByKey(this.db, d.reference) : null;
      if (!refund) result.unknownDebits.push(d.txnId);
      else if (refund.status === 'sending') result.refundsConfirmed.push(refund.id);
    }
    const paid = await repo.refundsPaidBetween(this.db, from, to);
    result.paidWithoutDebit = paid.filter((r) => !debits.some((d) => d.reference === r.idempotencyKey)).map((r) => r.id);

    await this.db.transaction(async (trx) => {
      const event = await this.audit.append(trx, ctx, { action: 'deposit.reconcile', objectType: 'bank_statement', objectId: date, payload: { ...result } });
      const raise = (rule: string, severity: 'warning' | 'high', title: string, ids: string[]) =>
        ids.length === 0
          ? undefined
          : this.alerts.raise(trx, { rule, severity, title, basis: 'EB 49', tenderId: null, subjectOrgId: null, evidence: { auditSeqs: [event.seq], fields: { date, ids } } });
      await raise('bank-notification-missing', 'warning', '银行对账单中有未收到到账通知的入账，已按对账单补记', result.takenFromStatement);
      await raise('bank-credit-not-on-statement', 'high', '平台记录的到账不在银行对账单中', result.missingFromStatement);
      await raise('bank-refund-without-debit', 'high', '平台记录已退款但银行对账单无对应付款', result.paidWithoutDebit);
      await raise('bank-unknown-debit', 'high', '银行对账单中有平台未发起的付款', result.unknownDebits);
      // the bank paid these: the refund job asks again under the same key and records the payment
      for (const id of result.refundsConfirmed) await enqueueInTrx(trx, { ...REFUND_JOB, payload: { refundId: id }, runAt: this.clock.now() });
      const next = nextDate(date);
      if (!(await hasOpenJob(trx, RECONCILE_JOB.name, { date: next }))) {
        await enqueueInTrx(trx, { ...RECONCILE_JOB, payload: { date: next }, runAt: runAtFor(next) });
      }
    });
    return result;
  }
}

function creditOf(e: StatementEntry) {
  return {
    txnId: e.txnId,
    virtualAccountNo: e.virtualAccountNo,
    payerAccountNo: e.counterpartyAccountNo,
    payerAccountName: e.counterpartyName,
    // a statement line carries no bank name; the notification would have
    payerBankName: '（对账单未载明）',
    amountFen: e.amountFen,
    bookedAt: e.bookedAt,
  };
}
