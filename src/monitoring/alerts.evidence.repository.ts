/** The audit events an alert's page shows: its evidence, and the events around each piece of it. Reads only. */
import type { Runner } from '../db';
import type { StoredAuditEvent } from './audit.repository';

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** A chain row as GET /audit/events shows it. */
function event(r: Row): StoredAuditEvent {
  return {
    seq: Number(r.seq),
    occurredAt: new Date(r.occurred_at as string | Date),
    actorUserId: str(r.actor_user_id),
    actorOrgId: str(r.actor_org_id),
    actorOrgType: str(r.actor_org_type),
    actorRole: str(r.actor_role),
    certSerial: str(r.cert_serial),
    clientIp: str(r.client_ip),
    userAgent: str(r.user_agent),
    deviceFingerprint: str(r.device_fingerprint),
    requestId: str(r.request_id),
    action: String(r.action),
    objectType: str(r.object_type),
    objectId: str(r.object_id),
    tenderId: str(r.tender_id),
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    prevHash: String(r.prev_hash).trim(),
    hash: String(r.hash).trim(),
  };
}

export const alertEvidenceRepository = {
  async events(db: Runner, seqs: number[]): Promise<StoredAuditEvent[]> {
    if (!seqs.length) return [];
    return (await db('audit_events').whereIn('seq', seqs).orderBy('seq')).map(event);
  },

  /** Up to `n` events before and `n` after `seq` (not itself), of `tenderId` when given, else of the whole chain. */
  async around(db: Runner, seq: number, n: number, tenderId: string | null): Promise<StoredAuditEvent[]> {
    if (n === 0) return [];
    const scoped = () => {
      const q = db('audit_events');
      if (tenderId) q.where('tender_id', tenderId);
      return q;
    };
    const [before, after] = await Promise.all([
      scoped().where('seq', '<', seq).orderBy('seq', 'desc').limit(n),
      scoped().where('seq', '>', seq).orderBy('seq', 'asc').limit(n),
    ]);
    return [...before.reverse(), ...after].map(event);
  },
};
