/** Jobs: REDIS_URL set → BullMQ; unset → in-process. The same handlers, outbox and dispatcher either way. */
import type { Config } from '../../config';
import type { Db } from '../../db';
import type { Clock } from '../clock';
import { openCounts } from './outbox.repository';
import { BullMqJobQueue } from './bullmq-queue';
import { InProcessJobQueue } from './inprocess-queue';
import type { JobQueue, JobQueueDeps } from './queue';

export function createJobQueue(config: Pick<Config, 'redis'>, deps: JobQueueDeps): JobQueue {
  if (config.redis.url) return new BullMqJobQueue(deps, { url: config.redis.url, prefix: config.redis.prefix });
  return new InProcessJobQueue(deps);
}

export type { JobQueue, JobQueueDeps, QueuedJob } from './queue';
export { JobRegistry, UnrecoverableJobError, type JobDefinition, type JobContext } from './jobs';
export { OutboxDispatcher, type OutboxDispatcherDeps } from './dispatcher';
export { enqueueInTrx } from './outbox.repository';

/** The outbox's backlog for /metrics: open jobs by status and how long the oldest due one has waited. */
export async function outboxBacklog(db: Db, clock: Clock): Promise<{ byStatus: Record<'pending' | 'enqueued' | 'failed', number>; oldestDueAgeSeconds: number }> {
  const now = clock.now();
  const { byStatus, oldestDueAt } = await openCounts(db, now);
  return { byStatus, oldestDueAgeSeconds: oldestDueAt ? Math.max(0, (now.getTime() - oldestDueAt.getTime()) / 1000) : 0 };
}
