/**
 * `npm run bank:sim`: the bank simulator as its own process. Its first stdout line is always
 * `bank-sim listening on http://HOST:PORT`, which tests parse to find it (start it with `--port 0`).
 */
import { DEV_SECRET, loadSimConfig } from './config';
import { startSimulator } from './server';

async function main(): Promise<void> {
  const config = loadSimConfig(process.argv);
  const log = config.quiet ? () => {} : (line: string) => console.log(`[bank-sim] ${line}`);
  const sim = await startSimulator(config, log, (url) => console.log(`bank-sim listening on ${url}`));
  if (config.secret === DEV_SECRET) log('signing notifications with the development secret (set --secret or BANK_SIM_SECRET)');
  if (!config.webhookUrl) log('no webhook yet: notifications wait for --webhook or POST /sim/webhook');
  if (config.ledgerFile) log(`ledger kept in ${config.ledgerFile}`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by a test with an IPC channel: when that process goes, however it goes, so does the simulator.
  if (process.send) process.on('disconnect', stop);
}

main().catch((err: unknown) => {
  console.error(`bank-sim failed to start: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
