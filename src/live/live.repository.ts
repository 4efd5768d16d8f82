/** The only knex for live events. */
import type { Runner } from '../db';

export interface LiveEvent {
  tenderId: string;
  /** 1, 2, 3… per tender: the SSE event id. */
  seq: number;
  type: string;
  data: Record<string, unknown>;
  occurredAt: Date;
}

type Row = Record<string, unknown>;

const liveEvent = (r: Row): LiveEvent => ({
  tenderId: r.tender_id as string,
  seq: Number(r.seq),
  type: r.type as string,
  data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>,
  occurredAt: new Date(r.occurred_at as string | Date),
});

export const liveRepository = {
  /**
   * Appends the tender's next event. The advisory lock (per tender, held until the caller's transaction ends)
   * serialises appends, so seq has no gaps or duplicates and seq N+1 can only commit after N did: a reader that
   * sees N+1 has already seen N. Call inside a transaction (READ COMMITTED, the default).
   */
  async append(trx: Runner, tenderId: string, type: string, data: Record<string, unknown>, at: Date): Promise<LiveEvent> {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('live:' || ?::text))`, [tenderId]);
    const { rows } = await trx.raw(
      `INSERT INTO live_events (tender_id, seq, type, data, occurred_at)
       SELECT ?::uuid, COALESCE(MAX(seq), 0) + 1, ?, ?::jsonb, ? FROM live_events WHERE tender_id = ?::uuid
       RETURNING *`,
      [tenderId, type, JSON.stringify(data), at, tenderId],
    );
    return liveEvent(rows[0]);
  },

  /** Up to `limit` events of the tender with seq > afterSeq, in order. */
  async after(db: Runner, tenderId: string, afterSeq: number, limit: number): Promise<LiveEvent[]> {
    const rows = await db('live_events')
      .where({ tender_id: tenderId })
      .andWhere('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit);
    return rows.map(liveEvent);
  },

  /** The tender's highest seq, 0 when it has none. */
  async latestSeq(db: Runner, tenderId: string): Promise<number> {
    const row = await db('live_events').where({ tender_id: tenderId }).max({ seq: 'seq' }).first();
    return row?.seq == null ? 0 : Number(row.seq);
  },
};
