/**
 * One platform time for a whole deployment under CLOCK=controllable (demos and tests; refused in production, as
 * CLOCK=controllable is). Each process has its own ControllableClock; when an operator moves one (the platform-time
 * route), `share()` stores the new setting and publishes it on the event bus, and every process applies it — so
 * moving time on any API instance moves it on every API instance and worker, and a deadline's job fires wherever
 * the dispatcher runs. A process that starts later reads the stored setting.
 *
 * With REDIS_URL the setting is a Redis key under the prefix and travels over Redis pub/sub; without it there is one
 * process, and the setting is kept per prefix in this process (as the in-process event bus is shared per prefix).
 * Settings carry a version so that a late or repeated message never moves a clock back to an older setting.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config';
import type { ClockSetting, ControllableClock } from './clock';
import type { EventBus } from './events';
import type { Logger } from './logger';
import { quitAll } from './redis';

const CHANNEL = 'platform-clock';

interface VersionedSetting extends ClockSetting {
  version: number;
}

interface SettingStore {
  /** Stores the setting under a new, higher version and returns it with that version. */
  write(setting: ClockSetting): Promise<VersionedSetting>;
  read(): Promise<VersionedSetting | null>;
  close(): Promise<void>;
}

export interface ClockSync {
  /** Stores this process's clock setting and tells every process of the deployment to take it. */
  share(): Promise<void>;
  close(): Promise<void>;
}

// INCR and SET in one script, so the stored setting and its version never disagree.
const WRITE_SCRIPT = "local v = redis.call('INCR', KEYS[1]); redis.call('SET', KEYS[2], v .. ' ' .. ARGV[1]); return v";

class RedisSettingStore implements SettingStore {
  private readonly conn: Redis;
  private readonly versionKey: string;
  private readonly settingKey: string;

  constructor(url: string, prefix: string, logger?: Logger) {
    this.conn = new Redis(url, { maxRetriesPerRequest: 1 });
    this.conn.on('error', (err: Error) => logger?.warn({ err: err.message }, 'redis (platform clock) error'));
    this.versionKey = `${prefix}:platform-clock:version`;
    this.settingKey = `${prefix}:platform-clock`;
  }

  async write(setting: ClockSetting): Promise<VersionedSetting> {
    const version = Number(await this.conn.eval(WRITE_SCRIPT, 2, this.versionKey, this.settingKey, JSON.stringify(setting)));
    return { ...setting, version };
  }

  async read(): Promise<VersionedSetting | null> {
    const raw = await this.conn.get(this.settingKey);
    if (!raw) return null;
    const space = raw.indexOf(' ');
    return { ...(JSON.parse(raw.slice(space + 1)) as ClockSetting), version: Number(raw.slice(0, space)) };
  }

  close(): Promise<void> {
    return quitAll([this.conn]);
  }
}

const processSettings = new Map<string, VersionedSetting>();

class ProcessSettingStore implements SettingStore {
  constructor(private readonly prefix: string) {}

  async write(setting: ClockSetting): Promise<VersionedSetting> {
    const stored = { ...setting, version: (processSettings.get(this.prefix)?.version ?? 0) + 1 };
    processSettings.set(this.prefix, stored);
    return stored;
  }

  async read(): Promise<VersionedSetting | null> {
    return processSettings.get(this.prefix) ?? null;
  }

  async close(): Promise<void> {}
}

function isSetting(value: unknown): value is VersionedSetting {
  const v = value as Partial<VersionedSetting> | null;
  return (
    typeof v === 'object' && v !== null && Number.isSafeInteger(v.version) && Number.isFinite(v.offsetMs) &&
    (v.frozenAt === null || Number.isFinite(v.frozenAt))
  );
}

/** Subscribes `clock` to the deployment's platform time and takes the stored setting, if any. */
export async function startClockSync(
  config: Pick<Config, 'env' | 'redis'>,
  clock: ControllableClock,
  events: EventBus,
  logger?: Logger,
): Promise<ClockSync> {
  if (config.env === 'production') throw new Error('a shared controllable clock is refused in production (EB 27)');
  const store: SettingStore = config.redis.url ? new RedisSettingStore(config.redis.url, config.redis.prefix, logger) : new ProcessSettingStore(config.redis.prefix);
  let applied = 0;
  const take = (setting: VersionedSetting) => {
    if (setting.version <= applied) return;
    applied = setting.version;
    clock.apply({ offsetMs: setting.offsetMs, frozenAt: setting.frozenAt });
  };
  // subscribe before reading, so a move made in between is not missed
  const unsubscribe = await events.subscribe(CHANNEL, (message) => {
    if (isSetting(message)) take(message);
    else logger?.warn('platform clock message ignored: not a clock setting');
  });
  try {
    const stored = await store.read();
    if (stored) take(stored);
  } catch (err) {
    await unsubscribe();
    await store.close();
    throw err;
  }
  return {
    async share() {
      const stored = await store.write(clock.setting());
      applied = Math.max(applied, stored.version);
      await events.publish(CHANNEL, stored);
    },
    async close() {
      await unsubscribe();
      await store.close();
    },
  };
}
