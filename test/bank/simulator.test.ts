import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BankUnavailable, type PayoutStatus, type TransferRequest } from '../../src/bank/gateway';
import { HttpBankGateway } from '../../src/bank/http-gateway';
import { signatureMatches } from '../../src/bank/notification-signature';
import { shanghaiDate } from '../../src/shared/time';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { pollUntil } from '../support/poll';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = `test-bank-secret-${crypto.randomBytes(8).toString('hex')}`;
const PAYER = { payerAccountNo: '6222020000001234', payerAccountName: '某某建设有限公司', payerBankName: '工商银行' };

function uniq(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
}

/** A virtual sub-account holding `fen` (0 for an empty one). */
async function fundedAccount(sim: BankSim, gw: HttpBankGateway, fen: number): Promise<string> {
  const { accountNo } = await gw.openVirtualAccount({ reference: uniq('section:bidder'), name: '投标保证金' });
  if (fen > 0) await sim.credit({ virtualAccountNo: accountNo, amountFen: fen, ...PAYER });
  return accountNo;
}

function refund(fromAccountNo: string, amountFen: number, overrides: Partial<TransferRequest> = {}): TransferRequest {
  return {
    idempotencyKey: uniq('refund'),
    fromAccountNo,
    toAccountNo: '6222020000001234',
    toAccountName: '某某建设有限公司',
    toBankName: '工商银行',
    amountFen,
    memo: '退还投标保证金',
    ...overrides,
  };
}

async function settled(gw: HttpBankGateway, key: string): Promise<PayoutStatus> {
  return pollUntil(`payout ${key} to settle`, async () => {
    const s = await gw.payoutStatus(key);
    return s && s.state !== 'pending' ? s : null;
  });
}

async function payoutInLedger(sim: BankSim, key: string) {
  return (await sim.ledger()).payouts.find((p) => p.idempotencyKey === key);
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('bank simulator', function () {
  let receiver: WebhookReceiver;
  let sim: BankSim;
  let gw: HttpBankGateway;

  before(async function () {
    receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    sim = await startBankSim({ webhookUrl: receiver.url, secret: SECRET, notifyRetryMs: 20 });
    gw = sim.gateway();
  });
  afterEach(async function () {
    receiver.answer = (n) => (n.signatureValid ? 200 : 401);
    await sim.resetFaults();
    await sim.clock();
  });
  after(async function () {
    await sim?.stop();
    await receiver?.close();
  });

  describe('virtual sub-accounts', function () {
    it('when the same reference is opened twice, then it gets the same account; another reference gets another', async function () {
      const reference = uniq('section-1:bidder-7');
      const first = await gw.openVirtualAccount({ reference, name: '投标保证金 标段1' });
      const again = await gw.openVirtualAccount({ reference, name: '投标保证金 标段1' });
      const other = await gw.openVirtualAccount({ reference: uniq('section-1:bidder-8'), name: '投标保证金 标段1' });

      assert.deepEqual(again, first);
      assert.match(first.accountNo, /^\d{18}$/);
      assert.ok(first.bankName);
      assert.notEqual(other.accountNo, first.accountNo);
      assert.equal((await sim.ledger()).accounts.filter((a) => a.reference === reference).length, 1);
    });
  });

  describe('credit notifications', function () {
    it('when a credit is booked, then the platform is notified with a signature that matches, and a tampered body does not', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      const { txnId, bookedAt } = await sim.credit({ virtualAccountNo: accountNo, amountFen: 500_000, ...PAYER });

      const [n] = await pollUntil('the notification', () => receiver.accepted(txnId).length === 1 && receiver.accepted(txnId));
      assert.deepEqual(n!.transfer, { txnId, virtualAccountNo: accountNo, ...PAYER, amountFen: 500_000, bookedAt });
      assert.equal(n!.headers['content-type'], 'application/json');
      assert.ok(!Number.isNaN(Date.parse(n!.timestamp)));
      assert.match(n!.nonce, /^[0-9a-f]{32}$/);
      assert.ok(signatureMatches(SECRET, n!.timestamp, n!.nonce, n!.rawBody, n!.signature));

      const tampered = n!.rawBody.replace('"amountFen":500000', '"amountFen":5000000');
      assert.notEqual(tampered, n!.rawBody);
      assert.equal(signatureMatches(SECRET, n!.timestamp, n!.nonce, tampered, n!.signature), false);
      assert.equal(signatureMatches('another-secret', n!.timestamp, n!.nonce, n!.rawBody, n!.signature), false);
      const credit = (await sim.ledger()).credits.find((c) => c.txnId === txnId);
      assert.equal(credit?.deliveries, 1);
    });

    it('when the platform answers 5xx, then the notification is retried until it answers 2xx, each attempt with a fresh nonce', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      let failures = 0;
      receiver.answer = () => (failures++ < 2 ? 503 : 200);
      const { txnId } = await sim.credit({ virtualAccountNo: accountNo, amountFen: 1_000, ...PAYER });

      await pollUntil('the third attempt to be accepted', () => receiver.accepted(txnId).length === 1);
      const attempts = receiver.of(txnId);
      assert.deepEqual(attempts.map((a) => a.status), [503, 503, 200]);
      assert.equal(new Set(attempts.map((a) => a.nonce)).size, 3);
      assert.ok(attempts.every((a) => a.signatureValid));
      await pollUntil('the delivery recorded', async () => (await sim.ledger()).credits.find((c) => c.txnId === txnId)?.deliveries === 1);
    });

    it('when duplicateNext is set, then the notification is delivered twice with the same body and different nonces', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      await sim.faults({ duplicateNext: 1 });
      const { txnId } = await sim.credit({ virtualAccountNo: accountNo, amountFen: 2_000, ...PAYER });

      const both = await pollUntil('two deliveries', () => receiver.accepted(txnId).length === 2 && receiver.accepted(txnId));
      assert.equal(both[0]!.rawBody, both[1]!.rawBody);
      assert.notEqual(both[0]!.nonce, both[1]!.nonce);
      await pollUntil('both deliveries recorded', async () => (await sim.ledger()).credits.find((c) => c.txnId === txnId)?.deliveries === 2);
    });

    it('when dropNext is set, then the credit is booked and on the statement but never notified', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      await sim.faults({ dropNext: 1 });
      const dropped = await sim.credit({ virtualAccountNo: accountNo, amountFen: 3_000, ...PAYER });
      const next = await sim.credit({ virtualAccountNo: accountNo, amountFen: 4_000, ...PAYER });

      // Notifications go out in booking order, so once the later one is in, the dropped one would have been too.
      await pollUntil('the next credit notified', () => receiver.accepted(next.txnId).length === 1);
      assert.equal(receiver.of(dropped.txnId).length, 0);
      const credit = (await sim.ledger()).credits.find((c) => c.txnId === dropped.txnId);
      assert.deepEqual({ dropped: credit?.dropped, deliveries: credit?.deliveries }, { dropped: true, deliveries: 0 });

      const statement = await gw.statement(shanghaiDate(new Date(dropped.bookedAt)));
      const mine = statement.filter((e) => e.virtualAccountNo === accountNo);
      assert.deepEqual(
        mine.map((e) => [e.txnId, e.direction, e.amountFen, e.counterpartyAccountNo, e.counterpartyName]),
        [
          [dropped.txnId, 'credit', 3_000, PAYER.payerAccountNo, PAYER.payerAccountName],
          [next.txnId, 'credit', 4_000, PAYER.payerAccountNo, PAYER.payerAccountName],
        ],
      );
    });

    it('when delayMs is set, then notifications are held that long and keep their order', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      await sim.faults({ delayMs: 300 });
      const asked = Date.now();
      const a = await sim.credit({ virtualAccountNo: accountNo, amountFen: 100, ...PAYER });
      const b = await sim.credit({ virtualAccountNo: accountNo, amountFen: 200, ...PAYER });

      await pollUntil('both delivered', () => receiver.accepted(a.txnId).length === 1 && receiver.accepted(b.txnId).length === 1);
      const [na, nb] = [receiver.accepted(a.txnId)[0]!, receiver.accepted(b.txnId)[0]!];
      assert.ok(na.at - asked >= 290, `delivered ${na.at - asked} ms after booking`);
      assert.ok(receiver.received.indexOf(na) < receiver.received.indexOf(nb));
    });

    it('when reorder is set, then held notifications are delivered newest first', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      await sim.faults({ reorder: true, delayMs: 1_000 });
      const txnIds: string[] = [];
      for (const fen of [1, 2, 3]) txnIds.push((await sim.credit({ virtualAccountNo: accountNo, amountFen: fen, ...PAYER })).txnId);

      await pollUntil('all three delivered', () => txnIds.every((t) => receiver.accepted(t).length === 1));
      const arrival = receiver.received.filter((n) => txnIds.includes(n.transfer.txnId)).map((n) => n.transfer.txnId);
      assert.deepEqual(arrival, [...txnIds].reverse());
    });

    it('when badSignatureNext is set, then the platform refuses that attempt and the retry, signed properly, is accepted', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      await sim.faults({ badSignatureNext: 1 });
      const { txnId } = await sim.credit({ virtualAccountNo: accountNo, amountFen: 700, ...PAYER });

      await pollUntil('accepted', () => receiver.accepted(txnId).length === 1);
      assert.deepEqual(receiver.of(txnId).map((n) => [n.signatureValid, n.status]), [[false, 401], [true, 200]]);
    });

    it('when a notification is redelivered, then sameNonce replays the request byte for byte and otherwise it is signed afresh', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      const { txnId } = await sim.credit({ virtualAccountNo: accountNo, amountFen: 800, ...PAYER });
      const [original] = await pollUntil('delivered', () => receiver.accepted(txnId).length === 1 && receiver.accepted(txnId));

      // The receiver stands in for the platform, which refuses a nonce it has seen.
      receiver.answer = (n) => (receiver.of(txnId).some((seen) => seen.nonce === n.nonce) ? 409 : 200);
      const replay = await sim.redeliver(txnId, { sameNonce: true });
      assert.deepEqual([replay.status, replay.nonce, replay.timestamp], [409, original!.nonce, original!.timestamp]);
      const replayed = receiver.of(txnId)[1]!;
      assert.deepEqual([replayed.rawBody, replayed.signature], [original!.rawBody, original!.signature]);

      const fresh = await sim.redeliver(txnId);
      assert.equal(fresh.status, 200);
      const resent = receiver.of(txnId)[2]!;
      assert.notEqual(resent.nonce, original!.nonce);
      assert.equal(resent.rawBody, original!.rawBody);
      assert.ok(resent.signatureValid);
    });

    it('when the clock is set, then credits are booked and notifications stamped at simulator time, and the statement files them under that day', async function () {
      const accountNo = await fundedAccount(sim, gw, 0);
      const at = new Date('2027-03-01T02:00:00.000Z');
      await sim.clock(at);
      const { txnId, bookedAt } = await sim.credit({ virtualAccountNo: accountNo, amountFen: 900, ...PAYER });
      const [n] = await pollUntil('delivered', () => receiver.accepted(txnId).length === 1 && receiver.accepted(txnId));

      for (const instant of [bookedAt, n!.timestamp]) {
        const ms = Date.parse(instant) - at.getTime();
        assert.ok(ms >= 0 && ms < 10_000, `${instant} should be just after ${at.toISOString()}`);
      }
      assert.ok((await gw.statement('2027-03-01')).some((e) => e.txnId === txnId));
      const backdated = await sim.credit({ virtualAccountNo: accountNo, amountFen: 901, ...PAYER, bookedAt: '2027-02-28T23:30:00+08:00' });
      assert.equal(backdated.bookedAt, '2027-02-28T15:30:00.000Z');
      assert.ok((await gw.statement('2027-02-28')).some((e) => e.txnId === backdated.txnId));
    });
  });

  describe('payouts', function () {
    it('when a payout is asked, then it is pending at first and settles to succeeded with a debit on the statement', async function () {
      const accountNo = await fundedAccount(sim, gw, 10_000);
      const req = refund(accountNo, 6_000);
      const first = await gw.transfer(req);
      assert.deepEqual(first, { idempotencyKey: req.idempotencyKey, state: 'pending', bankTxnId: null, failureCode: null, settledAt: null });

      const done = await settled(gw, req.idempotencyKey);
      assert.equal(done.state, 'succeeded');
      assert.match(done.bankTxnId ?? '', /\S/);
      assert.ok(done.settledAt);
      const debit = (await gw.statement(shanghaiDate(new Date(done.settledAt!)))).find((e) => e.txnId === done.bankTxnId);
      assert.deepEqual(debit, {
        txnId: done.bankTxnId,
        direction: 'debit',
        virtualAccountNo: accountNo,
        counterpartyAccountNo: req.toAccountNo,
        counterpartyName: req.toAccountName,
        amountFen: 6_000,
        bookedAt: done.settledAt,
        reference: req.idempotencyKey,
      });
      assert.equal((await sim.ledger()).accounts.find((a) => a.accountNo === accountNo)?.balanceFen, 4_000);
    });

    it('when the same key is sent again, even at once, then it is booked once and the repeat answers its status', async function () {
      const accountNo = await fundedAccount(sim, gw, 10_000);
      const req = refund(accountNo, 10_000);
      const answers = await Promise.all([gw.transfer(req), gw.transfer(req), gw.transfer(req)]);
      assert.ok(answers.every((a) => a.idempotencyKey === req.idempotencyKey));

      const done = await settled(gw, req.idempotencyKey);
      assert.equal(done.state, 'succeeded');
      assert.deepEqual(await gw.transfer(req), done);
      const p = await payoutInLedger(sim, req.idempotencyKey);
      assert.deepEqual([p?.bookings, p?.requests, p?.state], [1, 4, 'succeeded']);
      assert.equal((await sim.ledger()).accounts.find((a) => a.accountNo === accountNo)?.balanceFen, 0);
    });

    it('when the same key comes with another amount, then the bank refuses it (a plain error) and books nothing more', async function () {
      const accountNo = await fundedAccount(sim, gw, 10_000);
      const req = refund(accountNo, 1_000);
      await gw.transfer(req);
      await assert.rejects(gw.transfer({ ...req, amountFen: 2_000 }), (err: Error) => !(err instanceof BankUnavailable) && /409 IDEMPOTENCY_KEY_REUSED/.test(err.message));
      await settled(gw, req.idempotencyKey);
      assert.equal((await payoutInLedger(sim, req.idempotencyKey))?.bookings, 1);
    });

    for (const [state, code] of [
      ['closed', 'ACCOUNT_CLOSED'],
      ['frozen', 'ACCOUNT_FROZEN'],
    ] as const) {
      it(`when the payee's account is ${state}, then the payout fails with ${code} and nothing is debited`, async function () {
        const accountNo = await fundedAccount(sim, gw, 5_000);
        const payee = uniq('6222').replace(/-/g, '');
        await sim.faults({ accounts: { [payee]: state } });
        const req = refund(accountNo, 5_000, { toAccountNo: payee });
        await gw.transfer(req);

        const done = await settled(gw, req.idempotencyKey);
        assert.deepEqual([done.state, done.failureCode, done.bankTxnId], ['failed', code, null]);
        assert.ok(done.settledAt);
        assert.equal((await payoutInLedger(sim, req.idempotencyKey))?.bookings, 0);
        assert.equal((await sim.ledger()).accounts.find((a) => a.accountNo === accountNo)?.balanceFen, 5_000);
      });
    }

    it('when the payout is more than the virtual account holds with its interest, then it fails with INSUFFICIENT_FUNDS', async function () {
      const accountNo = await fundedAccount(sim, gw, 5_000);
      // principal plus interest (up to 1% of the balance) is paid; beyond that the money is not there
      const withInterest = refund(accountNo, 5_050);
      await gw.transfer(withInterest);
      assert.equal((await settled(gw, withInterest.idempotencyKey)).state, 'succeeded');
      const req = refund(accountNo, 1);
      await gw.transfer(req);
      const done = await settled(gw, req.idempotencyKey);
      assert.deepEqual([done.state, done.failureCode], ['failed', 'INSUFFICIENT_FUNDS']);
      assert.equal((await payoutInLedger(sim, req.idempotencyKey))?.bookings, 0);
    });

    it('when timeoutNext is set, then the client gets BankUnavailable though the bank booked it, and a retry with the key returns succeeded without a second booking', async function () {
      const accountNo = await fundedAccount(sim, gw, 8_000);
      await sim.faults({ timeoutNext: 1 });
      const req = refund(accountNo, 8_000);
      const impatient = sim.gateway(400);

      await assert.rejects(impatient.transfer(req), (err: Error) => err instanceof BankUnavailable && /no answer within 400 ms/.test(err.message));
      await pollUntil('the payout booked', async () => (await payoutInLedger(sim, req.idempotencyKey))?.bookings === 1);

      const retried = await impatient.transfer(req);
      assert.equal(retried.state, 'succeeded');
      const p = await payoutInLedger(sim, req.idempotencyKey);
      assert.deepEqual([p?.bookings, p?.requests, p?.state], [1, 2, 'succeeded']);
    });

    it('when failNext is set, then the client gets BankUnavailable and nothing is booked', async function () {
      const accountNo = await fundedAccount(sim, gw, 8_000);
      await sim.faults({ failNext: 1 });
      const req = refund(accountNo, 8_000);

      await assert.rejects(gw.transfer(req), (err: Error) => err instanceof BankUnavailable && /503/.test(err.message));
      assert.equal(await payoutInLedger(sim, req.idempotencyKey), undefined);
      assert.equal(await gw.payoutStatus(req.idempotencyKey), null);

      assert.equal((await gw.transfer(req)).state, 'pending');
      assert.equal((await settled(gw, req.idempotencyKey)).state, 'succeeded');
    });
  });

  describe('the HTTP gateway', function () {
    it('when the bank refuses a request, then it is a plain Error; an unknown payout is null', async function () {
      await assert.rejects(gw.transfer(refund('0000000000', 100)), (err: Error) => !(err instanceof BankUnavailable) && /422 UNKNOWN_ACCOUNT/.test(err.message));
      assert.equal(await gw.payoutStatus(uniq('never-sent')), null);
    });

    it('when nobody answers at the address, then every call throws BankUnavailable, naming no credentials', async function () {
      const port = await closedPort();
      const down = new HttpBankGateway({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2_000 });
      await assert.rejects(down.transfer(refund('1', 1)), (err: Error) => err instanceof BankUnavailable && /ECONNREFUSED/.test(err.message));
      await assert.rejects(down.payoutStatus('k'), BankUnavailable);
      await assert.rejects(down.statement('2027-03-01'), BankUnavailable);
      await assert.rejects(down.openVirtualAccount({ reference: 'r', name: 'n' }), BankUnavailable);

      const withCredentials = new HttpBankGateway({ baseUrl: `http://bank:s3cret-pw@127.0.0.1:${port}` });
      await assert.rejects(withCredentials.statement('2027-03-01'), (err: Error) => err instanceof BankUnavailable && !err.message.includes('s3cret-pw'));
    });
  });
});

describe('bank simulator: its ledger file', function () {
  let dir: string;
  let receiver: WebhookReceiver;
  let sim: BankSim | undefined;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-bank-sim-'));
    receiver = new WebhookReceiver(SECRET);
    await receiver.start();
  });
  after(async function () {
    await sim?.stop();
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the simulator crashes and restarts, then its accounts, credits and payouts are kept, pending work resumes, and no payout is booked twice', async function () {
    const ledgerFile = path.join(dir, 'ledger.jsonl');
    // No webhook at first: the credit's notification is still owed when the simulator dies.
    sim = await startBankSim({ secret: SECRET, ledgerFile });
    const gw = sim.gateway();
    const reference = uniq('section-2:bidder-3');
    const { accountNo } = await gw.openVirtualAccount({ reference, name: '投标保证金' });
    const credit = await sim.credit({ virtualAccountNo: accountNo, amountFen: 10_000, ...PAYER });
    const paid = refund(accountNo, 5_000);
    await gw.transfer(paid);
    const paidStatus = await settled(gw, paid.idempotencyKey);
    assert.equal(paidStatus.state, 'succeeded');
    await sim.faults({ payoutDelayMs: 600_000 });
    const pending = refund(accountNo, 3_000);
    assert.equal((await gw.transfer(pending)).state, 'pending');
    const beforeCrash = await sim.ledger();

    await sim.kill('SIGKILL');
    await sim.restart();

    const afterRestart = await sim.ledger();
    assert.deepEqual(afterRestart.accounts, beforeCrash.accounts);
    assert.deepEqual(afterRestart.credits, beforeCrash.credits);
    assert.deepEqual((await gw.openVirtualAccount({ reference, name: '投标保证金' })).accountNo, accountNo);
    assert.deepEqual(await gw.payoutStatus(paid.idempotencyKey), paidStatus);

    // The payout left pending settles after the restart (faults are not kept, so with the normal delay).
    assert.equal((await settled(gw, pending.idempotencyKey)).state, 'succeeded');
    assert.deepEqual(await gw.transfer(paid), paidStatus);
    const ledger = await sim.ledger();
    assert.deepEqual(ledger.payouts.map((p) => [p.idempotencyKey, p.state, p.bookings]).sort(), [
      [paid.idempotencyKey, 'succeeded', 1],
      [pending.idempotencyKey, 'succeeded', 1],
    ].sort());
    assert.equal(ledger.accounts.find((a) => a.accountNo === accountNo)?.balanceFen, 2_000);

    // The notification owed from before the crash goes out once there is somewhere to send it.
    await sim.setWebhook(receiver.url);
    await pollUntil('the owed notification', () => receiver.accepted(credit.txnId).length === 1);

    for (const line of fs.readFileSync(ledgerFile, 'utf8').trimEnd().split('\n')) assert.doesNotThrow(() => JSON.parse(line));
  });
});
