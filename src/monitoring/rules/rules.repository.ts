/** The engine's own SQL: its cursor over the audit chain. */
import type { Runner } from '../../db';

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
};
