/**
 * Test environment: a fresh database per run and a Redis key prefix per run.
 * - DATABASE_URL set → a new database `gz_test_<random>` is created on that server, migrated once, dropped at the end.
 * - DATABASE_URL unset → embedded PGlite in memory (the embedded default, same migrations).
 * - REDIS_URL set → BullMQ and Redis pub/sub with prefix `gztest:<random>`; unset → in-process jobs and events.
 */
import crypto from 'node:crypto';
import knexFactory from 'knex';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config';
import { createDb, migrateLatest, type Db } from '../../src/db';

/**
 * This run's id and the databases it created live on the process, not the module: a module reached both by
 * `require` and by `import` (mocha loads some files one way, some the other) is two instances, and the root hook
 * must drop what either created.
 */
const shared = ((globalThis as { __gzTestRun?: { runId: string; created: string[] } }).__gzTestRun ??= {
  runId: crypto.randomBytes(4).toString('hex'),
  created: [],
});

export const runId = shared.runId;

let baseConfig: Config | undefined;
export function testBaseConfig(): Config {
  baseConfig ??= loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', CLOCK: 'controllable', RUN_JOBS_IN_API: 'false',
    // the suites log in and upload many times from 127.0.0.1 as one operator: test/hostile sets small limits itself
    LOGIN_LIMIT_PER_ADDRESS: '100000000', LOGIN_LIMIT_PER_ACCOUNT: '100000000', UPLOAD_LIMIT_PER_BIDDER: '100000000',
  });
  return baseConfig;
}

export function usingRealPostgres(): boolean {
  return Boolean(testBaseConfig().database.url);
}

export function usingRedis(): boolean {
  return Boolean(testBaseConfig().redis.url);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

const created = shared.created;

/** A new, empty database (not migrated): its config and a knex handle. */
export async function createFreshDatabase(label = 'db'): Promise<{ config: Config; db: Db }> {
  const base = testBaseConfig();
  if (!base.database.url) {
    const config: Config = { ...base, database: { ...base.database, embeddedDir: ':memory:' } };
    return { config, db: createDb(config) };
  }
  const name = `gz_test_${runId}_${label}_${created.length}`.toLowerCase();
  const admin = knexFactory({ client: 'pg', connection: base.database.url, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE ??', [name]);
  } finally {
    await admin.destroy();
  }
  created.push(name);
  const config: Config = { ...base, database: { ...base.database, url: withDatabase(base.database.url, name) } };
  return { config, db: createDb(config) };
}

/** A new database with every migration applied. */
export async function createMigratedDatabase(label = 'db'): Promise<{ config: Config; db: Db }> {
  const fresh = await createFreshDatabase(label);
  await migrateLatest(fresh.db);
  return fresh;
}

/** Drops every database this run created (called once after all tests). */
export async function dropCreatedDatabases(): Promise<void> {
  const base = testBaseConfig();
  if (!base.database.url || created.length === 0) return;
  const admin = knexFactory({ client: 'pg', connection: base.database.url, pool: { min: 0, max: 1 } });
  try {
    for (const name of created.splice(0)) await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
  } finally {
    await admin.destroy();
  }
}

/** A Redis prefix unique to this run and label. */
export function redisPrefix(label: string): string {
  return `gztest:${runId}:${label}`;
}

/** Deletes every Redis key under a prefix: what a Redis restart without persistence does to the queues. */
export async function flushRedisPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  try {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) removed += await redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  } finally {
    await redis.quit();
  }
}
