/**
 * The job registry: every job the platform runs is a typed definition (queue, name, retry policy, handler), registered
 * once at start by the domain's `<domain>.jobs.ts`. Payloads carry ids only; a handler loads what it needs from
 * PostgreSQL and must be idempotent (a job can be delivered twice: after a crash, or when the sweeper re-enqueues it).
 */

export interface JobContext {
  /** The outbox row's id: the job's identity and idempotency key. */
  outboxId: number;
  /** 1 for the first try, 2 for the first retry, and so on. */
  attempt: number;
}

export interface JobDefinition<P> {
  queue: string;
  name: string;
  /** Tries in all, including the first. @defaultValue 3 */
  attempts?: number;
  /** Base of the exponential backoff between tries: backoffMs × 2^(try−1). @defaultValue 1000 */
  backoffMs?: number;
  handle(payload: P, ctx: JobContext): Promise<void>;
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;

/** Thrown by a handler for a failure a retry cannot fix (the record is gone, the input is invalid): no more tries. */
export class UnrecoverableJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableJobError';
  }
}

export class JobRegistry {
  private readonly defs = new Map<string, JobDefinition<any>>();

  register<P>(def: JobDefinition<P>): void {
    if (this.defs.has(def.name)) throw new Error(`job "${def.name}" is already registered`);
    if (!/^[A-Za-z0-9_.-]+$/.test(def.queue)) throw new Error(`job "${def.name}": invalid queue name "${def.queue}"`);
    this.defs.set(def.name, def);
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  get(name: string): JobDefinition<any> {
    const def = this.defs.get(name);
    if (!def) throw new UnrecoverableJobError(`no job named "${name}" is registered`);
    return def;
  }

  all(): JobDefinition<any>[] {
    return [...this.defs.values()];
  }

  /** The distinct queue names, in registration order. */
  queues(): string[] {
    return [...new Set(this.all().map((d) => d.queue))];
  }
}

export function attemptsOf(def: JobDefinition<unknown>): number {
  return Math.max(1, def.attempts ?? DEFAULT_ATTEMPTS);
}

export function backoffOf(def: JobDefinition<unknown>): number {
  return Math.max(0, def.backoffMs ?? DEFAULT_BACKOFF_MS);
}
