/**
 * The simulator's settings, from flags first, then BANK_SIM_* variables, then defaults. It is a separate program from
 * the platform, so it reads its own environment here rather than through src/config.ts.
 */
import { Command, InvalidArgumentError } from 'commander';

export interface SimConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The platform's `POST /api/v1/bank/notifications`; null until set here or by `POST /sim/webhook`. */
  webhookUrl: string | null;
  /** The HMAC secret shared with the platform for notification signatures. */
  secret: string;
  /** Append-only JSON-lines ledger, replayed at start; null keeps the books in memory. */
  ledgerFile: string | null;
  /** How long a payout stays pending before it settles. */
  payoutDelayMs: number;
  notifyMaxAttempts: number;
  notifyRetryBaseMs: number;
  quiet: boolean;
}

/** For local runs without a secret: the platform must be given the same one. Production never uses the simulator. */
export const DEV_SECRET = 'bank-sim-development-secret';

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('需要非负整数 (expected a non-negative integer)');
  return n;
}

export function loadSimConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): SimConfig {
  const program = new Command('bank:sim')
    .description('模拟银行 bank simulator: virtual sub-accounts, signed credit notifications, payouts, statements')
    .option('--host <host>', 'address to listen on', env.BANK_SIM_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port, 0 for a free one (BANK_SIM_PORT)', nonNegativeInt, nonNegativeInt(env.BANK_SIM_PORT ?? '4100'))
    .option('--webhook <url>', "the platform's notification URL (BANK_SIM_WEBHOOK_URL)", env.BANK_SIM_WEBHOOK_URL)
    // No default given to commander for the secret: --help would print it.
    .option('--secret <secret>', 'notification HMAC secret (BANK_SIM_SECRET)')
    .option('--ledger <file>', 'ledger file, JSON lines (BANK_SIM_LEDGER)', env.BANK_SIM_LEDGER)
    .option('--payout-delay-ms <ms>', 'time a payout stays pending (BANK_SIM_PAYOUT_DELAY_MS)', nonNegativeInt, nonNegativeInt(env.BANK_SIM_PAYOUT_DELAY_MS ?? '50'))
    .option('--notify-max-attempts <n>', 'notification attempts before giving up', nonNegativeInt, 20)
    .option('--notify-retry-ms <ms>', 'first notification retry delay, doubled each time', nonNegativeInt, 100)
    .option('--quiet', 'print only the listening line', false)
    .allowExcessArguments(false);
  program.parse(argv);
  const o = program.opts<{
    host: string;
    port: number;
    webhook?: string;
    secret?: string;
    ledger?: string;
    payoutDelayMs: number;
    notifyMaxAttempts: number;
    notifyRetryMs: number;
    quiet: boolean;
  }>();
  return {
    host: o.host,
    port: o.port,
    webhookUrl: o.webhook || null,
    secret: o.secret || env.BANK_SIM_SECRET || DEV_SECRET,
    ledgerFile: o.ledger || null,
    payoutDelayMs: o.payoutDelayMs,
    notifyMaxAttempts: Math.max(1, o.notifyMaxAttempts),
    notifyRetryBaseMs: o.notifyRetryMs,
    quiet: o.quiet,
  };
}
