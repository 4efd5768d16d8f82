/** Jobs: REDIS_URL set → BullMQ; unset → in-process. The same handlers, outbox and dispatcher either way. */
import type { Config } from '../../config';
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
