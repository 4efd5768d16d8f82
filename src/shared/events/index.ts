/**
 * Live events (opening hall, consoles): published by whichever instance made the change, delivered to every
 * subscriber on every instance. REDIS_URL set → Redis pub/sub (fan-out across instances); unset → an in-process
 * emitter. Events are JSON: a subscriber sees `JSON.parse(JSON.stringify(event))` in both modes (Dates arrive as
 * strings). Delivery is at-most-once and not persisted: the durable record is in PostgreSQL, from which SSE replays.
 */
import type { Config } from '../../config';
import type { Logger } from '../logger';
import { MemoryEventBus } from './memory-event-bus';
import { RedisEventBus } from './redis-event-bus';

export type EventListener = (event: object) => void;

export interface EventBus {
  publish(channel: string, event: object): Promise<void>;
  /** Resolves once the subscription is active; the returned function unsubscribes this listener. */
  subscribe(channel: string, listener: EventListener): Promise<() => Promise<void>>;
  ping(): Promise<'ok' | string>;
  close(): Promise<void>;
}

export function createEventBus(config: Pick<Config, 'redis'>, logger?: Logger): EventBus {
  if (config.redis.url) return new RedisEventBus(config.redis.url, config.redis.prefix, logger);
  return new MemoryEventBus(config.redis.prefix, logger);
}
