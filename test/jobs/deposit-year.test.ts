/**
 * A year of deposits with the clock moved through 2026 — the Spring Festival, the May and October holidays included —
 * and the bank failing the ways banks do: refused requests, timeouts, a closed paying account, a day-long outage.
 * Every refund must be paid within two working days of its release: the SLA report says so, and the bank
 * simulator's own ledger (one booking per refund, booked before its due time) agrees.
 */
import assert from 'node:assert/strict';
import { DAY_MS, HOUR_MS } from '../../src/shared/clock';
import type { ActionContext } from '../../src/shared/access';
import { CreateTenderBody } from '../../src/tenders/tenders.schemas';
import { tendersRepository } from '../../src/tenders/tenders.repository';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { bearer, createCustodianMembers, createMember, refresh, tenderBody, type Member } from '../support/factories';
import { pollUntil } from '../support/poll';
import { flushRedisPrefix, usingRedis } from '../support/env';
import { creditAndWait, moveBoth, serveForBank } from '../support/deposits';

const SECRET = 'deposit-year-secret-0123456789';
const TENDERS = 200;
const BIDDERS_PER_TENDER = 3;
/** 2026-01-05 09:00 Shanghai, the first Monday of the year. */
const YEAR_START = new Date('2026-01-05T01:00:00Z');

const ctxOf = (m: Member): ActionContext => ({
  actor: { userId: m.userId, orgId: m.orgId, orgType: m.orgType, role: 'admin', certSerial: null, tokenId: 'deposit-year' },
  meta: { requestId: `year-${m.orgId.slice(0, 8)}`, ip: '127.0.0.1', userAgent: 'deposit-year-test', deviceFingerprint: null },
});

describe('deposits: a simulated year with bank failures, every refund within two working days', function () {
  this.timeout(1_200_000);
  let t: TestApp;
  let sim: BankSim;
  let server: { stop(): Promise<void> };

  before(async () => {
    sim = await startBankSim({ secret: SECRET, payoutDelayMs: 5, notifyRetryMs: 30 });
    // the platform (its CA, and so everyone's certificates) starts with the year
    t = await createTestApp('deposit-year', { bank: { url: sim.url, notifySecret: SECRET, timeoutMs: 400 }, start: YEAR_START });
    await sim.clock(t.clock.now());
    server = await serveForBank(t, sim);
  });
  after(async () => {
    await server?.stop();
    await t?.close();
    await sim?.stop();
  });

  const moveTo = (at: Date) => moveBoth(t, sim, at);

  async function payAndWait(accountNo: string, from: { no: string; name: string; bank: string }, amountFen: number) {
    await creditAndWait(t, sim, { virtualAccountNo: accountNo, payerAccountNo: from.no, payerAccountName: from.name, payerBankName: from.bank, amountFen });
  }

  async function settle(tenderId: string) {
    await pollUntil(`refunds of ${tenderId} settled`, async () => {
      await runDueJobs(t);
      // a refund the bank did not answer is asked again half a minute later; a job the queue lost is found again
      await moveTo(new Date(t.clock.now().getTime() + 31_000));
      await t.ctx.dispatcher.sweep();
      const rows = await t.ctx.db('refunds').where({ tender_id: tenderId });
      return rows.length > 0 && rows.every((r) => r.status === 'paid' || r.status === 'failed');
    }, { timeoutMs: 60_000, intervalMs: 10 });
  }

  it(`when ${TENDERS} tenders release their deposits through 2026 while the bank misbehaves, then 100% are refunded on time`, async () => {
    const { regulator } = await createCustodianMembers(t);
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const bidders = await Promise.all(Array.from({ length: 8 }, () => createMember(t, 'bidder')));
    const orgs = new Map<string, { no: string; name: string; bank: string }>();
    for (const b of bidders) {
      const o = await t.ctx.db('organisations').where({ id: b.orgId }).first();
      orgs.set(b.orgId, { no: o.basic_account_no, name: o.name, bank: o.basic_account_bank });
    }
    const injected = { refused: 0, timeouts: 0, closedAccounts: 0, outages: 0, queueLost: 0 };
    const step = (340 * DAY_MS) / TENDERS;

    for (let i = 0; i < TENDERS; i++) {
      await moveTo(new Date(YEAR_START.getTime() + Math.floor(i * step / HOUR_MS) * HOUR_MS));
      const body = CreateTenderBody.parse(tenderBody(tenderer.orgId, t.clock.now(), { name: `模拟年度项目第${i + 1}号` }));
      const draft = await t.ctx.services.tenders.create(ctxOf(agency), body);
      // publication (the opening key's custody) is not what this test is about: the tender is put on sale directly
      await tendersRepository.updateTender(t.ctx.db, draft.id, { status: 'published', published_at: t.clock.now(), documents_issued_at: t.clock.now() }, t.clock.now());
      const section = draft.sections[0];
      const closedPayer = i % 13 === 5;
      for (let k = 0; k < BIDDERS_PER_TENDER; k++) {
        const bidder = bidders[(i + k) % bidders.length];
        const acc = await t.ctx.services.deposits.openAccount(ctxOf(bidder), draft.id, section.id);
        const from = closedPayer && k === 0 ? { no: `62170000${String(i).padStart(8, '0')}`, name: '某代缴单位', bank: '中国银行' } : orgs.get(bidder.orgId)!;
        await payAndWait(acc.accountNo, from, acc.requiredFen);
        if (closedPayer && k === 0) {
          await sim.faults({ accounts: { [from.no]: 'closed' } });
          injected.closedAccounts++;
        }
      }

      // the release comes some days later, at a random hour of the working day
      await moveTo(new Date(t.clock.now().getTime() + (3 + (i % 9)) * DAY_MS + (i % 7) * HOUR_MS));
      if (i % 7 === 3) {
        await sim.faults({ failNext: 3 });
        injected.refused += 3;
      }
      if (i % 11 === 4) {
        await sim.faults({ timeoutNext: 1 });
        injected.timeouts++;
      }
      const outage = i % 17 === 8;
      if (outage) {
        await sim.faults({ failNext: 100_000 });
        injected.outages++;
      }
      await t.ctx.services.tenders.terminate(ctxOf(agency), draft.id, '招标人决定终止本次招标');
      if (i % 19 === 9) {
        // the refund jobs were handed to the queue, and the queue lost them (Redis restarted without persistence,
        // or the process holding the in-process queue died): only the outbox remembers them
        const ids = (await t.ctx.db('refunds').where({ tender_id: draft.id })).map((r) => r.id as string);
        const lost = await t.ctx.db('outbox').where({ name: 'deposits.refund', status: 'pending' }).whereRaw(`payload->>'refundId' = any(?)`, [ids]).update({ status: 'enqueued', enqueued_at: t.clock.now() });
        assert.equal(lost, BIDDERS_PER_TENDER);
        if (usingRedis()) await flushRedisPrefix(t.ctx.config.redis.url!, t.ctx.config.redis.prefix);
        injected.queueLost++;
      }
      if (outage) {
        // the bank is down for the rest of the day: refunds wait; the next morning it is back
        for (let h = 0; h < 3; h++) await runDueJobs(t);
        const waiting = await t.ctx.db('refunds').where({ tender_id: draft.id });
        assert.ok(waiting.every((r) => r.status !== 'paid'), 'nothing is paid while the bank is down');
        await moveTo(new Date(t.clock.now().getTime() + 20 * HOUR_MS));
        await sim.faults({ failNext: 0 });
      }
      await settle(draft.id);
      await sim.resetFaults();
    }

    // the regulator's report for the year
    await refresh(t, regulator);
    const report = (await t.http.get('/api/v1/deposits/sla-report?from=2026-01-01&to=2026-12-31').set(bearer(regulator.token)).expect(200)).body;
    const refunds = await t.ctx.db('refunds');
    assert.equal(report.totals.released, TENDERS * BIDDERS_PER_TENDER);
    assert.equal(refunds.length, TENDERS * BIDDERS_PER_TENDER);
    assert.deepEqual(
      [report.totals.paid, report.totals.paidOnTime, report.totals.paidLate, report.totals.unpaid, report.totals.overdue, report.totals.onTimeRate],
      [refunds.length, refunds.length, 0, 0, 0, 1],
    );
    assert.equal(report.tenders.length, TENDERS);
    assert.ok(report.tenders.every((x: { onTimeRate: number }) => x.onTimeRate === 1));
    assert.equal(refunds.filter((r) => r.fallback).length, injected.closedAccounts);

    // and the bank's own ledger agrees: one booking per refund, before its due time
    const ledger = (await sim.ledger()).payouts;
    for (const r of refunds) {
      const booked = ledger.filter((p) => (p.idempotencyKey === r.id || p.idempotencyKey.startsWith(`${r.id}.`)) && p.bookings > 0);
      assert.equal(booked.length, 1, `refund ${r.id}`);
      assert.equal(booked[0].bookings, 1);
      assert.ok(new Date(booked[0].settledAt!).getTime() <= new Date(r.due_at).getTime(), `refund ${r.id} booked ${booked[0].settledAt}, due ${r.due_at}`);
      assert.equal(booked[0].amountFen, Number(r.principal_fen) + Number(r.interest_fen));
    }
    const pdf = await t.http.get('/api/v1/deposits/sla-report.pdf?from=2026-01-01&to=2026-12-31').set(bearer(regulator.token)).expect(200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    console.log(`      ${refunds.length} refunds over ${TENDERS} tenders; injected ${JSON.stringify(injected)}; on time ${(report.totals.onTimeRate * 100).toFixed(1)}%`);
  });
});
