/** The only knex for alerts. */
import type { Runner } from '../db';

export type AlertSeverity = 'info' | 'warning' | 'high' | 'critical';
export type AlertStatus = 'open' | 'acknowledged' | 'investigating' | 'confirmed' | 'dismissed';

export interface NewAlert {
  rule: string;
  severity: AlertSeverity;
  title: string;
  basis: string;
  tenderId: string | null;
  subjectOrgId: string | null;
  evidence: { auditSeqs: number[]; fields?: Record<string, unknown> };
}

export interface Alert extends NewAlert {
  id: string;
  status: AlertStatus;
  raisedAt: Date;
}

export interface AlertFilter {
  tenderId?: string;
  severity?: AlertSeverity;
  status?: AlertStatus;
  rule?: string;
  limit: number;
}

type Row = Record<string, any>;

const alert = (r: Row): Alert => ({
  id: r.id,
  rule: r.rule,
  severity: r.severity,
  title: r.title,
  basis: r.basis,
  tenderId: r.tender_id ?? null,
  subjectOrgId: r.subject_org_id ?? null,
  evidence: typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence,
  status: r.status,
  raisedAt: new Date(r.raised_at),
});

export const alertsRepository = {
  async insert(db: Runner, a: NewAlert, at: Date): Promise<Alert> {
    const [r] = await db('alerts')
      .insert({
        rule: a.rule,
        severity: a.severity,
        title: a.title,
        basis: a.basis,
        tender_id: a.tenderId,
        subject_org_id: a.subjectOrgId,
        evidence: JSON.stringify(a.evidence),
        raised_at: at,
      })
      .returning('*');
    return alert(r);
  },

  async list(db: Runner, f: AlertFilter): Promise<Alert[]> {
    const q = db('alerts').orderBy([{ column: 'raised_at', order: 'desc' }, { column: 'id' }]).limit(f.limit);
    if (f.tenderId) q.where({ tender_id: f.tenderId });
    if (f.severity) q.where({ severity: f.severity });
    if (f.status) q.where({ status: f.status });
    if (f.rule) q.where({ rule: f.rule });
    return (await q).map(alert);
  },

  async find(db: Runner, id: string): Promise<Alert | null> {
    const r = await db('alerts').where({ id }).first();
    return r ? alert(r) : null;
  },

  /**
   * The newest alert of `rule` not yet disposed of (open, acknowledged or under investigation) whose evidence field
   * `field` equals `value`: a condition that persists (e.g. a missing calendar year) is alerted once, not per request.
   */
  async findStanding(db: Runner, rule: string, field: string, value: string | number): Promise<Alert | null> {
    const r = await db('alerts')
      .where({ rule })
      .whereIn('status', ['open', 'acknowledged', 'investigating'])
      .whereRaw(`evidence->'fields'->>? = ?`, [field, String(value)])
      .orderBy('raised_at', 'desc')
      .first();
    return r ? alert(r) : null;
  },
};
