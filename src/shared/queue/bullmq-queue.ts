/**
 * The Redis-mode queue: one BullMQ Queue and one Worker per registry queue, under `config.redis.prefix`.
 * jobId = `outbox-<id>` (BullMQ refuses integer ids and ids containing ':'), so the outbox id is the idempotency key:
 * adding a jobId BullMQ already holds is a no-op (BullMQ docs, patterns/idempotent-jobs).
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { quitAll, whenReady } from '../redis';
import { backoffOf, attemptsOf } from './jobs';
import { errorText, runOutboxJob, type JobQueue, type JobQueueDeps, type QueuedJob } from './queue';

interface JobData {
  outboxId: number;
  payload: object;
}

/** States in which BullMQ will still run (or is running) a job. */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'wait']);
const DRAIN_POLL_MS = 20;
const READY_TIMEOUT_MS = 2000;

export function bullmqJobId(outboxId: number): string {
  return `outbox-${outboxId}`;
}

export class BullMqJobQueue implements JobQueue {
  /** Shared by the Queues; no offline queue, so `add` fails fast when Redis is down and the row goes back to pending. */
  private readonly queueConnection: Redis;
  /** Shared by the Workers (each duplicates it for its blocking connection). BullMQ requires maxRetriesPerRequest: null. */
  private workerConnection: Redis | undefined;
  private readonly queues = new Map<string, Queue<JobData>>();
  private readonly workers: Worker<JobData>[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: JobQueueDeps,
    private readonly redis: { url: string; prefix: string },
  ) {
    this.queueConnection = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.queueConnection.on('error', (err) => deps.logger.warn({ err: errorText(err) }, 'redis (queues) error'));
    for (const name of deps.registry.queues()) this.queueFor(name);
  }

  private queueFor(name: string): Queue<JobData> {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue<JobData>(name, { connection: this.queueConnection, prefix: this.redis.prefix });
      q.on('error', (err) => this.deps.logger.warn({ queue: name, err: errorText(err) }, 'bullmq queue error'));
      this.queues.set(name, q);
    }
    return q;
  }

  async add(job: QueuedJob): Promise<void> {
    const def = this.deps.registry.get(job.name);
    const queue = this.queueFor(job.queue);
    const jobId = bullmqJobId(job.outboxId);
    // BullMQ itself would wait for a first connection indefinitely; fail instead, so the row goes back to pending.
    await whenReady(this.queueConnection, READY_TIMEOUT_MS);
    // A finished job BullMQ still keeps (removeOnComplete/removeOnFail) would swallow the add; it is only re-added when
    // the outbox row is still open (the sweeper found the DB update lost), so replace it. The runner skips rows that
    // are already done, so this cannot run a finished job twice.
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') await queue.remove(jobId);
    const backoffMs = backoffOf(def);
    await queue.add(
      job.name,
      { outboxId: job.outboxId, payload: job.payload },
      {
        jobId,
        attempts: attemptsOf(def),
        backoff: backoffMs > 0 ? { type: 'exponential', delay: backoffMs } : undefined,
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 86400 },
      },
    );
  }

  async startWorkers(concurrency = 4): Promise<void> {
    if (this.workers.length > 0) return;
    this.workerConnection ??= new Redis(this.redis.url, { maxRetriesPerRequest: null });
    this.workerConnection.on('error', (err) => this.deps.logger.warn({ err: errorText(err) }, 'redis (workers) error'));
    for (const name of this.deps.registry.queues()) {
      const worker = new Worker<JobData>(name, (job) => this.process(job), {
        connection: this.workerConnection,
        prefix: this.redis.prefix,
        concurrency,
      });
      worker.on('error', (err) => this.deps.logger.warn({ queue: name, err: errorText(err) }, 'bullmq worker error'));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private async process(job: Job<JobData>): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    // A bookkeeping failure (database down) throws from here: BullMQ counts it as a failed try and retries.
    const outcome = await runOutboxJob(this.deps, { outboxId: job.data.outboxId, name: job.name, payload: job.data.payload }, attempt, maxAttempts);
    if (outcome.kind === 'retry') throw outcome.error;
    // The outbox row is already 'failed': tell BullMQ not to try again, whatever attempts remain.
    if (outcome.kind === 'failed') throw new UnrecoverableError(errorText(outcome.error));
  }

  async exists(outboxId: number, queue: string): Promise<boolean> {
    const state = await this.queueFor(queue).getJobState(bullmqJobId(outboxId));
    return LIVE_STATES.has(state);
  }

  async drain(): Promise<void> {
    for (;;) {
      let busy = 0;
      for (const q of this.queues.values()) {
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused');
        busy += Object.values(counts).reduce((a, b) => a + b, 0);
      }
      if (busy === 0) return;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  async ping(): Promise<'ok' | string> {
    try {
      await whenReady(this.queueConnection, READY_TIMEOUT_MS);
      const pong = await this.queueConnection.ping();
      return pong === 'PONG' ? 'ok' : `unexpected reply: ${pong}`;
    } catch (err) {
      return errorText(err);
    }
  }

  /** Graceful: workers finish their running jobs, then queues close, then the connections. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.workers.map((w) => w.close()));
      await Promise.all([...this.queues.values()].map((q) => q.close()));
      await quitAll([this.workerConnection, this.queueConnection]);
    })();
    return this.closing;
  }
}
