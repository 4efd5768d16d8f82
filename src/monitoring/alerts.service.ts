/**
 * Alerts for the supervising department (EB 49; NDRC1117 §11: irregular behaviour the platform finds is reported
 * and followed until handled). An alert is raised in the same transaction as the audit event it points to, so
 * there is never an alert without its evidence on the chain, nor a critical event without its alert.
 *
 * Each alert is due to be handled within working days set by its severity (ALERT_DUE_WORKING_DAYS): `raise` sets the
 * due time; an alert inserted by code of its own (the monitoring rules insert once per condition) gets it the next
 * time alerts are read (`settleDue`), counted from when it was raised, so every reader sees every alert with one.
 */
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { NotFound } from '../shared/errors';
import type { ActionContext } from '../shared/access';
import type { AuditEntry, AuditService } from './audit.service';
import { alertDueAt, DEFAULT_DUE_WORKING_DAYS, type AlertDue, type DueWorkingDays } from './alerts.due';
import { alertsRepository as repo, HANDLED_STATUSES, type Alert, type AlertFilter, type AlertSeverity, type NewAlert } from './alerts.repository';

/** What an alert says beyond its evidence: the audit event that raised it is the evidence. */
export type AlertSpec = Omit<NewAlert, 'evidence' | 'tenderId' | 'subjectOrgId'> & { fields?: Record<string, unknown> };

/** An alert as readers get it: with whether it is overdue now and, once handled, whether it was handled in time. */
export type AlertView = Alert & { overdue: boolean; handledOnTime: boolean | null };

export function viewOf(a: Alert, now: Date): AlertView {
  const handled = HANDLED_STATUSES.includes(a.status);
  return {
    ...a,
    // a period ends at its due time, exclusive (the same convention as every deadline on the platform)
    overdue: !handled && a.dueAt !== null && now.getTime() >= a.dueAt.getTime(),
    handledOnTime: handled && a.handledAt && a.dueAt ? a.handledAt.getTime() < a.dueAt.getTime() : null,
  };
}

export class AlertsService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly dueWorkingDays: DueWorkingDays = DEFAULT_DUE_WORKING_DAYS,
  ) {}

  async raise(trx: Runner, alert: NewAlert): Promise<Alert> {
    const at = this.clock.now();
    return repo.insert(trx, alert, at, await this.dueFor(trx, alert.severity, at));
  }

  /**
   * Raises `alert` unless one of its rule with the same `dedupeKey` exists (a monitoring rule's finding, found again by
   * a later scan, another instance or a retried job): then null.
   */
  async raiseOnce(trx: Runner, alert: NewAlert, dedupeKey: string): Promise<Alert | null> {
    const at = this.clock.now();
    return repo.insertOnce(trx, alert, dedupeKey, at, await this.dueFor(trx, alert.severity, at));
  }

  /**
   * Appends `entry` to the audit chain and raises `alert` on it, in one transaction of their own: for attempts that
   * are refused (nothing else commits) but must be reported, such as reaching for a bid before the deadline.
   */
  async recordAndRaise(ctx: ActionContext, entry: AuditEntry, alert: AlertSpec): Promise<Alert> {
    return this.db.transaction(async (trx) => {
      const event = await this.audit.append(trx, ctx, { ...entry, payload: { ...entry.payload, severity: alert.severity } });
      const { fields, ...rest } = alert;
      return this.raise(trx, {
        ...rest,
        tenderId: entry.tenderId ?? null,
        subjectOrgId: ctx.actor?.orgId ?? null,
        evidence: { auditSeqs: [event.seq], ...(fields ? { fields } : {}) },
      });
    });
  }

  /** When an alert of `severity` raised at `raisedAt` is due (see alerts.due.ts). */
  dueFor(db: Runner, severity: AlertSeverity, raisedAt: Date): Promise<AlertDue> {
    return alertDueAt(db, raisedAt, this.dueWorkingDays[severity]);
  }

  /** Gives every alert raised without a due time its due time (idempotent; a few rows at most in practice). */
  async settleDue(): Promise<void> {
    for (;;) {
      const missing = await repo.missingDue(this.db, 200);
      for (const a of missing) await repo.setDue(this.db, a.id, await this.dueFor(this.db, a.severity, a.raisedAt));
      if (missing.length < 200) return;
    }
  }

  async list(filter: AlertFilter): Promise<AlertView[]> {
    await this.settleDue();
    const now = this.clock.now();
    return (await repo.list(this.db, { ...filter, now })).map((a) => viewOf(a, now));
  }

  async get(id: string): Promise<AlertView> {
    await this.settleDue();
    const a = await repo.find(this.db, id);
    if (!a) throw NotFound({ resource: '预警' });
    return viewOf(a, this.clock.now());
  }
}
