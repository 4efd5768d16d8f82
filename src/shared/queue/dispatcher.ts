/**
 * Moves due outbox rows into the queue, and re-adds what the queue lost.
 * - tick: claim rows with run_at <= clock.now() (FOR UPDATE SKIP LOCKED, so several dispatchers can run), then add
 *   them to the queue after the claim commits. If the add fails (Redis down), the row goes back to 'pending'.
 *   If this process dies between the claim and the add, the row stays 'enqueued' and the sweeper picks it up.
 * - sweep: rows 'enqueued' for longer than sweepSeconds whose job the queue no longer holds are added again. Adding a
 *   job id the queue still holds is a no-op, and runners skip finished rows, so re-adding is always safe.
 * Due times follow the platform Clock: moving a ControllableClock makes the dispatcher look again at once.
 */
import type { Db } from '../../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { JobRegistry } from './jobs';
import * as outbox from './outbox.repository';
import { errorText, type JobQueue } from './queue';

export interface OutboxDispatcherDeps {
  db: Db;
  clock: Clock;
  queue: JobQueue;
  registry: JobRegistry;
  logger: Logger;
  pollMs: number;
  sweepSeconds: number;
  /** Rows claimed per round. @defaultValue 100 */
  batchSize?: number;
}

interface ChangeableClock extends Clock {
  onChange(listener: (now: Date) => void): () => void;
}

function hasOnChange(clock: Clock): clock is ChangeableClock {
  return typeof (clock as Partial<ChangeableClock>).onChange === 'function';
}

export class OutboxDispatcher {
  private pollTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private unsubscribeClock: (() => void) | undefined;
  /** Ticks run one after another, never overlapping, so a row is never claimed and added by two rounds at once. */
  private tickChain: Promise<unknown> = Promise.resolve();
  private sweepChain: Promise<unknown> = Promise.resolve();
  private backgroundTickQueued = false;
  private running = false;
  private readonly batchSize: number;

  constructor(private readonly deps: OutboxDispatcherDeps) {
    this.batchSize = deps.batchSize ?? 100;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pollTimer = setInterval(() => this.backgroundTick(), this.deps.pollMs);
    this.pollTimer.unref();
    this.sweepTimer = setInterval(() => {
      this.sweep().catch((err) => this.deps.logger.error({ err: errorText(err) }, 'outbox sweep failed'));
    }, this.deps.sweepSeconds * 1000);
    this.sweepTimer.unref();
    if (hasOnChange(this.deps.clock)) this.unsubscribeClock = this.deps.clock.onChange(() => this.backgroundTick());
    this.backgroundTick();
  }

  /** Stops polling and waits for a round in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.pollTimer);
    clearInterval(this.sweepTimer);
    this.unsubscribeClock?.();
    this.unsubscribeClock = undefined;
    await Promise.allSettled([this.tickChain, this.sweepChain]);
  }

  /** Claims every due row and hands it to the queue; returns how many were handed over. */
  tick(): Promise<number> {
    const run = this.tickChain.then(() => this.dispatchDue());
    this.tickChain = run.catch(() => undefined);
    return run;
  }

  /** Re-adds stale 'enqueued' rows the queue no longer holds; returns how many. */
  sweep(): Promise<number> {
    const run = this.sweepChain.then(() => this.sweepStale());
    this.sweepChain = run.catch(() => undefined);
    return run;
  }

  private backgroundTick(): void {
    if (!this.running || this.backgroundTickQueued) return;
    this.backgroundTickQueued = true;
    this.tick()
      .catch((err) => this.deps.logger.error({ err: errorText(err) }, 'outbox dispatch failed'))
      .finally(() => {
        this.backgroundTickQueued = false;
      });
  }

  private async dispatchDue(): Promise<number> {
    let handed = 0;
    for (;;) {
      const rows = await outbox.claimDue(this.deps.db, this.deps.clock.now(), this.batchSize);
      let refused = 0;
      for (const row of rows) {
        if (await this.handOver(row)) handed += 1;
        else refused += 1;
      }
      // A full batch means more may be due; but if the queue refused some, those rows are pending again and
      // claiming at once would only spin while Redis is down: leave them to the next poll.
      if (rows.length < this.batchSize || refused > 0) return handed;
    }
  }

  private async handOver(row: outbox.OutboxRow): Promise<boolean> {
    const { db, queue, registry, clock, logger } = this.deps;
    if (!registry.has(row.name)) {
      // Not retryable: no process that shares this registry can run it. Kept as 'failed' with the reason.
      await outbox.markFailed(db, row.id, clock.now(), `no job named "${row.name}" is registered`);
      logger.error({ outboxId: row.id, job: row.name }, 'outbox row names an unknown job');
      return false;
    }
    try {
      await queue.add({ outboxId: row.id, name: row.name, queue: row.queue, payload: row.payload });
      return true;
    } catch (err) {
      logger.warn({ outboxId: row.id, job: row.name, err: errorText(err) }, 'queue refused job; back to pending');
      try {
        await outbox.release(db, row.id);
      } catch (releaseErr) {
        // Still 'enqueued': the sweeper re-adds it once the queue answers again.
        logger.error({ outboxId: row.id, err: errorText(releaseErr) }, 'could not release outbox row');
      }
      return false;
    }
  }

  private async sweepStale(): Promise<number> {
    const { db, queue, clock, logger, sweepSeconds } = this.deps;
    const now = clock.now();
    const stale = await outbox.findStale(db, new Date(now.getTime() - sweepSeconds * 1000));
    let readded = 0;
    for (const row of stale) {
      if (await queue.exists(row.id, row.queue)) continue;
      logger.warn({ outboxId: row.id, job: row.name }, 'queue lost an enqueued job; adding it again');
      if (await this.handOver(row)) {
        await outbox.markReenqueued(db, row.id, now);
        readded += 1;
      }
    }
    return readded;
  }
}
