/**
 * `npm run worker`: job workers and the outbox dispatcher, without HTTP. Run several against the same PostgreSQL
 * and Redis to scale jobs out; with RUN_JOBS_IN_API=false the API instances leave jobs to these.
 */
import { loadConfig } from './config';
import { createContext } from './context';

async function main() {
  const config = loadConfig();
  if (!config.redis.url) throw new Error('npm run worker needs REDIS_URL: without Redis, jobs run inside the API process.');
  const ctx = await createContext(config, { bootstrap: false });
  await ctx.startJobs();
  ctx.logger.info({ queues: ctx.registry.queues() }, 'worker started');
  const stop = async (signal: string) => {
    ctx.logger.info({ signal }, 'worker shutting down');
    await ctx.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
