import type { Db, Runner } from '../db';
import type { AuditRecord } from '../../crypto/audit-hash';

export interface StoredAuditEvent extends AuditRecord {
  hash: string;
}

type Row = Record<string, unknown>;

/** A row of audit_events as the chain hashed it. */
export function auditEventFromRow(r: Row): StoredAuditEvent {
  return {
    seq: Number(r.seq),
    occurredAt: new Date(r.occurred_at as string | Date),
    actorUserId: (r.actor_user_id as string) ?? null,
    actorOrgId: (r.actor_org_id as string) ?? null,
    actorOrgType: (r.actor_org_type as string) ?? null,
    actorRole: (r.actor_role as string) ?? null,
    certSerial: (r.cert_serial as string) ?? null,
    clientIp: (r.client_ip as string) ?? null,
    userAgent: (r.user_agent as string) ?? null,
    deviceFingerprint: (r.device_fingerprint as string) ?? null,
    requestId: (r.request_id as string) ?? null,
    action: r.action as string,
    objectType: (r.object_type as string) ?? null,
    objectId: (r.object_id as string) ?? null,
    tenderId: (r.tender_id as string) ?? null,
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    prevHash: String(r.prev_hash).trim(),
    hash: String(r.hash).trim(),
  };
}

// One key for the chain's head: appends serialise on it until their transaction commits, so seq has no gaps
// and each row's prev_hash is the committed head.
const CHAIN_LOCK_KEY = 4_902_771;

export const auditRepository = {
  async lockHead(trx: Runner): Promise<{ seq: number; hash: string } | null> {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [CHAIN_LOCK_KEY]);
    const head = await trx('audit_events').select('seq', 'hash').orderBy('seq', 'desc').first();
    return head ? { seq: Number(head.seq), hash: String(head.hash).trim() } : null;
  },

  async insert(trx: Runner, e: StoredAuditEvent): Promise<void> {
    await trx('audit_events').insert({
      seq: e.seq,
      occurred_at: e.occurredAt,
      actor_user_id: e.actorUserId,
      actor_org_id: e.actorOrgId,
      actor_org_type: e.actorOrgType,
      actor_role: e.actorRole,
      cert_serial: e.certSerial,
      client_ip: e.clientIp,
      user_agent: e.userAgent,
      device_fingerprint: e.deviceFingerprint,
      request_id: e.requestId,
      action: e.action,
      object_type: e.objectType,
      object_id: e.objectId,
      tender_id: e.tenderId,
      payload: JSON.stringify(e.payload),
      prev_hash: e.prevHash,
      hash: e.hash,
    });
  },

  /** Events in seq order after `afterSeq`, a page at a time (the verifier walks the whole chain this way). */
  async pageAfter(db: Runner, afterSeq: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await db('audit_events').where('seq', '>', afterSeq).orderBy('seq').limit(limit);
    return rows.map(auditEventFromRow);
  },

  async list(
    db: Db,
    filter: { tenderId?: string; action?: string; actorOrgId?: string; beforeSeq?: number; limit: number },
  ): Promise<StoredAuditEvent[]> {
    const q = db('audit_events').orderBy('seq', 'desc').limit(filter.limit);
    if (filter.tenderId) q.where('tender_id', filter.tenderId);
    if (filter.action) q.where('action', filter.action);
    if (filter.actorOrgId) q.where('actor_org_id', filter.actorOrgId);
    if (filter.beforeSeq) q.where('seq', '<', filter.beforeSeq);
    return (await q).map(auditEventFromRow);
  },

  async head(db: Runner): Promise<{ seq: number; hash: string } | null> {
    const head = await db('audit_events').select('seq', 'hash').orderBy('seq', 'desc').first();
    return head ? { seq: Number(head.seq), hash: String(head.hash).trim() } : null;
  },
};
