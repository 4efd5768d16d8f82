/** `npm start`: the API server. With no DATABASE_URL/REDIS_URL it is a complete platform on its own. */
import { loadConfig } from './config';
import { createContext } from './context';
import { buildApp } from './app';
import { applyServerLimits } from './shared/http/server-limits';
import { exitOnStartFailure, stopOnSignals } from './shared/shutdown';

async function main() {
  const config = loadConfig();
  const ctx = await createContext(config, { announce: (text) => console.log(`\n*** ${text}\n`) });
  // Without Redis the queue lives in this process, so jobs must run here too.
  if (config.runJobsInApi || !config.redis.url) await ctx.startJobs();
  const app = buildApp(ctx);
  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    ctx.logger.info(
      { port, database: config.database.url ? 'postgresql' : `pglite ${config.database.embeddedDir}`, redis: Boolean(config.redis.url) },
      `平台已启动 platform listening on http://${config.host}:${port}`,
    );
  });
  // no request timeout (long uploads), a short one for headers (slow-loris): see server-limits
  applyServerLimits(server);

  stopOnSignals(ctx.logger, async () => {
    server.close();
    await ctx.close();
  });
}

main().catch(exitOnStartFailure);
