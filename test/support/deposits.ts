/**
 * The platform and the bank simulator wired together for deposit tests: the real app listening on loopback as the
 * bank's webhook (its notifications come over HTTP, signed, as in life), the bank's clock set to the platform's, and
 * a credit that returns once the platform has stored it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreditInput } from '../../src/bank/simulator/bank';
import type { TestApp } from './app';
import type { BankSim } from './bank-sim';
import { pollUntil } from './poll';

/** Serves `t`'s app for the bank's notifications; stop() closes it. */
export async function serveForBank(t: TestApp, sim: BankSim): Promise<{ stop(): Promise<void> }> {
  const server = http.createServer(t.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  await sim.setWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/bank/notifications`);
  await sim.clock(t.clock.now());
  return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Moves the platform's clock and the bank's together, as both follow real time in life. */
export async function moveBoth(t: TestApp, sim: BankSim, at: Date): Promise<void> {
  t.clock.freeze(at);
  await sim.clock(at);
}

/** Books a transfer at the bank and waits until its notification is stored by the platform; returns the txn id. */
export async function creditAndWait(t: TestApp, sim: BankSim, input: CreditInput): Promise<string> {
  const { txnId } = await sim.credit(input);
  await pollUntil(`credit ${txnId}`, async () => (await t.ctx.db('deposit_credits').where({ txn_id: txnId }).first()) ?? null);
  return txnId;
}
