/**
 * The real app on a fresh, migrated database (PostgreSQL or PGlite, see env.ts) with a frozen ControllableClock,
 * a temporary blob directory and, with Redis, a key prefix of its own. Tests drive it with supertest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import supertest from 'supertest';
import { buildApp } from '../../src/app';
import { createContext, type AppContext } from '../../src/context';
import type { Config } from '../../src/config';
import { ControllableClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createMigratedDatabase, redisPrefix } from './env';

/** 2026-11-23 09:00 Asia/Shanghai, a Monday. */
export const T0 = new Date('2026-11-23T01:00:00Z');

export const ADMIN_PASSWORD = 'operator-password-for-tests';

export interface TestApp {
  ctx: AppContext;
  app: Express;
  http: ReturnType<typeof supertest>;
  clock: ControllableClock;
  blobDir: string;
  close(): Promise<void>;
}

/**
 * `logs`: collect every log line (at debug level) instead of discarding them, for tests that read the logs.
 * `restartable`: on the embedded default, keep the database in a directory rather than in memory, so that
 * `restartTestApp` can stop the platform and start it again on the same data.
 * `config`: settings changed for this app (e.g. `trustProxy`, to give requests addresses with X-Forwarded-For).
 */
export async function createTestApp(
  label: string,
  opts: { logs?: string[]; restartable?: boolean; bank?: Partial<Config['bank']>; start?: Date; config?: Partial<Config> } = {},
): Promise<TestApp> {
  const { config: migrated, db } = await createMigratedDatabase(label);
  await db.destroy();
  const dbConfig =
    opts.restartable && !migrated.database.url
      ? { ...migrated, database: { ...migrated.database, embeddedDir: fs.mkdtempSync(path.join(os.tmpdir(), `gz-db-${label}-`)) } }
      : migrated;
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), `gz-blobs-${label}-`));
  const config = {
    ...dbConfig,
    blobDir,
    adminPassword: ADMIN_PASSWORD,
    redis: { ...dbConfig.redis, prefix: redisPrefix(label) },
    bank: { ...dbConfig.bank, ...opts.bank },
    ...opts.config,
  };
  const clock = new ControllableClock();
  clock.freeze(opts.start ?? T0);
  return startTestApp(config, clock, opts.logs);
}

export async function startTestApp(config: Config, clock: ControllableClock, logs?: string[]): Promise<TestApp> {
  const logger = logs ? createLogger('debug', 'platform', { write: (line: string) => void logs.push(line) }) : createLogger('silent');
  const ctx = await createContext(config, { clock, logger });
  const blobDir = config.blobDir;
  // workers consume; the dispatcher is ticked by the tests (runDueJobs) so time moves only when a test says so
  await ctx.queue.startWorkers();
  const app = buildApp(ctx);
  return {
    ctx,
    app,
    http: supertest(app),
    clock,
    blobDir,
    async close() {
      await ctx.close();
      fs.rmSync(blobDir, { recursive: true, force: true });
      if (!config.database.url && config.database.embeddedDir !== ':memory:') fs.rmSync(config.database.embeddedDir, { recursive: true, force: true });
    },
  };
}

/**
 * Stops the platform as a crash would leave it (what was handed to an in-process queue is lost; Redis keeps what
 * it holds) and starts it again on the same database, blobs and Redis prefix, with a clock at the same instant.
 */
export async function restartTestApp(t: TestApp): Promise<TestApp> {
  await t.ctx.close();
  const clock = new ControllableClock();
  clock.freeze(t.clock.now());
  return startTestApp(t.ctx.config, clock);
}

/** Runs what is due: the dispatcher hands due outbox rows to the queue, then the queue is drained. */
export async function runDueJobs(t: TestApp): Promise<void> {
  await t.ctx.dispatcher.tick();
  await t.ctx.queue.drain();
}
