/**
 * A second API instance on the same stores as a TestApp: the same database and the same Redis prefix (so the same
 * queues and pub/sub channels), its own context, app and clock — as a second server behind the load balancer.
 * Only meaningful on real PostgreSQL: on embedded PGlite in memory, a second context would open a database of its own.
 */
import type { Express } from 'express';
import { buildApp } from '../../src/app';
import { createContext, type AppContext } from '../../src/context';
import { ControllableClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import type { TestApp } from './app';
import { usingRealPostgres } from './env';

export interface SecondInstance {
  ctx: AppContext;
  app: Express;
  clock: ControllableClock;
  close(): Promise<void>;
}

export async function createSecondInstance(first: TestApp): Promise<SecondInstance> {
  if (!usingRealPostgres()) throw new Error('a second instance needs a shared database: set DATABASE_URL');
  const clock = new ControllableClock();
  clock.freeze(first.clock.now());
  const ctx = await createContext(first.ctx.config, { clock, logger: createLogger('silent'), migrate: false, bootstrap: false });
  const app = buildApp(ctx);
  return { ctx, app, clock, close: () => ctx.close() };
}
