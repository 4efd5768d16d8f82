/**
 * Live events of openings (不见面开标): every transition of an opening is shown in the opening hall, to viewers on
 * any API instance, and a viewer that reconnects gets what it missed.
 *
 * How it stays correct across instances:
 * - `record()` appends the event in the caller's transaction: it exists if and only if the change committed, and its
 *   seq (1, 2, 3… per tender) is assigned under a per-tender lock, so commit order is seq order.
 * - `announce()`, called after the commit, publishes only a poke `{ tenderId }` on `live:<tenderId>`. The event data
 *   stays in PostgreSQL and every instance reads it from there: ordering is the database's, and a lost poke loses
 *   nothing (a slow safety poll reads what a poke would have announced).
 * - Each instance keeps one hub per tender with local viewers. On a poke the hub reads the rows after the highest seq
 *   it has read, ONCE for all its viewers (1,000 viewers of one opening cost one query per event per instance), and
 *   hands each viewer the events after its own last seq, in order. A joining viewer replays from the database first
 *   (from its Last-Event-ID) and then continues live, without gaps or duplicates: joins and reads of a hub run one
 *   at a time, and every hand-over is filtered by the viewer's last seq.
 */
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import type { EventBus } from '../shared/events';
import type { Logger } from '../shared/logger';
import type { Actor } from '../shared/access';
import { NotFound } from '../shared/errors';
import { tendersRepository, type Tender } from '../tenders/tenders.repository';
import { canSeeTender } from '../tenders/tender-access';
import { liveRepository, type LiveEvent } from './live.repository';

export type { LiveEvent };

export interface LiveOptions {
  logger?: Logger;
  /** Safety poll for lost pokes, while this instance has viewers (default 5 s). */
  pollMs?: number;
  /** Rows per read (default 500). */
  pageSize?: number;
}

export type LiveListener = (event: LiveEvent) => void;

/** The bus channel a tender's pokes travel on. */
export function liveChannel(tenderId: string): string {
  return `live:${tenderId}`;
}

/** Who may watch a tender's opening live: whoever may see the tender, so the hall never shows what its page hides. */
export const canWatch = canSeeTender;

// ---------------------------------------------------------------------------------------------------------------
// What may be recorded: plain JSON for a public hall. Names that must never appear (the audit chain's list, plus a
// few that would carry bid content) are refused loudly, as are values that are not JSON (Buffers, BigInts, class
// instances) and anything too large to be a state change.

const SECRET_KEYS =
  /^(password|passwordHash|privateKey|privateKeyPem|contentKey|cek|share|shares|sealedShare|releasedShare|token|accessToken|secret|signature|key|keys|plaintext|envelope|content|bidContent)$/i;
const EVENT_TYPE = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;
const MAX_STRING = 2_000;
const MAX_DEPTH = 8;
const MAX_BYTES = 16_384;

function refuse(path: string, why: string): never {
  throw new Error(`live event ${path}: ${why}`);
}

function plainJson(value: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) refuse(path, 'nested too deeply');
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length <= MAX_STRING ? value : refuse(path, 'string too long (bid content may not be recorded)');
  if (typeof value === 'number') return Number.isFinite(value) ? value : refuse(path, 'not a finite number');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? refuse(path, 'invalid date') : value.toISOString();
  if (Array.isArray(value)) return value.map((v, i) => plainJson(v, `${path}[${i}]`, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) refuse(path, 'not plain JSON (ids, states, times, figures only)');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEYS.test(k)) refuse(`${path}.${k}`, 'secret material or bid content may not be recorded');
      if (v === undefined) continue;
      out[k] = plainJson(v, `${path}.${k}`, depth + 1);
    }
    return out;
  }
  return refuse(path, `a ${typeof value} is not plain JSON`);
}

/** The data of a live event, checked and normalised (Dates become ISO strings). Throws on anything else. */
export function liveEventData(data: Record<string, unknown>): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) refuse('data', 'must be an object');
  const out = plainJson(data, 'data', 0) as Record<string, unknown>;
  if (Buffer.byteLength(JSON.stringify(out)) > MAX_BYTES) refuse('data', `larger than ${MAX_BYTES} bytes`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

interface Subscriber {
  /** Highest seq handed to this viewer. */
  lastSeq: number;
  /** false while it replays; the hub hands it events only once it is live. */
  live: boolean;
  closed: boolean;
  onEvent: LiveListener;
  /** Called if the instance stops watching for it (shutdown), so the viewer can reconnect elsewhere. */
  onEnd?: () => void;
}

interface Hub {
  tenderId: string;
  subscribers: Set<Subscriber>;
  /** Highest seq the hub has read for its live viewers; null until the first viewer went live. */
  lastSeq: number | null;
  /** Joins and reads of this hub, one at a time. */
  chain: Promise<void>;
  pumpQueued: boolean;
  /** Resolves once the bus subscription is active. */
  ready: Promise<void>;
  stopBus: (() => Promise<void>) | null;
  closed: boolean;
}

export class LiveEvents {
  private readonly hubs = new Map<string, Hub>();
  private readonly logger?: Logger;
  private readonly pollMs: number;
  private readonly pageSize: number;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    readonly clock: Clock,
    private readonly bus: EventBus,
    opts: LiveOptions = {},
  ) {
    this.logger = opts.logger;
    this.pollMs = opts.pollMs ?? 5_000;
    this.pageSize = opts.pageSize ?? 500;
  }

  /** The tender, if `actor` may watch it; otherwise 404 (a tender one may not see does not exist for one). */
  async watchable(actor: Actor, tenderId: string): Promise<Tender> {
    const tender = await tendersRepository.findTender(this.db, tenderId);
    if (!tender || !canWatch(actor, tender)) throw NotFound({ resource: '招标项目' });
    return tender;
  }

  /**
   * Appends an event in the caller's transaction, so it exists if and only if the change commits. `data` must be
   * plain JSON (ids, states, times, figures): keys, shares and bid content are refused. After the commit, call
   * `announce(tenderId)`.
   */
  async record(trx: Runner, tenderId: string, type: string, data: Record<string, unknown> = {}): Promise<LiveEvent> {
    if (type.length > 64 || !EVENT_TYPE.test(type)) throw new Error(`live event type "${type}" is not a dotted lower-case name`);
    return liveRepository.append(trx, tenderId, type, liveEventData(data), this.clock.now());
  }

  /**
   * After the caller's transaction committed: tells every instance to read the tender's new events. Never fails the
   * caller — the events are committed; if the poke is lost, the safety poll delivers them a few seconds later.
   */
  async announce(tenderId: string): Promise<void> {
    try {
      await this.bus.publish(liveChannel(tenderId), { tenderId });
    } catch (err) {
      this.logger?.warn({ tenderId, err: err instanceof Error ? err.message : String(err) }, 'live poke not published; viewers catch up by polling');
      const hub = this.hubs.get(tenderId);
      if (hub) this.schedulePump(hub);
    }
  }

  /**
   * Watches a tender from `afterSeq` (a viewer's Last-Event-ID; 0 for everything): first the recorded events after
   * it, then live ones, each once and in order. Resolves once the replay was handed over and the viewer is live;
   * the returned function stops watching. `onEnd` is called if this instance drops the viewer (shutdown).
   */
  async subscribe(tenderId: string, afterSeq: number, onEvent: LiveListener, onEnd?: () => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('live events are closed');
    const hub = this.hubs.get(tenderId) ?? this.openHub(tenderId);
    const sub: Subscriber = { lastSeq: Number.isSafeInteger(afterSeq) && afterSeq > 0 ? afterSeq : 0, live: false, closed: false, onEvent, onEnd };
    hub.subscribers.add(sub);
    this.startPoll();
    const unsubscribe = async () => {
      if (sub.closed) return;
      sub.closed = true;
      hub.subscribers.delete(sub);
      if (hub.subscribers.size === 0) await this.closeHub(hub);
    };
    try {
      await hub.ready;
      if (sub.lastSeq > 0) {
        // a Last-Event-ID from the future (a restored database, a hand-made request) would hide what comes next
        const latest = await liveRepository.latestSeq(this.db, tenderId);
        if (sub.lastSeq > latest) sub.lastSeq = latest;
      }
      // the bulk of the replay runs outside the hub's queue, so a late joiner doesn't hold up everyone else
      await this.replay(hub, sub);
      await this.enqueue(hub, async () => {
        if (sub.closed) return;
        // what was committed since, up to what the hub has read; after this the hub's reads continue for this viewer
        if (hub.lastSeq === null || sub.lastSeq < hub.lastSeq) await this.replay(hub, sub);
        if (hub.lastSeq === null) hub.lastSeq = sub.lastSeq;
        sub.live = true;
      });
    } catch (err) {
      await unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  /** Viewers on this instance (all tenders) that finished their replay and receive events live; for metrics and tests. */
  get viewerCount(): number {
    let n = 0;
    for (const hub of this.hubs.values()) for (const sub of hub.subscribers) if (sub.live) n++;
    return n;
  }

  /** Drops every viewer (telling each, so its stream ends and the browser reconnects elsewhere) and bus subscription. */
  async close(): Promise<void> {
    this.closed = true;
    const hubs = [...this.hubs.values()];
    const dropped = hubs.flatMap((hub) => [...hub.subscribers]);
    await Promise.all(hubs.map((hub) => this.closeHub(hub)));
    this.stopPoll();
    for (const sub of dropped) {
      try {
        sub.onEnd?.();
      } catch {
        // the viewer is gone either way
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------

  private openHub(tenderId: string): Hub {
    const hub: Hub = {
      tenderId,
      subscribers: new Set(),
      lastSeq: null,
      chain: Promise.resolve(),
      pumpQueued: false,
      ready: Promise.resolve(),
      stopBus: null,
      closed: false,
    };
    hub.ready = this.bus
      .subscribe(liveChannel(tenderId), (poke) => {
        if ((poke as { tenderId?: unknown }).tenderId === tenderId) this.schedulePump(hub);
      })
      .then(
        async (stop) => {
          if (hub.closed) await stop();
          else hub.stopBus = stop;
        },
        (err: unknown) => {
          // forget the hub, so the next viewer tries again (its own viewers unsubscribe as their joins fail)
          if (this.hubs.get(tenderId) === hub) this.hubs.delete(tenderId);
          throw err;
        },
      );
    hub.ready.catch(() => undefined);
    this.hubs.set(tenderId, hub);
    return hub;
  }

  private async closeHub(hub: Hub): Promise<void> {
    if (hub.closed) return;
    hub.closed = true;
    for (const sub of hub.subscribers) sub.closed = true;
    hub.subscribers.clear();
    if (this.hubs.get(hub.tenderId) === hub) this.hubs.delete(hub.tenderId);
    if (this.hubs.size === 0) this.stopPoll();
    const stop = hub.stopBus;
    hub.stopBus = null;
    if (stop) {
      try {
        await stop();
      } catch (err) {
        this.logger?.warn({ tenderId: hub.tenderId, err: err instanceof Error ? err.message : String(err) }, 'live unsubscribe failed');
      }
    }
  }

  private enqueue(hub: Hub, step: () => Promise<void>): Promise<void> {
    const run = hub.chain.then(step);
    hub.chain = run.catch(() => undefined);
    return run;
  }

  /** One read for every live viewer of the hub; coalesces pokes that arrive while a read is already queued. */
  private schedulePump(hub: Hub): void {
    if (hub.pumpQueued || hub.closed) return;
    hub.pumpQueued = true;
    this.enqueue(hub, async () => {
      hub.pumpQueued = false;
      await this.pump(hub);
    }).catch((err: unknown) => {
      this.logger?.warn({ tenderId: hub.tenderId, err: err instanceof Error ? err.message : String(err) }, 'live read failed; retried by the poll');
    });
  }

  private async pump(hub: Hub): Promise<void> {
    if (hub.closed || hub.lastSeq === null) return;
    if (![...hub.subscribers].some((s) => s.live)) return;
    for (;;) {
      const events = await liveRepository.after(this.db, hub.tenderId, hub.lastSeq, this.pageSize);
      for (const event of events) {
        Object.freeze(event);
        for (const sub of hub.subscribers) if (sub.live && event.seq > sub.lastSeq) this.deliver(hub, sub, event);
        hub.lastSeq = event.seq;
      }
      if (events.length < this.pageSize || hub.closed) return;
    }
  }

  /** Reads and hands over everything after the viewer's last seq, page by page. */
  private async replay(hub: Hub, sub: Subscriber): Promise<void> {
    for (;;) {
      if (sub.closed) return;
      const events = await liveRepository.after(this.db, hub.tenderId, sub.lastSeq, this.pageSize);
      for (const event of events) if (event.seq > sub.lastSeq) this.deliver(hub, sub, Object.freeze(event));
      if (events.length < this.pageSize) return;
    }
  }

  private deliver(hub: Hub, sub: Subscriber, event: LiveEvent): void {
    if (sub.closed) return;
    sub.lastSeq = event.seq;
    try {
      sub.onEvent(event);
    } catch (err) {
      this.logger?.warn({ tenderId: hub.tenderId, seq: event.seq, err: err instanceof Error ? err.message : String(err) }, 'live viewer threw');
    }
  }

  private startPoll(): void {
    if (this.poll) return;
    this.poll = setInterval(() => {
      for (const hub of this.hubs.values()) this.schedulePump(hub);
    }, this.pollMs);
    this.poll.unref();
  }

  private stopPoll(): void {
    if (!this.poll) return;
    clearInterval(this.poll);
    this.poll = null;
  }
}
