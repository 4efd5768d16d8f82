/**
 * A job runner for crash tests: opens the platform on the test's database (no migrations, no bootstrap), says
 * "ready", pays the refunds it is given one after another as the refund job does, says "done" and exits. The test
 * kills it with SIGKILL at random points in between. Configuration comes as JSON in GZ_WORKER_CONFIG, the refund ids
 * in GZ_WORKER_REFUNDS, platform time in GZ_WORKER_NOW.
 */
import { createContext } from '../../src/context';
import type { Config } from '../../src/config';
import { systemContext } from '../../src/shared/access';
import { ControllableClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';

const config = JSON.parse(process.env.GZ_WORKER_CONFIG ?? '{}') as Config;
const refundIds = (process.env.GZ_WORKER_REFUNDS ?? '').split(',').filter(Boolean);
const clock = new ControllableClock();
clock.freeze(new Date(process.env.GZ_WORKER_NOW ?? Date.now()));

const ctx = await createContext(config, { clock, logger: createLogger('silent'), migrate: false, bootstrap: false });
process.stdout.write('ready\n');
for (const id of refundIds) await ctx.services.refunds.pay(id, systemContext('crash-test-worker'));
await ctx.close();
process.stdout.write('done\n');
