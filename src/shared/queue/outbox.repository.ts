/**
 * The outbox table: the only place that touches it with knex. A service calls `enqueueInTrx` inside its own business
 * transaction, so the job exists exactly when the change that causes it commits.
 *
 * Life of a row: pending → (dispatcher claims it, hands it to the queue) enqueued → done | failed.
 * A row whose hand-off failed goes back to pending; a row the queue lost is re-added by the sweeper.
 */
import type { Db, Runner } from '../../db';

export type OutboxStatus = 'pending' | 'enqueued' | 'done' | 'failed';

export interface OutboxRow {
  id: number;
  queue: string;
  name: string;
  payload: Record<string, unknown>;
  runAt: Date;
  status: OutboxStatus;
  attempts: number;
  createdAt: Date;
  enqueuedAt: Date | null;
  finishedAt: Date | null;
  lastError: string | null;
}

export interface NewOutboxJob {
  name: string;
  queue: string;
  /** Ids only — never a secret or bid content. */
  payload: object;
  runAt: Date;
}

interface DbRow {
  id: number | string;
  queue: string;
  name: string;
  payload: Record<string, unknown> | string;
  run_at: Date | string;
  status: OutboxStatus;
  attempts: number;
  created_at: Date | string;
  enqueued_at: Date | string | null;
  finished_at: Date | string | null;
  last_error: string | null;
}

const MAX_ERROR_CHARS = 2000;

function toDate(v: Date | string): Date;
function toDate(v: Date | string | null): Date | null;
function toDate(v: Date | string | null): Date | null {
  if (v === null) return null;
  return v instanceof Date ? v : new Date(v);
}

function toRow(r: DbRow): OutboxRow {
  return {
    id: Number(r.id),
    queue: r.queue,
    name: r.name,
    payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as Record<string, unknown>) : r.payload,
    runAt: toDate(r.run_at),
    status: r.status,
    attempts: r.attempts,
    createdAt: toDate(r.created_at),
    enqueuedAt: toDate(r.enqueued_at),
    finishedAt: toDate(r.finished_at),
    lastError: r.last_error,
  };
}

function clip(error: string): string {
  return error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error;
}

/** A payload carries ids; these names mean someone is about to put a secret in Redis and the logs. */
const SECRET_FIELD = /^(password|passphrase|secret|token|privatekey|privatekeypem|contentkey|share|shares|pem|key)$/i;
const MAX_PAYLOAD_CHARS = 4096;

function assertIdsOnly(value: unknown, path: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELD.test(k)) throw new Error(`outbox payload field ${path}${k} looks like a secret; pass ids only`);
    assertIdsOnly(v, `${path}${k}.`);
  }
}

/** Writes a job inside the caller's transaction; returns the outbox id (the job's identity in the queue). */
export async function enqueueInTrx(trx: Runner, job: NewOutboxJob): Promise<number> {
  assertIdsOnly(job.payload, '');
  // Serialised here: pg would turn a top-level array into a Postgres array literal.
  const payload = JSON.stringify(job.payload);
  if (payload.length > MAX_PAYLOAD_CHARS) throw new Error(`outbox payload of ${job.name} is ${payload.length} chars; pass ids only`);
  const [row] = await trx('outbox')
    .insert({
      queue: job.queue,
      name: job.name,
      payload,
      run_at: job.runAt,
      status: 'pending',
    })
    .returning('id');
  return Number((row as { id: number | string }).id);
}

/**
 * Claims up to `limit` pending rows due at `now`, marking them enqueued. SKIP LOCKED lets several dispatchers (API
 * instances, workers) poll at once without claiming the same row twice.
 */
export async function claimDue(db: Db, now: Date, limit: number): Promise<OutboxRow[]> {
  return db.transaction(async (trx) => {
    const due = await trx('outbox')
      .select('id')
      .where('status', 'pending')
      .andWhere('run_at', '<=', now)
      .orderBy([{ column: 'run_at' }, { column: 'id' }])
      .limit(limit)
      .forUpdate()
      .skipLocked();
    if (due.length === 0) return [];
    const rows: DbRow[] = await trx('outbox')
      .whereIn(
        'id',
        due.map((r: { id: number | string }) => r.id),
      )
      .update({ status: 'enqueued', enqueued_at: now })
      .returning('*');
    return rows.map(toRow).sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.id - b.id);
  });
}

/** Jobs not yet done, by status, and the oldest due pending job's run_at: what an operator watches on /metrics. */
export async function openCounts(db: Runner, now: Date): Promise<{ byStatus: Record<'pending' | 'enqueued' | 'failed', number>; oldestDueAt: Date | null }> {
  const rows: Array<{ status: string; n: number | string }> = await db('outbox').whereIn('status', ['pending', 'enqueued', 'failed']).groupBy('status').select('status').count({ n: '*' });
  const byStatus = { pending: 0, enqueued: 0, failed: 0 };
  for (const r of rows) byStatus[r.status as keyof typeof byStatus] = Number(r.n);
  const oldest = await db('outbox').where('status', 'pending').andWhere('run_at', '<=', now).min({ at: 'run_at' }).first();
  return { byStatus, oldestDueAt: oldest?.at ? new Date(oldest.at) : null };
}

/** Puts a claimed row back (the queue refused it, e.g. Redis is down), so the next tick claims it again. */
export async function release(runner: Runner, id: number): Promise<void> {
  await runner('outbox').where({ id, status: 'enqueued' }).update({ status: 'pending', enqueued_at: null });
}

/** Notes that the sweeper handed an enqueued row to the queue again, so it is not re-checked at once. */
export async function markReenqueued(runner: Runner, id: number, now: Date): Promise<void> {
  await runner('outbox').where({ id, status: 'enqueued' }).update({ enqueued_at: now });
}

/** Counts a try before the handler runs (so a try that crashed the process still counts). Returns the new count. */
export async function recordAttempt(runner: Runner, id: number): Promise<number> {
  const [row] = await runner('outbox')
    .where({ id })
    .increment('attempts', 1)
    .returning('attempts');
  return row ? Number((row as { attempts: number }).attempts) : 0;
}

/** Keeps the error of a try that will be retried. */
export async function recordError(runner: Runner, id: number, error: string): Promise<void> {
  await runner('outbox').where({ id }).update({ last_error: clip(error) });
}

export async function markDone(runner: Runner, id: number, now: Date): Promise<void> {
  await runner('outbox')
    .where({ id })
    .whereIn('status', ['pending', 'enqueued'])
    .update({ status: 'done', finished_at: now, last_error: null });
}

export async function markFailed(runner: Runner, id: number, now: Date, error: string): Promise<void> {
  await runner('outbox')
    .where({ id })
    .whereIn('status', ['pending', 'enqueued'])
    .update({ status: 'failed', finished_at: now, last_error: clip(error) });
}

/** Rows handed to the queue before `olderThan` and not finished: the sweeper checks the queue still has them. */
export async function findStale(db: Runner, olderThan: Date, limit = 500): Promise<OutboxRow[]> {
  const rows: DbRow[] = await db('outbox')
    .where('status', 'enqueued')
    .whereNull('finished_at')
    .andWhere('enqueued_at', '<', olderThan)
    .orderBy('id')
    .limit(limit);
  return rows.map(toRow);
}

export async function get(db: Runner, id: number): Promise<OutboxRow | undefined> {
  const row: DbRow | undefined = await db('outbox').where({ id }).first();
  return row ? toRow(row) : undefined;
}

/** Whether a job named `name` whose payload contains `payload` is still to run: for jobs that schedule their successor. */
export async function hasOpenJob(db: Runner, name: string, payload: Record<string, unknown>): Promise<boolean> {
  const row = await db('outbox')
    .where({ name })
    .whereIn('status', ['pending', 'enqueued'])
    .whereRaw('payload @> ?::jsonb', [JSON.stringify(payload)])
    .first('id');
  return row !== undefined;
}
