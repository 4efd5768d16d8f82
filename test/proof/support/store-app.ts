/**
 * The real app on the fault proofs' private PostgreSQL and Redis: a fresh database of its own on the private server,
 * a Redis prefix of its own, a frozen ControllableClock, workers consuming and the dispatcher ticked by the test —
 * as test/support/app.ts builds it on the shared services, which these proofs must never break.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../../src/config';
import { ControllableClock } from '../../../src/shared/clock';
import { ADMIN_PASSWORD, T0, startTestApp, type TestApp } from '../../support/app';
import { runId, testBaseConfig } from '../../support/env';
import { pollUntil } from '../../support/poll';
import type { PrivatePostgres } from './store-postgres';
import type { PrivateRedis } from './store-redis';

export interface Stores {
  pg: PrivatePostgres;
  redis: PrivateRedis;
}

export async function createStoreApp(stores: Stores, label: string, opts: { bank?: Partial<Config['bank']> } = {}): Promise<TestApp> {
  const base = testBaseConfig();
  const url = await stores.pg.createDatabase(`gz_fault_${runId}_${label}`.toLowerCase().replace(/[^a-z0-9_]/g, '_'));
  const config: Config = {
    ...base,
    database: { ...base.database, url },
    redis: { ...base.redis, url: stores.redis.url, prefix: `gzfault:${runId}:${label}` },
    blobDir: fs.mkdtempSync(path.join(os.tmpdir(), `gz-blobs-${label}-`)),
    adminPassword: ADMIN_PASSWORD,
    bank: { ...base.bank, ...opts.bank },
    // these proofs log in as many members from one address and resend chunks after faults: the limiter is not under test
    rateLimits: { ...base.rateLimits, loginPerAddress: 100_000, loginPerAccount: 100_000, uploadPerBidder: 100_000 },
  };
  const clock = new ControllableClock();
  clock.freeze(T0);
  const t = await startTestApp(config, clock);
  // knex warns on the console for every connection it cannot get while PostgreSQL is down on purpose; the test
  // asserts the outcome instead, so those lines are counted rather than printed
  const logger = (t.ctx.db.client as { logger: { _warn: (m: unknown) => void; _error: (m: unknown) => void } }).logger;
  logger._warn = () => void (knexComplaints.count += 1);
  logger._error = () => void (knexComplaints.count += 1);
  return t;
}

/** Warnings and errors knex would have printed (connections refused while a store was down). */
export const knexComplaints = { count: 0 };

/** Waits until the platform reaches PostgreSQL, its queues and its event bus again after a store came back. */
export async function storesAnswer(t: TestApp): Promise<void> {
  await pollUntil(
    'PostgreSQL, the queues and the event bus to answer again',
    async () => {
      const db = await t.ctx.db.raw('select 1').then(() => true, () => false);
      return db && (await t.ctx.queue.ping()) === 'ok' && (await t.ctx.events.ping()) === 'ok';
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** Hands what is due to the queue and waits until the queue has run it. */
export async function settle(t: TestApp): Promise<void> {
  await t.ctx.dispatcher.tick();
  await t.ctx.queue.drain();
}

/**
 * What the sweeper does in life once OUTBOX_SWEEP_SECONDS have passed: moves the platform clock past it, re-adds the
 * jobs the queue lost, and runs them. Returns how many jobs were re-added.
 */
export async function sweepLostJobs(t: TestApp): Promise<number> {
  t.clock.freeze(new Date(t.clock.now().getTime() + (t.ctx.config.outbox.sweepSeconds + 1) * 1000));
  await t.ctx.dispatcher.tick();
  const readded = await t.ctx.dispatcher.sweep();
  await t.ctx.queue.drain();
  return readded;
}

/** The audit chain walked from genesis; true when every row holds. */
export async function auditChainVerifies(t: TestApp): Promise<boolean> {
  const result = await t.ctx.services.audit.verify();
  return result.ok;
}
