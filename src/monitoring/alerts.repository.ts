/** The only knex for alerts and their dispositions. */
import type { Knex } from 'knex';
import type { Runner } from '../db';
import type { AlertDue } from './alerts.due';

export type AlertSeverity = 'info' | 'warning' | 'high' | 'critical';
export type AlertStatus = 'open' | 'acknowledged' | 'investigating' | 'confirmed' | 'dismissed';

export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['critical', 'high', 'warning', 'info'];
export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed'];
/** Statuses that end an alert's handling. */
export const HANDLED_STATUSES: readonly AlertStatus[] = ['confirmed', 'dismissed'];

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
  /** When the status last changed (the raise itself until a regulator acts). */
  statusChangedAt: Date;
  /** The end of the handling period; null only for an alert raised by code that does not set it, until it is read. */
  dueAt: Date | null;
  /** Counted in calendar days: the calendar had no schedule for a year the period reaches. */
  dueEstimated: boolean;
  /** When it was confirmed or dismissed. */
  handledAt: Date | null;
  /** For reading: the subject organisation's name and the tender's code and name (lists and the alert's page). */
  subjectOrgName?: string | null;
  tenderCode?: string | null;
  tenderName?: string | null;
}

export interface AlertFilter {
  tenderId?: string;
  severity?: AlertSeverity;
  status?: AlertStatus;
  rule?: string;
  subjectOrgId?: string;
  /** Raised at or after. */
  raisedFrom?: Date;
  /** Raised before (exclusive). */
  raisedTo?: Date;
  /** true: not handled and its due time reached (at `now`; the period ends at its due time, exclusive); false: the others. */
  overdue?: boolean;
  /** true: not confirmed or dismissed; false: handled. */
  open?: boolean;
  /** The instant `overdue` is judged at. */
  now?: Date;
  /** Keyset paging, newest first: alerts raised before `raisedAt`, or at it and after `id` in id order. */
  before?: { raisedAt: Date; id?: string };
  offset?: number;
  limit: number;
}

export interface Disposition {
  id: string;
  alertId: string;
  fromStatus: AlertStatus;
  toStatus: AlertStatus;
  note: string;
  userId: string;
  userName?: string | null;
  orgId: string;
  orgName?: string | null;
  at: Date;
  auditSeq: number;
}

type Row = Record<string, any>;

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

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
  statusChangedAt: new Date(r.status_changed_at ?? r.raised_at),
  dueAt: date(r.due_at),
  dueEstimated: Boolean(r.due_estimated),
  handledAt: date(r.handled_at),
  ...('subject_org_name' in r ? { subjectOrgName: r.subject_org_name ?? null, tenderCode: r.tender_code ?? null, tenderName: r.tender_name ?? null } : {}),
});

const disposition = (r: Row): Disposition => ({
  id: r.id,
  alertId: r.alert_id,
  fromStatus: r.from_status,
  toStatus: r.to_status,
  note: r.note,
  userId: r.user_id,
  userName: r.user_name ?? null,
  orgId: r.org_id,
  orgName: r.org_name ?? null,
  at: new Date(r.at),
  auditSeq: Number(r.audit_seq),
});

/** Alerts with the names a reader needs (left joins: an alert may have neither a tender nor a subject). */
function readable(db: Runner): Knex.QueryBuilder {
  return db('alerts')
    .leftJoin('organisations as subject', 'subject.id', 'alerts.subject_org_id')
    .leftJoin('tenders as tender', 'tender.id', 'alerts.tender_id')
    .select('alerts.*', 'subject.name as subject_org_name', 'tender.code as tender_code', 'tender.name as tender_name');
}

/** Applies every filter but paging (and, with `statusless`, but the status filters: for counts per status). */
function filtered(q: Knex.QueryBuilder, f: Omit<AlertFilter, 'limit'>, statusless = false): Knex.QueryBuilder {
  if (f.tenderId) q.where('alerts.tender_id', f.tenderId);
  if (f.severity) q.where('alerts.severity', f.severity);
  if (f.rule) q.where('alerts.rule', f.rule);
  if (f.subjectOrgId) q.where('alerts.subject_org_id', f.subjectOrgId);
  if (f.raisedFrom) q.where('alerts.raised_at', '>=', f.raisedFrom);
  if (f.raisedTo) q.where('alerts.raised_at', '<', f.raisedTo);
  if (f.overdue !== undefined) {
    const now = f.now ?? new Date();
    if (f.overdue) q.whereNotIn('alerts.status', HANDLED_STATUSES).where('alerts.due_at', '<=', now);
    else q.where((w) => w.whereIn('alerts.status', HANDLED_STATUSES).orWhere('alerts.due_at', '>', now).orWhereNull('alerts.due_at'));
  }
  if (statusless) return q;
  if (f.status) q.where('alerts.status', f.status);
  if (f.open === true) q.whereNotIn('alerts.status', HANDLED_STATUSES);
  if (f.open === false) q.whereIn('alerts.status', HANDLED_STATUSES);
  return q;
}

function alertRow(a: NewAlert, at: Date, due?: AlertDue) {
  return {
    rule: a.rule,
    severity: a.severity,
    title: a.title,
    basis: a.basis,
    tender_id: a.tenderId,
    subject_org_id: a.subjectOrgId,
    evidence: JSON.stringify(a.evidence),
    raised_at: at,
    status_changed_at: at,
    ...(due ? { due_at: due.dueAt, due_estimated: due.estimated } : {}),
  };
}

export const alertsRepository = {
  async insert(db: Runner, a: NewAlert, at: Date, due?: AlertDue): Promise<Alert> {
    const [r] = await db('alerts').insert(alertRow(a, at, due)).returning('*');
    return alert(r);
  },

  /** Inserts unless an alert of the same rule with the same key exists (a finding found again): then null. */
  async insertOnce(db: Runner, a: NewAlert, dedupeKey: string, at: Date, due: AlertDue): Promise<Alert | null> {
    const [r] = await db('alerts')
      .insert({ ...alertRow(a, at, due), dedupe_key: dedupeKey })
      .onConflict(['rule', 'dedupe_key'])
      .ignore()
      .returning('*');
    return r ? alert(r) : null;
  },

  async list(db: Runner, f: AlertFilter): Promise<Alert[]> {
    const q = filtered(readable(db), f)
      .orderBy([{ column: 'alerts.raised_at', order: 'desc' }, { column: 'alerts.id' }])
      .limit(f.limit);
    if (f.before) {
      const { raisedAt, id } = f.before;
      q.where((w) => {
        w.where('alerts.raised_at', '<', raisedAt);
        if (id) w.orWhere((x) => x.where('alerts.raised_at', raisedAt).where('alerts.id', '>', id));
      });
    }
    if (f.offset) q.offset(f.offset);
    return (await q).map(alert);
  },

  /** How many alerts match the filter (status filters left out), per status, and how many of them are overdue at `now`. */
  async counts(db: Runner, f: Omit<AlertFilter, 'limit'>, now: Date): Promise<{ byStatus: Partial<Record<AlertStatus, number>>; overdue: number }> {
    const rows = await filtered(db('alerts'), f, true)
      .select('alerts.status')
      .count({ n: '*' })
      .select(db.raw(`count(*) FILTER (WHERE alerts.status NOT IN ('confirmed', 'dismissed') AND alerts.due_at <= ?) AS overdue`, [now]))
      .groupBy('alerts.status');
    const byStatus: Partial<Record<AlertStatus, number>> = {};
    let overdue = 0;
    for (const r of rows as Row[]) {
      byStatus[r.status as AlertStatus] = Number(r.n);
      overdue += Number(r.overdue);
    }
    return { byStatus, overdue };
  },

  async count(db: Runner, f: Omit<AlertFilter, 'limit'>): Promise<number> {
    const [{ n }] = await filtered(db('alerts'), f).count({ n: '*' });
    return Number(n);
  },

  async find(db: Runner, id: string): Promise<Alert | null> {
    const r = await readable(db).where('alerts.id', id).first();
    return r ? alert(r) : null;
  },

  /** Locks the alert's row until the transaction ends: one disposition at a time. */
  async lock(trx: Runner, id: string): Promise<Alert | null> {
    const r = await trx('alerts').where({ id }).forUpdate().first();
    return r ? alert(r) : null;
  },

  /** Moves the alert from `from` to `to`; false when it is no longer at `from`. */
  async setStatus(trx: Runner, id: string, from: AlertStatus, to: AlertStatus, at: Date, handled: boolean): Promise<boolean> {
    const n = await trx('alerts')
      .where({ id, status: from })
      .update({ status: to, status_changed_at: at, ...(handled ? { handled_at: at } : {}) });
    return Number(n) === 1;
  },

  async insertDisposition(trx: Runner, d: Omit<Disposition, 'id' | 'userName' | 'orgName'>): Promise<Disposition> {
    const [r] = await trx('alert_dispositions')
      .insert({
        alert_id: d.alertId,
        from_status: d.fromStatus,
        to_status: d.toStatus,
        note: d.note,
        user_id: d.userId,
        org_id: d.orgId,
        at: d.at,
        audit_seq: d.auditSeq,
      })
      .returning('*');
    return disposition(r);
  },

  /** An alert's steps, oldest first, with who took them. */
  async dispositions(db: Runner, alertId: string): Promise<Disposition[]> {
    const rows = await db('alert_dispositions as d')
      .leftJoin('users as u', 'u.id', 'd.user_id')
      .leftJoin('organisations as o', 'o.id', 'd.org_id')
      .select('d.*', 'u.display_name as user_name', 'o.name as org_name')
      .where('d.alert_id', alertId)
      .orderBy([{ column: 'd.at' }, { column: 'd.audit_seq' }]);
    return rows.map(disposition);
  },

  /** The steps of several alerts at once (exports), oldest first. */
  async dispositionsOf(db: Runner, alertIds: string[]): Promise<Disposition[]> {
    if (!alertIds.length) return [];
    const rows = await db('alert_dispositions as d')
      .leftJoin('users as u', 'u.id', 'd.user_id')
      .leftJoin('organisations as o', 'o.id', 'd.org_id')
      .select('d.*', 'u.display_name as user_name', 'o.name as org_name')
      .whereIn('d.alert_id', alertIds)
      .orderBy([{ column: 'd.at' }, { column: 'd.audit_seq' }]);
    return rows.map(disposition);
  },

  /** Alerts raised without a due time (by code that inserts alerts itself), oldest first. */
  async missingDue(db: Runner, limit: number): Promise<Array<{ id: string; severity: AlertSeverity; raisedAt: Date }>> {
    const rows = await db('alerts').select('id', 'severity', 'raised_at').whereNull('due_at').orderBy('raised_at').limit(limit);
    return rows.map((r: Row) => ({ id: r.id, severity: r.severity, raisedAt: new Date(r.raised_at) }));
  },

  async setDue(db: Runner, id: string, due: AlertDue): Promise<void> {
    await db('alerts').where({ id }).whereNull('due_at').update({ due_at: due.dueAt, due_estimated: due.estimated });
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

  /** Names of organisations, by id. */
  async organisationNames(db: Runner, ids: string[]): Promise<Array<{ id: string; name: string; type: string }>> {
    if (!ids.length) return [];
    return db('organisations').select('id', 'name', 'type').whereIn('id', ids);
  },
};
