import type { Logger } from './logger';

/**
 * Stops gracefully once on SIGTERM or SIGINT (workers finish running jobs, connections close), then exits.
 * Process managers send SIGTERM; a second signal while stopping is ignored.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** The entry points' last resort: a start-up failure is printed plainly (it is usually configuration) and exits 1. */
export function exitOnStartFailure(err: unknown): never {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
