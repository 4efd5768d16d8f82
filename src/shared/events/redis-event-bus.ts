/**
 * Redis pub/sub: one connection publishes, one subscribes (a subscribed ioredis connection can do nothing else).
 * Channel names are `${prefix}:events:${channel}`; payloads are JSON.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { quitAll, whenReady } from '../redis';
import type { EventBus, EventListener } from './index';

/** The full channel name, `${prefix}:events:${channel}` (the in-process bus uses the same names). */
export function eventChannelName(prefix: string, channel: string): string {
  if (!/^[A-Za-z0-9:_.-]{1,200}$/.test(channel)) throw new Error(`invalid event channel "${channel}"`);
  return `${prefix}:events:${channel}`;
}

const PUBLISH_READY_TIMEOUT_MS = 2000;

export class RedisEventBus implements EventBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {
    this.pub = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    // The subscriber keeps its offline queue: ioredis re-subscribes its channels itself after a reconnect.
    this.sub = new Redis(url, { maxRetriesPerRequest: null });
    for (const [role, conn] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      conn.on('error', (err: Error) => this.logger?.warn({ role, err: err.message }, 'redis (events) error'));
    }
    this.sub.on('message', (name: string, message: string) => this.deliver(name, message));
  }

  private name(channel: string): string {
    return eventChannelName(this.prefix, channel);
  }

  private deliver(name: string, message: string): void {
    const set = this.listeners.get(name);
    if (!set || set.size === 0) return;
    let event: object;
    try {
      event = JSON.parse(message) as object;
    } catch {
      this.logger?.warn({ channel: name }, 'event is not JSON; dropped');
      return;
    }
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (err) {
        this.logger?.warn({ channel: name, err: err instanceof Error ? err.message : String(err) }, 'event listener threw');
      }
    }
  }

  async publish(channel: string, event: object): Promise<void> {
    await whenReady(this.pub, PUBLISH_READY_TIMEOUT_MS);
    await this.pub.publish(this.name(channel), JSON.stringify(event));
  }

  async subscribe(channel: string, listener: EventListener): Promise<() => Promise<void>> {
    const name = this.name(channel);
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    const first = set.size === 0;
    set.add(listener);
    if (first) {
      const subscribing = this.sub.subscribe(name).finally(() => this.subscribing.delete(name));
      this.subscribing.set(name, subscribing);
      try {
        await subscribing;
      } catch (err) {
        set.delete(listener);
        throw err;
      }
    } else {
      // Another caller's SUBSCRIBE for this channel may still be in flight: resolve only once it is active.
      await this.subscribing.get(name);
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const current = this.listeners.get(name);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(name);
        if (this.sub.status === 'ready') await this.sub.unsubscribe(name);
      }
    };
  }

  async ping(): Promise<'ok' | string> {
    try {
      await whenReady(this.pub, PUBLISH_READY_TIMEOUT_MS);
      const pong = await this.pub.ping();
      return pong === 'PONG' ? 'ok' : `unexpected reply: ${pong}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.listeners.clear();
      await quitAll([this.sub, this.pub]);
    })();
    return this.closing;
  }

}
