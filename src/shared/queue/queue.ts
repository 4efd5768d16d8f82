/**
 * The queue a dispatcher hands outbox rows to: BullMQ when REDIS_URL is set, in-process otherwise. Both run a job the
 * same way (`runOutboxJob`): skip a row already finished, count the try, run the handler, record the outcome.
 */
import type { Db } from '../../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import * as outbox from './outbox.repository';
import { attemptsOf, UnrecoverableJobError, type JobRegistry } from './jobs';

export interface QueuedJob {
  outboxId: number;
  name: string;
  queue: string;
  payload: object;
}

export interface JobQueue {
  /** Hands a job over. Adding an outbox id the queue already holds is a no-op (the outbox id is the job's identity). */
  add(job: QueuedJob): Promise<void>;
  /** Starts consuming every registry queue in this process. */
  startWorkers(concurrency?: number): Promise<void>;
  /** Whether the queue still holds this job as waiting, delayed or running (a finished or unknown job: false). */
  exists(outboxId: number, queue: string): Promise<boolean>;
  /** Resolves when nothing is waiting, delayed (between retries) or running. */
  drain(): Promise<void>;
  ping(): Promise<'ok' | string>;
  close(): Promise<void>;
}

export interface JobQueueDeps {
  db: Db;
  clock: Clock;
  registry: JobRegistry;
  logger: Logger;
}

export type AttemptOutcome =
  | { kind: 'done' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry'; error: Error }
  | { kind: 'failed'; error: Error; unrecoverable: boolean };

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One try of one job. `attempt` counts from 1; `maxAttempts` is the queue's limit for this job. Never throws for a
 * handler failure: the caller maps the outcome onto its own retry machinery. It throws only when the database itself
 * is unreachable, which the caller treats as a failed try.
 */
export async function runOutboxJob(
  deps: JobQueueDeps,
  job: { outboxId: number; name: string; payload: object },
  attempt: number,
  maxAttempts: number,
): Promise<AttemptOutcome> {
  const log = deps.logger.child({ outboxId: job.outboxId, job: job.name, attempt });
  const row = await outbox.get(deps.db, job.outboxId);
  if (!row) {
    log.warn('outbox row not found; job dropped');
    return { kind: 'skipped', reason: 'missing' };
  }
  // Idempotency: a second delivery of a finished job (re-enqueued by the sweeper, added twice) does nothing.
  if (row.status === 'done' || row.status === 'failed') {
    log.debug({ status: row.status }, 'outbox row already finished; duplicate delivery skipped');
    return { kind: 'skipped', reason: row.status };
  }
  await outbox.recordAttempt(deps.db, job.outboxId);
  try {
    const def = deps.registry.get(job.name);
    await def.handle(job.payload, { outboxId: job.outboxId, attempt });
  } catch (err) {
    const error = asError(err);
    const unrecoverable = error instanceof UnrecoverableJobError;
    if (unrecoverable || attempt >= maxAttempts) {
      await outbox.markFailed(deps.db, job.outboxId, deps.clock.now(), errorText(error));
      log.error({ err: { name: error.name, message: error.message }, unrecoverable }, 'job failed for good');
      return { kind: 'failed', error, unrecoverable };
    }
    await outbox.recordError(deps.db, job.outboxId, errorText(error));
    log.warn({ err: { name: error.name, message: error.message } }, 'job failed; will retry');
    return { kind: 'retry', error };
  }
  await outbox.markDone(deps.db, job.outboxId, deps.clock.now());
  log.debug('job done');
  return { kind: 'done' };
}

/** The attempts limit for a job name (an unknown name gets one try, which fails as unrecoverable). */
export function maxAttemptsFor(registry: JobRegistry, name: string): number {
  return registry.has(name) ? attemptsOf(registry.get(name)) : 1;
}
