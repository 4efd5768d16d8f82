/**
 * The embedded-mode queue (no REDIS_URL): jobs run in this process with the same attempts, exponential backoff and
 * outbox bookkeeping as under BullMQ. Nothing here needs to survive a restart: the outbox row stays 'enqueued' and the
 * sweeper hands it over again.
 */
import { backoffOf, type JobRegistry } from './jobs';
import { errorText, maxAttemptsFor, runOutboxJob, type JobQueue, type JobQueueDeps, type QueuedJob } from './queue';

/** Backoff is real time here; keep it short so a retry in the embedded default doesn't stall a demo. */
const MAX_INPROCESS_BACKOFF_MS = 1000;

interface Entry {
  job: QueuedJob;
  attempt: number;
}

export class InProcessJobQueue implements JobQueue {
  /** Outbox ids waiting, backing off or running: a second add of one of them is a no-op, as with a BullMQ jobId. */
  private readonly held = new Set<number>();
  private readonly waiting: Entry[] = [];
  private readonly backoffTimers = new Set<NodeJS.Timeout>();
  private running = 0;
  private concurrency = 0;
  private started = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly registry: JobRegistry;

  constructor(private readonly deps: JobQueueDeps) {
    this.registry = deps.registry;
  }

  async add(job: QueuedJob): Promise<void> {
    if (this.closed) throw new Error('job queue is closed');
    if (this.held.has(job.outboxId)) return;
    this.held.add(job.outboxId);
    this.waiting.push({ job, attempt: 1 });
    this.pump();
  }

  async startWorkers(concurrency = 4): Promise<void> {
    this.concurrency = Math.max(1, concurrency);
    this.started = true;
    this.pump();
  }

  async exists(outboxId: number): Promise<boolean> {
    return this.held.has(outboxId);
  }

  async drain(): Promise<void> {
    if (this.isIdle()) return;
    if (!this.started && this.waiting.length > 0) {
      throw new Error('drain(): jobs are waiting but no workers were started in this process');
    }
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async ping(): Promise<'ok' | string> {
    return this.closed ? 'closed' : 'ok';
  }

  async close(): Promise<void> {
    this.closed = true;
    this.started = false;
    for (const t of this.backoffTimers) clearTimeout(t);
    this.backoffTimers.clear();
    // Jobs not started stay 'enqueued' in the outbox; the sweeper of the next process hands them over again.
    for (const e of this.waiting.splice(0)) this.held.delete(e.job.outboxId);
    if (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.running === 0 && this.waiting.length === 0 && this.backoffTimers.size === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private pump(): void {
    while (this.started && this.running < this.concurrency && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      this.running += 1;
      setImmediate(() => {
        void this.runEntry(entry).finally(() => {
          this.running -= 1;
          this.pump();
          this.notifyIdle();
        });
      });
    }
  }

  private async runEntry(entry: Entry): Promise<void> {
    const { job, attempt } = entry;
    const maxAttempts = maxAttemptsFor(this.registry, job.name);
    let retry: boolean;
    try {
      const outcome = await runOutboxJob(this.deps, job, attempt, maxAttempts);
      retry = outcome.kind === 'retry';
    } catch (err) {
      // The outbox itself could not be read or written (database down): try again like a failed try, and leave the
      // row 'enqueued' for the sweeper once the tries run out.
      this.deps.logger.error({ outboxId: job.outboxId, err: errorText(err) }, 'job bookkeeping failed');
      retry = attempt < maxAttempts;
    }
    if (!retry || this.closed) {
      this.held.delete(job.outboxId);
      return;
    }
    const def = this.registry.has(job.name) ? this.registry.get(job.name) : undefined;
    const base = def ? backoffOf(def) : 0;
    const delay = Math.min(base * 2 ** (attempt - 1), MAX_INPROCESS_BACKOFF_MS);
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      this.waiting.push({ job, attempt: attempt + 1 });
      this.pump();
    }, delay);
    this.backoffTimers.add(timer);
  }
}
