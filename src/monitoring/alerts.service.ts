/**
 * Alerts for the supervising department (EB 49; NDRC1117 §11: irregular behaviour the platform finds is reported
 * and followed until handled). An alert is raised in the same transaction as the audit event it points to, so
 * there is never an alert without its evidence on the chain, nor a critical event without its alert.
 */
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { NotFound } from '../shared/errors';
import type { ActionContext } from '../shared/access';
import type { AuditEntry, AuditService } from './audit.service';
import { alertsRepository as repo, type Alert, type AlertFilter, type NewAlert } from './alerts.repository';

/** What an alert says beyond its evidence: the audit event that raised it is the evidence. */
export type AlertSpec = Omit<NewAlert, 'evidence' | 'tenderId' | 'subjectOrgId'> & { fields?: Record<string, unknown> };

export class AlertsService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  async raise(trx: Runner, alert: NewAlert): Promise<Alert> {
    return repo.insert(trx, alert, this.clock.now());
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

  list(filter: AlertFilter): Promise<Alert[]> {
    return repo.list(this.db, filter);
  }

  async get(id: string): Promise<Alert> {
    const a = await repo.find(this.db, id);
    if (!a) throw NotFound({ resource: '预警' });
    return a;
  }
}
