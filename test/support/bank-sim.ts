/**
 * The bank simulator as tests run it: a real child process (`src/bank/simulator/main.ts` on a free port), its control
 * API as functions, and an HttpBankGateway pointed at it. A simulator never outlives its test run: stop() it in an
 * `after` hook; whatever is left is killed when this process exits, and the child also stops by itself when its IPC
 * channel to this process closes (this process killed outright).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HttpBankGateway } from '../../src/bank/http-gateway';
import type { CreditInput, LedgerView } from '../../src/bank/simulator/bank';
import type { FaultPatch, FaultState } from '../../src/bank/simulator/faults';
import type { DeliveryResult } from '../../src/bank/simulator/notifier';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIM_MAIN = path.join('src', 'bank', 'simulator', 'main.ts');
const LISTENING = /^bank-sim listening on (http:\/\/\S+)$/;
/** Compiling the simulator with tsx on a busy two-core machine can take a while. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BankSimOptions {
  webhookUrl?: string;
  secret?: string;
  ledgerFile?: string;
  payoutDelayMs?: number;
  notifyRetryMs?: number;
  notifyMaxAttempts?: number;
}

export interface BankSim {
  /** Stays the same across restart(): the simulator comes back on its port. */
  readonly url: string;
  gateway(timeoutMs?: number): HttpBankGateway;
  credit(input: CreditInput): Promise<{ txnId: string; bookedAt: string }>;
  faults(patch: FaultPatch): Promise<FaultState>;
  resetFaults(): Promise<FaultState>;
  /** Sets the simulator's clock; no argument goes back to system time. */
  clock(now?: Date): Promise<{ now: string }>;
  ledger(): Promise<LedgerView>;
  redeliver(txnId: string, opts?: { sameNonce?: boolean }): Promise<DeliveryResult>;
  setWebhook(url: string, secret?: string): Promise<void>;
  /** Stops it gracefully (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Kills it outright (SIGKILL by default) and waits for the exit: a crash. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if running and starts it again with the same options and port (and the same ledger file, if any). */
  restart(): Promise<void>;
  /** Its recent output, for a failing test's message. */
  output(): string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

function argsFor(opts: BankSimOptions, port: number): string[] {
  const args = ['--import', 'tsx', SIM_MAIN, '--port', String(port)];
  if (opts.webhookUrl) args.push('--webhook', opts.webhookUrl);
  if (opts.ledgerFile) args.push('--ledger', opts.ledgerFile);
  if (opts.payoutDelayMs !== undefined) args.push('--payout-delay-ms', String(opts.payoutDelayMs));
  if (opts.notifyRetryMs !== undefined) args.push('--notify-retry-ms', String(opts.notifyRetryMs));
  if (opts.notifyMaxAttempts !== undefined) args.push('--notify-max-attempts', String(opts.notifyMaxAttempts));
  return args;
}

/**
 * The environment without the developer's BANK_SIM_* settings, so a shell can't change what a test runs against; the
 * secret goes this way rather than as a flag, which any process list would show.
 */
function childEnv(opts: BankSimOptions): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BANK_SIM_')));
  if (opts.secret) env.BANK_SIM_SECRET = opts.secret;
  return env;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startBankSim(opts: BankSimOptions = {}): Promise<BankSim> {
  installExitHook();
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
  };
  let child: ChildProcess | null = null;
  let url = '';
  let port = 0;

  async function spawnSim(): Promise<void> {
    const c = spawn(process.execPath, argsFor(opts, port), { cwd: repoRoot, env: childEnv(opts), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    child = c;
    running.add(c);
    c.once('exit', () => running.delete(c));
    c.channel?.unref();
    readline.createInterface({ input: c.stderr! }).on('line', (l) => remember(`stderr: ${l}`));
    const out = readline.createInterface({ input: c.stdout! });
    const first = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bank simulator did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      out.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`bank simulator exited (${signal ?? code}) before listening:\n${lines.join('\n')}`));
      });
    });
    // Every later line is kept (and the pipe drained, so the child never blocks writing to it).
    out.on('line', remember);
    try {
      const line = await first;
      const match = LISTENING.exec(line);
      if (!match) throw new Error(`unexpected first line from the bank simulator: ${line}`);
      url = match[1]!;
      port = Number(new URL(url).port);
    } catch (err) {
      c.kill('SIGKILL');
      await exited(c);
      throw err;
    }
  }

  async function signal(sig: NodeJS.Signals): Promise<void> {
    const c = child;
    if (!c) return;
    child = null;
    c.kill(sig);
    const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited(c);
    clearTimeout(timer);
  }

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`bank simulator ${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  await spawnSim();
  return {
    get url() {
      return url;
    },
    gateway: (timeoutMs) => new HttpBankGateway({ baseUrl: url, timeoutMs }),
    credit: (input) => call('POST', '/sim/credit', input),
    faults: (patch) => call('POST', '/sim/faults', patch),
    resetFaults: () => call('POST', '/sim/faults/reset', {}),
    clock: (now) => call('POST', '/sim/clock', now ? { now: now.toISOString() } : {}),
    ledger: () => call('GET', '/sim/ledger'),
    redeliver: (txnId, o = {}) => call('POST', '/sim/redeliver', { txnId, ...o }),
    setWebhook: async (webhookUrl, secret) => {
      await call('POST', '/sim/webhook', secret === undefined ? { url: webhookUrl } : { url: webhookUrl, secret });
    },
    stop: () => signal('SIGTERM'),
    kill: (sig = 'SIGKILL') => signal(sig),
    restart: async () => {
      await signal('SIGTERM');
      await spawnSim();
    },
    output: () => lines.join('\n'),
  };
}
