/**
 * The demo's bank: the bank simulator started as its own process (as in production the bank is another system), on
 * a free port, with a secret of the demo's own; its control API to move money and its clock; stopped with the demo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LedgerView } from '../bank/simulator/bank';
import { StepFailed } from './demo-support';

export interface DemoBank {
  url: string;
  credit(input: { virtualAccountNo: string; payerAccountNo: string; payerAccountName: string; payerBankName: string; amountFen: number }): Promise<{ txnId: string }>;
  clock(at: Date): Promise<void>;
  setWebhook(url: string): Promise<void>;
  ledger(): Promise<LedgerView>;
  stop(): Promise<void>;
}

const SIM_MAIN = fileURLToPath(new URL('../bank/simulator/main.ts', import.meta.url));

export async function startDemoBank(secret: string): Promise<DemoBank> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SIM_MAIN, '--port', '0', '--quiet', '--payout-delay-ms', '20'], {
    env: { ...process.env, BANK_SIM_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolve(m[1]!);
      else reject(new StepFailed(`银行模拟器未能启动 (the bank simulator did not start): ${line}`));
    });
    child.once('exit', (code) => reject(new StepFailed(`银行模拟器退出 (the bank simulator exited): ${code}`)));
  });
  child.stdout!.resume();
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(url + route, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new StepFailed(`银行模拟器 ${method} ${route} → HTTP ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  };
  return {
    url,
    credit: (input) => call('POST', '/sim/credit', input),
    clock: async (at) => void (await call('POST', '/sim/clock', { now: at.toISOString() })),
    setWebhook: async (webhook) => void (await call('POST', '/sim/webhook', { url: webhook })),
    ledger: () => call('GET', '/sim/ledger'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
