/**
 * Exactly once under crashes: a job runner paying refunds is killed with SIGKILL at random points, fifty times, then
 * allowed to finish; the bank simulator's own ledger must show every refund paid once — never twice, none lost.
 * Runs on whatever the suite runs on (PostgreSQL, or the embedded database reopened by each runner in turn).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControllableClock } from '../../src/shared/clock';
import { createTestApp, startTestApp, type TestApp } from '../support/app';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { bearer, createCustodianMembers, createMember, tenderBody, uploadDocument } from '../support/factories';
import { creditAndWait, serveForBank } from '../support/deposits';

const SECRET = 'refund-crash-secret-0123456789';
const KILLS = 50;
const BIDDERS = 5;
const TRANSFERS = 12;
const WORKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'refund-worker.ts');

interface Run {
  finished: boolean;
  killedAfterMs: number | null;
}

describe('refunds: exactly once when the job runner is killed at random points', function () {
  this.timeout(600_000);
  let t: TestApp;
  let sim: BankSim;

  before(async () => {
    sim = await startBankSim({ secret: SECRET, payoutDelayMs: 25, notifyRetryMs: 50 });
    t = await createTestApp('refund-crash', { restartable: true, bank: { url: sim.url, notifySecret: SECRET, timeoutMs: 2000 } });
    await sim.clock(t.clock.now());
  });
  after(async () => {
    await t?.close();
    await sim?.stop();
  });

  /** One runner: started, killed `killAfterMs` after it is ready (or left to finish when null). */
  function runWorker(refundIds: string[], killAfterMs: number | null): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
        env: { ...process.env, GZ_WORKER_CONFIG: JSON.stringify(t.ctx.config), GZ_WORKER_REFUNDS: refundIds.join(','), GZ_WORKER_NOW: t.clock.now().toISOString() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let timer: NodeJS.Timeout | null = null;
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (killAfterMs !== null && timer === null && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      });
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (timer) clearTimeout(timer);
        const finished = out.includes('done\n');
        if (!finished && signal !== 'SIGKILL') return reject(new Error(`runner exited ${code} ${signal}: ${err.slice(-2000)}`));
        resolve({ finished, killedAfterMs: finished ? null : killAfterMs });
      });
    });
  }

  it(`when the runner is killed ${KILLS} times mid-payout and then finishes, then each refund is booked by the bank exactly once`, async () => {
    // five deposits, each paid in twelve transfers (a refund goes back per transfer), then the tender terminated:
    // sixty refunds due, so that every runner is killed in the middle of some payout
    const server = await serveForBank(t, sim);
    await createCustodianMembers(t);
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    for (let i = 0; i < BIDDERS; i++) {
      const bidder = await createMember(t, 'bidder');
      const acc = (await t.http.post(`/api/v1/tenders/${tender.id}/sections/${tender.sections[0].id}/deposit-account`).set(bearer(bidder.token)).expect(200)).body;
      const org = await t.ctx.db('organisations').where({ id: bidder.orgId }).first();
      for (let k = 0; k < TRANSFERS; k++) {
        await creditAndWait(t, sim, { virtualAccountNo: acc.accountNo, payerAccountNo: org.basic_account_no, payerAccountName: org.name, payerBankName: org.basic_account_bank, amountFen: acc.requiredFen / TRANSFERS });
      }
    }
    await t.http.post(`/api/v1/tenders/${tender.id}/terminate`).set(bearer(agency.token)).send({ reason: '招标人决定终止' }).expect(200);
    const refundIds = (await t.ctx.db('refunds').where({ tender_id: tender.id }).orderBy('id')).map((r) => r.id as string);
    assert.equal(refundIds.length, BIDDERS * TRANSFERS);
    await server.stop();

    // the platform stops; runners take turns on its database, each killed at a random point after it is ready
    await t.ctx.close();
    const runs: Run[] = [];
    for (let i = 0; i < KILLS; i++) runs.push(await runWorker(refundIds, crypto.randomInt(0, 300)));
    runs.push(await runWorker(refundIds, null));
    assert.ok(runs.at(-1)!.finished);
    const killed = runs.filter((r) => !r.finished).length;
    const paidBefore = (await sim.ledger()).payouts.filter((p) => p.bookings > 0).length;
    console.log(`      ${killed} runners killed 0–300 ms after start, ${runs.length - killed} finished; ${paidBefore} payouts booked`);

    const clock = new ControllableClock();
    clock.freeze(t.clock.now());
    t = await startTestApp(t.ctx.config, clock);
    const rows = await t.ctx.db('refunds').whereIn('id', refundIds);
    assert.ok(rows.every((r) => r.status === 'paid'), JSON.stringify(rows.filter((r) => r.status !== 'paid').map((r) => r.status)));
    const ledger = (await sim.ledger()).payouts;
    for (const id of refundIds) {
      const bookings = ledger.filter((p) => p.idempotencyKey === id || p.idempotencyKey.startsWith(`${id}.`)).reduce((n, p) => n + p.bookings, 0);
      assert.equal(bookings, 1, `refund ${id} booked ${bookings} times`);
    }
  });
});
