/**
 * The embedded-mode event bus. Buses with the same prefix in one process share one emitter, like several clients of
 * one Redis: each sees what the others publish.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger';
import type { EventBus, EventListener } from './index';
import { eventChannelName } from './redis-event-bus';

const processEmitter = new EventEmitter();
processEmitter.setMaxListeners(0);

export class MemoryEventBus implements EventBus {
  private readonly own = new Set<{ name: string; fn: (payload: string) => void }>();
  private closed = false;

  constructor(
    private readonly prefix: string,
    private readonly logger?: Logger,
    private readonly emitter: EventEmitter = processEmitter,
  ) {}

  private name(channel: string): string {
    return eventChannelName(this.prefix, channel);
  }

  async publish(channel: string, event: object): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    // Serialised as Redis would carry it, so a subscriber never holds the publisher's object.
    this.emitter.emit(this.name(channel), JSON.stringify(event));
  }

  async subscribe(channel: string, listener: EventListener): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('event bus is closed');
    const name = this.name(channel);
    const entry = {
      name,
      fn: (payload: string) => {
        try {
          listener(JSON.parse(payload) as object);
        } catch (err) {
          this.logger?.warn({ channel, err: err instanceof Error ? err.message : String(err) }, 'event listener threw');
        }
      },
    };
    this.emitter.on(name, entry.fn);
    this.own.add(entry);
    return async () => {
      if (!this.own.delete(entry)) return;
      this.emitter.off(name, entry.fn);
    };
  }

  async ping(): Promise<'ok' | string> {
    return this.closed ? 'closed' : 'ok';
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.own) this.emitter.off(entry.name, entry.fn);
    this.own.clear();
  }
}
