/** The engine's own SQL: its cursor over the audit chain, and alerts inserted once per (rule, key). */
import type { Runner } from '../../db';
import type { NewAlert } from '../alerts.repository';

export const rulesRepository = {
  /** Locks the cursor row (creating it at 0), so one scan at a time advances it whatever the number of instances. */
  async lockCursor(trx: Runner, name: string, at: Date): Promise<number> {
    await trx('monitoring_cursors').insert({ name, seq: 0, updated_at: at }).onConflict('name').ignore();
    const row = await trx('monitoring_cursors').where({ name }).forUpdate().first();
    return Number(row.seq);
  },

  async moveCursor(trx: Runner, name: string, seq: number, at: Date): Promise<void> {
    await trx('monitoring_cursors').where({ name }).update({ seq, updated_at: at });
  },

  /** Inserts the alert unless one with the same rule and key exists; returns its id when it was inserted. */
  async insertOnce(trx: Runner, a: NewAlert, dedupeKey: string, at: Date): Promise<string | null> {
    const rows = await trx('alerts')
      .insert({
        rule: a.rule,
        severity: a.severity,
        title: a.title,
        basis: a.basis,
        tender_id: a.tenderId,
        subject_org_id: a.subjectOrgId,
        evidence: JSON.stringify(a.evidence),
        raised_at: at,
        dedupe_key: dedupeKey,
      })
      .onConflict(['rule', 'dedupe_key'])
      .ignore()
      .returning('id');
    return rows[0]?.id ?? null;
  },
};
