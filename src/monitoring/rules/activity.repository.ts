/** The audit chain as the rules read it: a tender's events of some kinds, an actor's recent events. */
import type { Runner } from '../../db';
import { auditEventFromRow, type StoredAuditEvent } from '../audit.repository';

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
};
