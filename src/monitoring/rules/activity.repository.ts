/** The audit chain as the rules read it: a tender's events of some kinds, refused sign-ins, when a tender was sealed. */
import type { Runner } from '../../db';
import { auditEventFromRow, type StoredAuditEvent } from '../audit.repository';

/** A payload field as text, for `whereIn` (knex takes a raw column there; its types do not say so). */
const jsonText = (db: Runner, field: 'username' | 'certSerial' | 'to') => db.raw('payload->>?', [field]) as unknown as string;

export const activityRepository = {
  /** The events of these tenders with these actions, by organisations of this type, in chain order. */
  async ofTenders(db: Runner, tenderIds: string[], actions: readonly string[], actorOrgType: string): Promise<StoredAuditEvent[]> {
    if (tenderIds.length === 0) return [];
    const rows = await db('audit_events')
      .whereIn('tender_id', tenderIds)
      .whereIn('action', actions as string[])
      .where('actor_org_type', actorOrgType)
      .orderBy('seq');
    return rows.map(auditEventFromRow);
  },

  /**
   * Refused sign-ins and enrolments from `since` to `until`, for these accounts (username or certificate serial) or
   * these addresses, in time order: the window the login-failures rule counts in.
   */
  async loginFailures(
    db: Runner,
    actions: readonly string[],
    range: { since: Date; until: Date },
    who: { usernames: string[]; serials: string[]; ips: string[] },
  ): Promise<StoredAuditEvent[]> {
    const rows = await db('audit_events')
      .whereIn('action', actions as string[])
      .where('occurred_at', '>=', range.since)
      .where('occurred_at', '<=', range.until)
      .where((q) => {
        q.whereIn(jsonText(db, 'username'), who.usernames)
          .orWhereIn(jsonText(db, 'certSerial'), who.serials)
          .orWhereIn('client_ip', who.ips);
      })
      .orderBy('seq');
    return rows.map(auditEventFromRow);
  },

  /**
   * When each tender's bids were sealed on the chain: from its publication until its opening made them public (the
   * first move to a state where the prices are read, or a failed opening) or its termination. Sequence numbers,
   * so an event is inside the span by the chain's own order.
   */
  async sealedSpans(db: Runner, tenderIds: string[], unsealingStates: readonly string[]): Promise<Map<string, { from: number; until: number | null }>> {
    const out = new Map<string, { from: number; until: number | null }>();
    if (tenderIds.length === 0) return out;
    const rows = await db('audit_events')
      .whereIn('tender_id', tenderIds)
      .where((q) => {
        q.whereIn('action', ['tender.publish', 'tender.terminate']).orWhere((o) =>
          o.where('action', 'opening.transition').whereIn(jsonText(db, 'to'), unsealingStates as string[]),
        );
      })
      .groupBy('tender_id', 'action')
      .select('tender_id', 'action', db.raw('min(seq) AS seq'));
    for (const r of rows) {
      const span = out.get(r.tender_id) ?? { from: Number.POSITIVE_INFINITY, until: null };
      const seq = Number(r.seq);
      if (r.action === 'tender.publish') span.from = seq;
      else span.until = span.until === null ? seq : Math.min(span.until, seq);
      out.set(r.tender_id, span);
    }
    return out;
  },
};
