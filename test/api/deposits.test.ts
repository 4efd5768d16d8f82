/**
 * Deposits through the real app and the bank simulator (its own process and ledger): accounts, signed notifications
 * matched and checked, the payer list sealed until the opening, and refunds — released, paid once with interest,
 * falling back to the basic account, surviving a bank that times out — each with its voucher.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signNotification } from '../../src/bank/notification-signature';
import { interestFen } from '../../src/deposits/refunds.service';
import { MINUTE_MS } from '../../src/shared/clock';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { bearer, bufferBody, createCustodianMembers, createMember, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';
import { pollUntil } from '../support/poll';
import { creditAndWait, moveBoth, serveForBank } from '../support/deposits';

const SECRET = 'deposits-test-secret-0123456789';
const DEPOSIT_FEN = 24_000_000;

describe('deposits: virtual accounts, bank notifications, checks, refunds within two working days', function () {
  this.timeout(120_000);
  let t: TestApp;
  let sim: BankSim;
  let server: { stop(): Promise<void> };
  let agency: Member;
  let regulator: Member;
  let tendererOrgId: string;

  before(async () => {
    sim = await startBankSim({ secret: SECRET, payoutDelayMs: 20, notifyRetryMs: 50 });
    t = await createTestApp('deposits', { bank: { url: sim.url, notifySecret: SECRET, timeoutMs: 1500 } });
    server = await serveForBank(t, sim);
    ({ regulator } = await createCustodianMembers(t));
    agency = await createMember(t, 'agency');
    tendererOrgId = (await createMember(t, 'tenderer')).orgId;
  });
  after(async () => {
    await server?.stop();
    await t?.close();
    await sim?.stop();
  });

  const moveTo = (at: Date) => moveBoth(t, sim, at);

  async function publishedTender(): Promise<{ id: string; sectionId: string; bidDeadline: string }> {
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tendererOrgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    const p = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    return { id: p.id, sectionId: p.sections[0].id, bidDeadline: p.bidDeadline };
  }

  const org = async (m: Member) => t.ctx.db('organisations').where({ id: m.orgId }).first();

  async function account(m: Member, tender: { id: string; sectionId: string }) {
    return (await t.http.post(`/api/v1/tenders/${tender.id}/sections/${tender.sectionId}/deposit-account`).set(bearer(m.token)).expect(200)).body;
  }

  /** The bidder pays from its basic account (or `from`), and the platform hears of it. */
  async function pay(m: Member, accountNo: string, amountFen = DEPOSIT_FEN, from?: { no: string; name: string }) {
    const o = await org(m);
    return creditAndWait(t, sim, {
      virtualAccountNo: accountNo,
      payerAccountNo: from?.no ?? o.basic_account_no,
      payerAccountName: from?.name ?? o.name,
      payerBankName: o.basic_account_bank,
      amountFen,
    });
  }

  it('when a bidder asks for its account twice, then it is one virtual sub-account of its own; the agency sees counts only before the opening', async () => {
    const tender = await publishedTender();
    const [a, b] = [await createMember(t, 'bidder'), await createMember(t, 'bidder')];
    const opened = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${tender.sectionId}/deposit-account`).set(bearer(a.token)).expect(200);
    const first = opened.body;
    const openEvents = await t.ctx.db('audit_events').where({ request_id: opened.headers['x-request-id'], action: 'deposit.account-open' });
    assert.equal(openEvents.length, 1, 'opening the account is audited under its request id');
    assert.equal((await account(a, tender)).accountNo, first.accountNo);
    assert.notEqual((await account(b, tender)).accountNo, first.accountNo);
    assert.deepEqual([first.requiredFen, first.requiredYuan, first.status], [DEPOSIT_FEN, '240,000.00', 'unpaid']);
    await pay(a, first.accountNo);
    // the bank's notification is audited under the request that brought it, with no user behind it
    const credited = await t.ctx.db('audit_events').where({ action: 'deposit.credit', tender_id: tender.id }).first();
    assert.ok(credited.request_id && credited.actor_user_id === null);
    const mine = (await t.http.get('/api/v1/deposits/mine').set(bearer(a.token)).expect(200)).body;
    assert.deepEqual([mine[0].status, mine[0].paidFen, mine[0].credits[0].findings], ['paid', DEPOSIT_FEN, []]);
    for (const viewer of [agency, regulator]) {
      const view = (await t.http.get(`/api/v1/tenders/${tender.id}/deposits`).set(bearer(viewer.token)).expect(200)).body;
      assert.equal(view.sealed, true);
      assert.deepEqual(view.sections.map((s: { accounts: number; paid: number }) => [s.accounts, s.paid]), [[2, 1]]);
      assert.equal(view.deposits, undefined, 'who paid stays sealed until the opening');
      assert.ok(!JSON.stringify(view).includes(a.orgId));
    }
    // a bidder can't ask for a section's account after the deadline, nor see others' deposits
    await t.http.get(`/api/v1/tenders/${tender.id}/deposits`).set(bearer(b.token)).expect(403);
  });

  it('when notifications come twice, out of order, or are lost, then each credit is stored once (the statement fills the gap) and the checks raise their alerts', async () => {
    const tender = await publishedTender();
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => createMember(t, 'bidder')));
    const acc = { a: await account(a, tender), b: await account(b, tender), c: await account(c, tender), d: await account(d, tender) };
    const shared = { no: '6222020200112233445', name: '西安某劳务有限公司' };

    await sim.faults({ duplicateNext: 1 });
    const ta = await pay(a, acc.a.accountNo);
    // b and c pay from the same third-party account: TLR 40(6), and neither is from the bidder's basic account
    await sim.faults({ delayMs: 150, reorder: true });
    const [tb, tc] = await Promise.all([pay(b, acc.b.accountNo, DEPOSIT_FEN, shared), pay(c, acc.c.accountNo, DEPOSIT_FEN, shared)]);
    await sim.resetFaults();
    await sim.faults({ dropNext: 1 });
    const lost = await sim.credit({ virtualAccountNo: acc.d.accountNo, payerAccountNo: (await org(d)).basic_account_no, payerAccountName: (await org(d)).name, payerBankName: '中国建设银行', amountFen: DEPOSIT_FEN - 100 });
    await sim.resetFaults();

    const credits = await t.ctx.db('deposit_credits').whereIn('txn_id', [ta, tb, tc]);
    assert.equal(credits.length, 3, 'a duplicated notification is one credit');
    assert.deepEqual(credits.find((x) => x.txn_id === ta).findings, []);
    const findings = [tb, tc].map((txn) => credits.find((x) => x.txn_id === txn).findings as string[]);
    assert.ok(findings.every((f) => f.includes('NOT_BASIC_ACCOUNT')));
    assert.equal(findings.filter((f) => f.includes('SHARED_ACCOUNT')).length, 1, 'the second credit from the account is the one that matches the first');
    const alerts = await t.ctx.db('alerts').where({ tender_id: tender.id });
    const sharedAlert = alerts.find((x) => x.rule === 'deposit-shared-account');
    assert.ok(sharedAlert, 'shared payer account raised');
    assert.equal(sharedAlert.basis, 'TLR 40(6)');
    assert.deepEqual([...sharedAlert.evidence.fields.bidderOrgIds].sort(), [b.orgId, c.orgId].sort());
    assert.equal(alerts.filter((x) => x.rule === 'deposit-not-basic-account').length, 2);

    // the lost notification: nothing yet; the night's reconciliation takes it from the statement and raises the loss
    assert.equal(await t.ctx.db('deposit_credits').where({ txn_id: lost.txnId }).first(), undefined);
    const result = await t.ctx.services.reconciliation.reconcile(shanghai(new Date(lost.bookedAt)), systemCtx());
    assert.deepEqual(result!.takenFromStatement, [lost.txnId]);
    assert.deepEqual(result!.missingFromStatement, []);
    const taken = await t.ctx.db('deposit_credits').where({ txn_id: lost.txnId }).first();
    assert.equal(taken.source, 'statement');
    const dView = (await t.http.get('/api/v1/deposits/mine').set(bearer(d.token)).expect(200)).body.find((x: { accountNo: string }) => x.accountNo === acc.d.accountNo);
    assert.deepEqual([dView.status, dView.statusLabel], ['short', '不足']);
    assert.equal((await t.ctx.db('alerts').where({ rule: 'bank-notification-missing' })).length, 1);
    // reconciling the same day again changes nothing
    const again = await t.ctx.services.reconciliation.reconcile(result!.date, systemCtx());
    assert.deepEqual(again!.takenFromStatement, []);
  });

  it('near misses of TLR 40(6) and TLR 26: one bidder paying in two parts from its basic account, one third-party account paying in two different tenders', async () => {
    const [first, second] = [await publishedTender(), await publishedTender()];
    const [a, x, y] = await Promise.all([1, 2, 3].map(() => createMember(t, 'bidder')));
    const accA = await account(a, first);
    // the same payer account twice, but for the same bidder: a top-up, not two bidders' money from one account
    const parts = [await pay(a, accA.accountNo, DEPOSIT_FEN / 2), await pay(a, accA.accountNo, DEPOSIT_FEN / 2)];
    const stored = await t.ctx.db('deposit_credits').whereIn('txn_id', parts);
    assert.deepEqual(stored.map((c) => c.findings), [[], []]);
    // one third party pays for x in the first tender and for y in the second: not the basic accounts, but the two
    // are not bidders of one tender
    const third = { no: '6222020200998877665', name: '咸阳某商贸有限公司' };
    await pay(x, (await account(x, first)).accountNo, DEPOSIT_FEN, third);
    await pay(y, (await account(y, second)).accountNo, DEPOSIT_FEN, third);
    const alerts = await t.ctx.db('alerts').whereIn('tender_id', [first.id, second.id]).whereIn('rule', ['deposit-shared-account', 'deposit-not-basic-account']);
    assert.deepEqual(alerts.map((r) => r.rule), ['deposit-not-basic-account', 'deposit-not-basic-account']);
    assert.deepEqual(alerts.map((r) => r.subject_org_id).sort(), [x.orgId, y.orgId].sort());
  });

  it('when a notification is forged, or replayed after the allowed time, then it is refused and audited; a bank retry inside it changes nothing', async () => {
    const tender = await publishedTender();
    const a = await createMember(t, 'bidder');
    const acc = await account(a, tender);
    const body = JSON.stringify({ txnId: 'FORGED-1', virtualAccountNo: acc.accountNo, payerAccountNo: '1', payerAccountName: 'x', payerBankName: 'y', amountFen: DEPOSIT_FEN, bookedAt: t.clock.now().toISOString() });
    const ts = t.clock.now().toISOString();
    const forged = await t.http.post('/api/v1/bank/notifications').set('Content-Type', 'application/json')
      .set({ 'x-bank-timestamp': ts, 'x-bank-nonce': 'n-1', 'x-bank-signature': signNotification('not-the-secret-at-all', ts, 'n-1', body) }).send(body).expect(401);
    assert.equal(forged.body.error.code, 'BANK_SIGNATURE_INVALID');
    assert.equal(await t.ctx.db('deposit_credits').where({ txn_id: 'FORGED-1' }).first(), undefined);

    const txn = await pay(a, acc.accountNo);
    const retry = await sim.redeliver(txn, { sameNonce: true });
    assert.equal(retry.status, 200);
    assert.equal((await t.ctx.db('deposit_credits').where({ deposit_account_id: (await t.ctx.db('deposit_accounts').where({ account_no: acc.accountNo }).first()).id })).length, 1);
    await moveTo(new Date(t.clock.now().getTime() + 6 * MINUTE_MS));
    const replay = await sim.redeliver(txn, { sameNonce: true });
    assert.equal(replay.status, 401);
    assert.match(String(replay.body), /BANK_NOTIFICATION_STALE/);
    const refused = await t.ctx.db('audit_events').where({ action: 'bank.notification-refused' });
    assert.deepEqual(refused.map((e) => e.payload.reason).sort(), ['signature', 'stale']);
    assert.equal((await t.ctx.db('alerts').where({ rule: 'bank-notification-refused' })).length, 2);
  });

  it('when a bidder withdraws before the deadline, then its deposit is refunded once with interest within two working days, with its voucher', async () => {
    const tender = await publishedTender();
    const a = await createMember(t, 'bidder');
    const acc = await account(a, tender);
    const txn = await pay(a, acc.accountNo);
    const bidId = await submittedBid(a, tender);
    // ten days later (Shanghai), the bidder withdraws
    await moveTo(new Date(t.clock.now().getTime() + 10 * 24 * 60 * MINUTE_MS));
    await refresh(t, a);
    await t.http.post(`/api/v1/bids/${bidId}/withdraw`).set(bearer(a.token)).expect(200);
    const refund = await t.ctx.db('refunds').where({ credit_txn_id: txn }).first();
    assert.deepEqual([refund.status, refund.reason, Number(refund.principal_fen)], ['due', 'withdrawal', DEPOSIT_FEN]);
    assert.ok(new Date(refund.due_at) > t.clock.now());
    await runDueJobs(t);
    await runDueJobs(t); // the voucher
    const paid = await t.ctx.db('refunds').where({ id: refund.id }).first();
    assert.equal(paid.status, 'paid');
    assert.equal(Number(paid.interest_fen), interestFen(DEPOSIT_FEN, 35, 10));
    assert.equal(paid.interest_days, 10);
    assert.equal(paid.to_account_no, (await org(a)).basic_account_no);
    const ledger = (await sim.ledger()).payouts.filter((p) => p.idempotencyKey === refund.id);
    assert.deepEqual(ledger.map((p) => [p.state, p.bookings, p.amountFen]), [['succeeded', 1, DEPOSIT_FEN + Number(paid.interest_fen)]]);
    const mine = (await t.http.get('/api/v1/deposits/mine').set(bearer(a.token)).expect(200)).body.find((x: { accountNo: string }) => x.accountNo === acc.accountNo);
    assert.deepEqual([mine.refunds[0].status, mine.refunds[0].onTime, mine.refunds[0].voucher], ['paid', true, true]);
    const pdf = await t.http.get(`/api/v1/refunds/${refund.id}/voucher.pdf`).set(bearer(a.token)).buffer(true).parse(bufferBody).expect(200);
    const text = pdfText(pdf.body as Buffer);
    assert.match(text, /投标保证金退还凭证/);
    assert.match(text, /投标截止前撤回投标/);
    assert.match(text, /贰拾肆万/);
    // another bidder cannot read it
    const other = await createMember(t, 'bidder');
    await t.http.get(`/api/v1/refunds/${refund.id}/voucher.pdf`).set(bearer(other.token)).expect(404);
    // the job run again pays nothing more
    await t.ctx.services.refunds.pay(refund.id, systemCtx());
    assert.equal((await sim.ledger()).payouts.filter((p) => p.idempotencyKey === refund.id)[0].bookings, 1);
  });

  it('when the paying account is closed, the bank times out once, or fails, then the refund is paid once to the basic account', async () => {
    await refresh(t, agency);
    const tender = await publishedTender();
    const a = await createMember(t, 'bidder');
    const acc = await account(a, tender);
    const other = { no: '6228480012345678901', name: '陕西某商贸有限公司' };
    const txn = await pay(a, acc.accountNo, DEPOSIT_FEN, other);
    await sim.faults({ accounts: { [other.no]: 'closed' }, timeoutNext: 1, failNext: 1 });
    await t.http.post(`/api/v1/tenders/${tender.id}/terminate`).set(bearer(agency.token)).send({ reason: '项目取消，终止招标' }).expect(200);
    const refund = await t.ctx.db('refunds').where({ credit_txn_id: txn }).first();
    assert.equal(refund.reason, 'tender-terminated');
    // an unanswered request is asked again, same key, half a minute later (platform time)
    await pollUntil('the refund paid', async () => {
      await moveTo(new Date(t.clock.now().getTime() + 31_000));
      await runDueJobs(t);
      return (await t.ctx.db('refunds').where({ id: refund.id }).first()).status === 'paid';
    }, { timeoutMs: 60_000, intervalMs: 100 });
    await sim.resetFaults();
    const paid = await t.ctx.db('refunds').where({ id: refund.id }).first();
    assert.equal(paid.fallback, true);
    assert.equal(paid.to_account_no, (await org(a)).basic_account_no);
    const payouts = (await sim.ledger()).payouts.filter((p) => p.idempotencyKey.startsWith(refund.id));
    assert.deepEqual(payouts.map((p) => [p.idempotencyKey, p.state, p.bookings]).sort(), [[refund.id, 'failed', 0], [`${refund.id}.fallback`, 'succeeded', 1]]);
    const audit = await t.ctx.db('audit_events').where({ object_id: refund.id }).orderBy('seq');
    assert.deepEqual(audit.map((e) => e.action), ['deposit.refund.send', 'deposit.refund.fallback', 'deposit.refund.paid']);
  });

  it('when the bank stays down, then an unpaid refund raises an alert halfway to its due time and a critical one at it; the SLA report counts it overdue, then late', async () => {
    await refresh(t, agency);
    const tender = await publishedTender();
    const a = await createMember(t, 'bidder');
    const txn = await pay(a, (await account(a, tender)).accountNo);
    await sim.faults({ failNext: 100_000 });
    await t.http.post(`/api/v1/tenders/${tender.id}/terminate`).set(bearer(agency.token)).send({ reason: '项目取消，终止招标' }).expect(200);
    await runDueJobs(t);
    const refund = await t.ctx.db('refunds').where({ credit_txn_id: txn }).first();
    assert.equal(refund.status, 'sending', 'asked, unanswered');
    const releasedAt = new Date(refund.released_at).getTime();
    const dueAt = new Date(refund.due_at).getTime();
    const alertsOf = async () => (await t.ctx.db('alerts').where({ tender_id: tender.id }).whereIn('rule', ['refund-at-risk', 'refund-overdue'])).map((x) => [x.rule, x.severity]);

    await moveTo(new Date(releasedAt + (dueAt - releasedAt) / 2));
    await runDueJobs(t);
    assert.deepEqual(await alertsOf(), [['refund-at-risk', 'high']]);
    await moveTo(new Date(dueAt));
    await runDueJobs(t);
    assert.deepEqual(await alertsOf(), [['refund-at-risk', 'high'], ['refund-overdue', 'critical']]);
    await refresh(t, regulator);
    const day = shanghai(new Date(releasedAt));
    const report = async () => (await t.http.get(`/api/v1/deposits/sla-report?from=${day}&to=${day}&tenderId=${tender.id}`).set(bearer(regulator.token)).expect(200)).body.totals;
    await moveTo(new Date(dueAt + 1000));
    assert.deepEqual(await report(), { released: 1, paid: 0, paidOnTime: 0, paidLate: 0, unpaid: 1, overdue: 1, onTimeRate: 0, releasedFen: DEPOSIT_FEN, paidFen: 0, unpaidFen: DEPOSIT_FEN });

    // the bank comes back: the refund is paid, late, once
    await sim.resetFaults();
    await pollUntil('the late refund paid', async () => {
      await moveTo(new Date(t.clock.now().getTime() + 31_000));
      await runDueJobs(t);
      return (await t.ctx.db('refunds').where({ id: refund.id }).first()).status === 'paid';
    }, { timeoutMs: 30_000, intervalMs: 50 });
    const paidBack = await t.ctx.db('refunds').where({ id: refund.id }).first();
    // the amounts: the principal released, and paid back with its interest
    assert.deepEqual(await report(), { released: 1, paid: 1, paidOnTime: 0, paidLate: 1, unpaid: 0, overdue: 0, onTimeRate: 0, releasedFen: DEPOSIT_FEN, paidFen: DEPOSIT_FEN + Number(paidBack.interest_fen ?? 0), unpaidFen: 0 });
    assert.equal((await sim.ledger()).payouts.find((p) => p.idempotencyKey === refund.id)!.bookings, 1);
    // the report is the regulators' and the operators'
    await refresh(t, agency, regulator);
    await t.http.get(`/api/v1/deposits/sla-report?from=${day}&to=${day}`).set(bearer(agency.token)).expect(403);
    await t.http.get(`/api/v1/deposits/sla-report?from=${day}&to=2020-01-01`).set(bearer(regulator.token)).expect(400);
  });

  // --- helpers ---------------------------------------------------------------------------------------------------

  async function submittedBid(m: Member, tender: { id: string; sectionId: string }): Promise<string> {
    const { bidPackage, sealBid, submitBid } = await import('../support/factories');
    const tenderView = (await t.http.get(`/api/v1/tenders/${tender.id}`).set(bearer(m.token)).expect(200)).body;
    const opening = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(m.token)).expect(200)).body.certificatePem;
    const zip = await bidPackage(t, m, tenderView, tender.sectionId, { totalPriceFen: 1_000_000_000, seed: 7 });
    const res = await submitBid(t, m, tender.id, tender.sectionId, await sealBid(t, m, opening, zip));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.submission.bid.id;
  }
});

function shanghai(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

function systemCtx() {
  return { actor: null, meta: { requestId: 'test', ip: null, userAgent: null, deviceFingerprint: null } } as const;
}

function pdfText(pdf: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-voucher-'));
  try {
    fs.writeFileSync(path.join(dir, 'v.pdf'), pdf);
    return execFileSync('pdftotext', ['-layout', path.join(dir, 'v.pdf'), '-'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
