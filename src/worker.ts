/**
 * `npm run worker`: job workers and the outbox dispatcher, without HTTP. Run several against the same PostgreSQL
 * and Redis to scale jobs out; with RUN_JOBS_IN_API=false the API instances leave jobs to these.
 */
import { loadConfig } from './config';
import { createContext } from './context';
import { exitOnStartFailure, stopOnSignals } from './shared/shutdown';

async function main() {
  const config = loadConfig();
  if (!config.redis.url) throw new Error('npm run worker needs REDIS_URL: without Redis, jobs run inside the API process.');
  const ctx = await createContext(config, { bootstrap: false });
  await ctx.startJobs();
  ctx.logger.info({ queues: ctx.registry.queues() }, 'worker started');
  stopOnSignals(ctx.logger, () => ctx.close());
}

main().catch(exitOnStartFailure);
