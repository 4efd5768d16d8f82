/**
 * Fixed-window counters for rate limits. With Redis every API instance counts in the same place (INCR and PEXPIRE in
 * one Lua script, so a key never lives without its expiry); without it the counters live in this process.
 * Windows follow the limiter's own wall time, not the platform clock: a rate limit protects the server, it is not a
 * rule of law, and a demo moving platform time must neither lift nor trip it.
 */
import { Redis } from 'ioredis';

export interface Hit {
  /** hits in the current window, this one included */
  count: number;
  /** milliseconds until the window ends */
  resetMs: number;
}

export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<Hit>;
  close(): Promise<void>;
}

/** Counts in this process. `now` is injectable so a test can end a window without waiting for it. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private sweptAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async hit(key: string, windowMs: number): Promise<Hit> {
    const now = this.now();
    this.sweep(now, windowMs);
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return { count: w.count, resetMs: w.endsAt - now };
  }

  /** Drops ended windows now and then, so a flood of distinct keys cannot grow the map without bound. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.sweptAt < windowMs) return;
    this.sweptAt = now;
    for (const [k, w] of this.windows) if (w.endsAt <= now) this.windows.delete(k);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

// INCR, give a new key its window, and answer the count with the time left (PTTL) in one round trip.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

/** Counts in Redis under `<prefix>:ratelimit:`, shared by every API instance. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    // errors surface on the command that fails; an idle connection's error must not crash the process
    this.redis.on('error', () => undefined);
  }

  async hit(key: string, windowMs: number): Promise<Hit> {
    const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, `${this.prefix}:ratelimit:${key}`, String(windowMs))) as [number, number];
    return { count: Number(count), resetMs: Number(ttl) };
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end' || this.redis.status === 'wait') {
      this.redis.disconnect();
      return;
    }
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export function createRateLimitStore(redis: { url?: string; prefix: string }): RateLimitStore {
  return redis.url ? new RedisRateLimitStore(redis.url, redis.prefix) : new MemoryRateLimitStore();
}
