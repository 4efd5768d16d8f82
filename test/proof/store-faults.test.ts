/**
 * Store and bank faults (issue 8): PostgreSQL restarted during uploads and during the opening, Redis restarted (and
 * flushed) during refunds and the opening, the bank simulator down for ten minutes while refunds fall due. After
 * each: no bid lost, no refund lost or paid twice, the audit chain verifies, the opening resumes where it was. Every
 * case records its row in the fault table once its assertions hold.
 *
 * PostgreSQL and Redis here are private servers this file starts (store-postgres, store-redis) and breaks; the shared
 * ones the rest of the suite uses are never touched. Platform time is a ControllableClock: due jobs, the sweeper's
 * staleness and the bank's outage move with it. Real time passes only where a real process must come back (a store
 * restarting, the bank's payouts settling) and in BullMQ's own retry backoff (opening.decrypt: 500 ms base).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MINUTE_MS } from '../../src/shared/clock';
import type { TestApp } from '../support/app';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { creditAndWait, serveForBank } from '../support/deposits';
import {
  bearer,
  bidPackage,
  createCustodianMembers,
  createMember,
  refresh,
  sealBid,
  tenderBody,
  uploadDocument,
  type Member,
} from '../support/factories';
import { keyBody, postKey, world } from '../support/opening-world';
import { pollUntil } from '../support/poll';
import { recordFault } from './support/fault-table';
import { auditChainVerifies, createStoreApp, settle, storesAnswer, sweepLostJobs, type Stores } from './support/store-app';
import { startPrivatePostgres } from './support/store-postgres';
import { startPrivateRedis } from './support/store-redis';
import { uploadResumably } from './support/store-uploads';

const BANK_SECRET = 'store-faults-bank-secret-0123456789';

describe('store and bank faults: nothing lost, nothing done twice', function () {
  this.timeout(300_000);
  let stores: Stores;

  before(async () => {
    const [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    stores = { pg, redis };
  });
  after(async () => {
    await stores?.redis.stop();
    await stores?.pg.stop();
  });

  /** A published tender with a deposit on its section, and `n` bidders who each paid it at the bank. */
  async function depositsPaid(t: TestApp, sim: BankSim, n: number) {
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    for (let i = 0; i < n; i++) {
      const bidder = await createMember(t, 'bidder');
      const acc = (await t.http.post(`/api/v1/tenders/${tender.id}/sections/${tender.sections[0].id}/deposit-account`).set(bearer(bidder.token)).expect(200)).body;
      const org = await t.ctx.db('organisations').where({ id: bidder.orgId }).first();
      await creditAndWait(t, sim, { virtualAccountNo: acc.accountNo, payerAccountNo: org.basic_account_no, payerAccountName: org.name, payerBankName: org.basic_account_bank, amountFen: acc.requiredFen });
    }
    return { agency, tender };
  }

  /** Bookings the bank's own ledger holds for each refund (under its key or its fallback key). */
  async function bookingsPerRefund(sim: BankSim, refundIds: string[]): Promise<number[]> {
    const payouts = (await sim.ledger()).payouts;
    return refundIds.map((id) => payouts.filter((p) => p.idempotencyKey === id || p.idempotencyKey.startsWith(`${id}.`)).reduce((n, p) => n + p.bookings, 0));
  }

  describe('1. PostgreSQL restarted while bid uploads are in flight', () => {
    let t: TestApp;
    before(async () => {
      t = await createStoreApp(stores, 'pg-uploads');
      await createCustodianMembers(t);
    });
    after(() => t?.close());

    it('when PostgreSQL crashes and restarts mid-upload, then each upload resumes from its stored offset and every bid has one receipt with the client’s hash', async () => {
      const UPLOADS = 10;
      const agency = await createMember(t, 'agency');
      const tenderer = await createMember(t, 'tenderer');
      const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
      await uploadDocument(t, agency.token, d.body.id);
      const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
      const openingCert = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;
      const sectionId = tender.sections[0].id;
      const bidders: Array<{ member: Member; sealed: Awaited<ReturnType<typeof sealBid>> }> = [];
      for (let i = 0; i < UPLOADS; i++) {
        const member = await createMember(t, 'bidder');
        // an incompressible attachment makes each envelope ~64 KiB: eight chunks, so the restart lands mid-upload
        const zip = await bidPackage(t, member, tender, sectionId, { totalPriceFen: 1_000_000_00 + i, seed: i + 1, files: [{ path: '附件/施工组织设计.bin', content: crypto.randomBytes(60 * 1024) }] });
        bidders.push({ member, sealed: await sealBid(t, member, openingCert, zip) });
      }

      let chunks = 0;
      let restarted: Promise<void> | null = null;
      const total = bidders.reduce((n, b) => n + Math.ceil(b.sealed.envelope.length / (8 * 1024)), 0);
      const onChunk = () => {
        chunks += 1;
        // a crash (no checkpoint, WAL replayed at start) once about a third of all chunks are stored
        if (!restarted && chunks >= Math.floor(total / 3)) restarted = stores.pg.restart('immediate', 500);
      };
      const outcomes = await Promise.all(bidders.map((b) => uploadResumably(t, b.member, tender.id, sectionId, b.sealed, { chunkBytes: 8 * 1024, onChunk })));
      assert.ok(restarted, 'PostgreSQL was restarted during the uploads');
      await restarted;
      await storesAnswer(t);

      const interrupted = outcomes.filter((o) => o.interruptions > 0);
      assert.ok(interrupted.length > 0, 'some uploads were in flight when PostgreSQL went away');
      assert.ok(interrupted.some((o) => o.resumedFrom.some((off) => off > 0)), 'some resumed from a stored offset past the start');
      const bids = await t.ctx.db('bids').where({ tender_id: tender.id });
      let lost = 0;
      let duplicated = 0;
      for (const [i, b] of bidders.entries()) {
        const own = bids.filter((x) => x.bidder_org_id === b.member.orgId);
        if (own.length === 0) lost += 1;
        duplicated += Math.max(0, own.length - 1);
        assert.equal(own.length, 1, `bidder ${i} has exactly one bid`);
        const bid = own[0];
        assert.equal(bid.id, outcomes[i]!.bidId);
        assert.equal(bid.status, 'current');
        assert.equal(bid.receipt_serial, outcomes[i]!.receiptSerial, 'the receipt the bidder holds is the stored one');
        assert.equal(bid.envelope_sha256, b.sealed.sha256);
        const storedHash = crypto.createHash('sha256');
        for await (const c of (await t.ctx.blobs.get(bid.blob_key)) as AsyncIterable<Buffer>) storedHash.update(c);
        assert.equal(storedHash.digest('hex'), b.sealed.sha256, 'the stored envelope is the bidder’s, byte for byte');
      }
      const receipts = await t.ctx.db('audit_events').where({ tender_id: tender.id, action: 'bid.submit' });
      assert.equal(receipts.length, UPLOADS, 'one bid.submit (receipt) per bidder');
      const chain = await auditChainVerifies(t);
      assert.ok(chain);
      const offsets = interrupted.flatMap((o) => o.resumedFrom);
      recordFault({
        fault: 'PostgreSQL crash-restarted (immediate, 0.5 s down)',
        during: `${UPLOADS} chunked bid uploads in flight`,
        outcome: `${bids.length}/${UPLOADS} bids, one receipt each, stored SHA-256 = client's`,
        lost,
        duplicated,
        auditChainVerified: chain,
        resumed: `${interrupted.length} uploads resumed from stored offsets (${offsets.map((o) => Math.round(o / 1024)).join(',')} KiB)`,
      });
    });
  });

  describe('2. PostgreSQL restarted during the opening', () => {
    let t: TestApp;
    before(async () => {
      t = await createStoreApp(stores, 'pg-opening');
      await createCustodianMembers(t);
    });
    after(() => t?.close());

    it('when PostgreSQL restarts while bidders hand over keys and bids are decrypted, then the opening resumes and finishes with the right record, no step twice', async () => {
      const prices = [1_000_000_000, 990_000_000, 1_010_000_000, 980_000_000];
      const w = await world(t, prices);
      t.clock.freeze(new Date(w.tender.bidDeadline));
      await settle(t);
      await refresh(t, w.agency, ...w.entries.map((e) => e.member));
      for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
      await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
      const bodies = await Promise.all(w.entries.map((e) => keyBody(e, t)));
      // half the bidders have handed over their keys and their decryption jobs are running when PostgreSQL goes
      for (const [i, e] of w.entries.slice(0, 2).entries()) await postKey(t, w.tender.id, e, bodies[i]!).expect(202);
      await t.ctx.dispatcher.tick();
      const restart = stores.pg.restart('fast', 500);
      // the other bidders keep trying until the platform takes their keys
      const late = w.entries.slice(2).map((e, i) =>
        pollUntil(`key of bidder ${i + 2} taken`, async () => {
          const res = await postKey(t, w.tender.id, e, bodies[i + 2]!);
          if (res.status === 202) return true;
          assert.ok(res.status >= 500, `a key is refused only by the outage: ${res.status} ${JSON.stringify(res.body)}`);
          return false;
        }, { timeoutMs: 30_000, intervalMs: 50 }),
      );
      await restart;
      await Promise.all(late);
      await storesAnswer(t);
      const during = (await t.ctx.db('openings').where({ tender_id: w.tender.id }).first()).state;
      assert.equal(during, 'decrypting', 'the opening is where it was');

      // jobs whose try failed with PostgreSQL away are retried by BullMQ; any it gave up on, the sweeper re-adds
      await settle(t);
      await sweepLostJobs(t);
      const decrypted = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id, status: 'decrypted' });
      assert.equal(decrypted.length, prices.length, 'every bid decrypted');

      t.clock.freeze(new Date(t.clock.now().getTime() + 30 * MINUTE_MS));
      await settle(t);
      await refresh(t, w.agency, ...w.entries.map((e) => e.member));
      const readings = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/readings`).set(bearer(w.agency.token)).expect(200)).body;
      for (const e of w.entries) assert.equal(readings.find((r: { bidId: string }) => r.bidId === e.bidId).totalPriceFen, e.priceFen, 'the price read is the bid’s');
      // the record is produced with PostgreSQL restarting again under it: the host repeats the request
      t.clock.freeze(new Date(t.clock.now().getTime() + 10 * MINUTE_MS));
      await settle(t);
      t.clock.freeze(new Date(t.clock.now().getTime() + 15 * MINUTE_MS));
      await refresh(t, w.agency);
      const second = stores.pg.restart('immediate', 300);
      const recorded = await pollUntil('the record', async () => {
        const res = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/record`).set(bearer(w.agency.token));
        if (res.status === 200) return res.body;
        if (res.status === 409 && res.body.error?.code === 'OPENING_STATE') return (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token))).body;
        assert.ok(res.status >= 500, `the record is refused only by the outage: ${res.status} ${JSON.stringify(res.body)}`);
        return null;
      }, { timeoutMs: 30_000, intervalMs: 50 });
      await second;
      await storesAnswer(t);
      assert.equal(recorded.state, 'recorded');

      const transitions = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.transition' }).orderBy('seq')).map((e) => e.payload.to);
      assert.deepEqual(transitions, ['decrypting', 'announcing', 'objections', 'recorded'], 'each step once, in order');
      const opened = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.decrypted' })).map((e) => e.object_id).sort();
      assert.deepEqual(opened, w.entries.map((e) => e.bidId).sort(), 'each bid decrypted exactly once');
      const keys = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.key-received' })).map((e) => e.object_id).sort();
      assert.deepEqual(keys, w.entries.map((e) => e.bidId).sort(), 'each key taken once');
      const liveTransitions = (await t.ctx.db('live_events').where({ tender_id: w.tender.id, type: 'opening.transition' }).orderBy('seq')).map((e) => e.data.to);
      assert.deepEqual(liveTransitions, transitions, 'the hall saw each step once');
      const chain = await auditChainVerifies(t);
      assert.ok(chain);
      recordFault({
        fault: 'PostgreSQL restarted twice (fast, then immediate)',
        during: 'opening: keys handed over, decryption jobs running; record produced',
        outcome: `${opened.length}/${prices.length} bids decrypted once, prices read right, record signed`,
        lost: prices.length - opened.length,
        duplicated: opened.length - new Set(opened).size + (transitions.length - new Set(transitions).size),
        auditChainVerified: chain,
        resumed: "opening resumed at 'decrypting', then announcing → objections → recorded",
      });
    });
  });

  describe('3. Redis restarted or flushed while refunds are being paid', () => {
    let t: TestApp;
    let sim: BankSim;
    let server: { stop(): Promise<void> };
    before(async () => {
      // payouts settle after 300 ms, so several refunds are mid-payout when Redis goes
      sim = await startBankSim({ secret: BANK_SECRET, payoutDelayMs: 300, notifyRetryMs: 50 });
      t = await createStoreApp(stores, 'redis-refunds', { bank: { url: sim.url, notifySecret: BANK_SECRET, timeoutMs: 2000 } });
      server = await serveForBank(t, sim);
      await createCustodianMembers(t);
    });
    after(async () => {
      await server?.stop();
      await t?.close();
      await sim?.stop();
    });

    for (const fault of ['restart', 'flushall'] as const) {
      it(`when Redis is ${fault === 'restart' ? 'killed and restarted empty' : 'flushed (FLUSHALL)'} mid-payout, then every refund is booked by the bank exactly once`, async () => {
        const BIDDERS = 6;
        const { agency, tender } = await depositsPaid(t, sim, BIDDERS);
        await t.http.post(`/api/v1/tenders/${tender.id}/terminate`).set(bearer(agency.token)).send({ reason: '招标人决定终止' }).expect(200);
        const refundIds = (await t.ctx.db('refunds').where({ tender_id: tender.id }).orderBy('id')).map((r) => r.id as string);
        assert.equal(refundIds.length, BIDDERS);

        await t.ctx.dispatcher.tick();
        // the fault lands once a first payout is under way: some refunds mid-payout, the rest still waiting in Redis
        await pollUntil('a first payout under way', async () => (await t.ctx.db('refunds').whereIn('id', refundIds).whereIn('status', ['sending', 'paid']).first()) ?? null, { timeoutMs: 30_000, intervalMs: 5 });
        const keysBefore = await stores.redis.dbSize();
        if (fault === 'restart') await stores.redis.restart(300);
        else await stores.redis.flushAll();
        assert.equal(await stores.redis.dbSize(), 0, 'Redis lost every job');
        const atFault = await t.ctx.db('refunds').whereIn('id', refundIds);
        const paidAtFault = atFault.filter((r) => r.status === 'paid').length;
        const sendingAtFault = atFault.filter((r) => r.status === 'sending').length;
        await storesAnswer(t);

        let readded = 0;
        for (let round = 0; round < 10; round++) {
          const open = await t.ctx.db('refunds').whereIn('id', refundIds).whereNot({ status: 'paid' });
          if (open.length === 0) break;
          // jobs still running finish against PostgreSQL and the bank; what Redis lost, the sweeper adds again
          // (a try counted and its row not finished: a job still running in this process)
          await pollUntil('running refund jobs to end', async () => !(await t.ctx.db('outbox').where({ name: 'deposits.refund', status: 'enqueued' }).where('attempts', '>', 0).first()), { timeoutMs: 15_000 });
          readded += await sweepLostJobs(t);
        }
        const rows = await t.ctx.db('refunds').whereIn('id', refundIds);
        assert.ok(rows.every((r) => r.status === 'paid'), JSON.stringify(rows.map((r) => r.status)));
        const bookings = await bookingsPerRefund(sim, refundIds);
        const lost = bookings.filter((n) => n === 0).length;
        const duplicated = bookings.reduce((n, b) => n + Math.max(0, b - 1), 0);
        assert.deepEqual(bookings, refundIds.map(() => 1), 'the bank booked each refund once');
        assert.ok(paidAtFault < BIDDERS, 'the fault landed while refunds were still to pay');
        const chain = await auditChainVerifies(t);
        assert.ok(chain);
        recordFault({
          fault: fault === 'restart' ? 'Redis killed and restarted (empty)' : 'Redis FLUSHALL',
          during: `${BIDDERS} refunds being paid (${paidAtFault} paid, ${sendingAtFault} mid-payout at the fault; ${keysBefore} keys lost)`,
          outcome: `${rows.length}/${BIDDERS} refunds paid; bank ledger: ${bookings.filter((n) => n === 1).length} booked once`,
          lost,
          duplicated,
          auditChainVerified: chain,
          resumed: `sweeper re-added ${readded} lost jobs from the outbox`,
        });
      });
    }
  });

  describe('4. Redis restarted during the opening', () => {
    let t: TestApp;
    before(async () => {
      t = await createStoreApp(stores, 'redis-opening');
      await createCustodianMembers(t);
    });
    after(() => t?.close());

    it('when Redis is killed and restarted empty while bids are being decrypted, then the opening finishes and live viewers miss nothing', async () => {
      const prices = [1_000_000_000, 990_000_000, 1_010_000_000, 980_000_000];
      const w = await world(t, prices);
      t.clock.freeze(new Date(w.tender.bidDeadline));
      await settle(t);
      // a viewer watching live through the fault, and one that drops and reconnects with its Last-Event-ID
      const watcher: number[] = [];
      const stopWatcher = await t.ctx.services.live.subscribe(w.tender.id, 0, (e) => watcher.push(e.seq));
      const dropper: number[] = [];
      let stopDropper = await t.ctx.services.live.subscribe(w.tender.id, 0, (e) => dropper.push(e.seq));

      await refresh(t, w.agency, ...w.entries.map((e) => e.member));
      for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
      await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
      for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
      await stopDropper();
      const lastSeen = dropper.at(-1) ?? 0;

      const handed = await t.ctx.dispatcher.tick();
      assert.equal(handed, prices.length, 'the decryption jobs are in Redis');
      const keysBefore = await stores.redis.dbSize();
      await stores.redis.restart(300);
      await storesAnswer(t);
      const decryptedAtFault = (await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id, status: 'decrypted' })).length;
      stopDropper = await t.ctx.services.live.subscribe(w.tender.id, lastSeen, (e) => dropper.push(e.seq));

      const readded = await sweepLostJobs(t);
      await settle(t);
      const decrypted = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id, status: 'decrypted' });
      assert.equal(decrypted.length, prices.length, 'every bid decrypted');
      t.clock.freeze(new Date(t.clock.now().getTime() + 30 * MINUTE_MS));
      await settle(t);
      t.clock.freeze(new Date(t.clock.now().getTime() + 10 * MINUTE_MS));
      await settle(t);
      t.clock.freeze(new Date(t.clock.now().getTime() + 15 * MINUTE_MS));
      await refresh(t, w.agency, ...w.entries.map((e) => e.member));
      const recorded = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/record`).set(bearer(w.agency.token)).expect(200);
      assert.equal(recorded.body.state, 'recorded');
      const readings = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/readings`).set(bearer(w.agency.token)).expect(200)).body;
      for (const e of w.entries) assert.equal(readings.find((r: { bidId: string }) => r.bidId === e.bidId).totalPriceFen, e.priceFen);

      const transitions = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.transition' }).orderBy('seq')).map((e) => e.payload.to);
      assert.deepEqual(transitions, ['decrypting', 'announcing', 'objections', 'recorded']);
      const opened = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.decrypted' })).map((e) => e.object_id).sort();
      assert.deepEqual(opened, w.entries.map((e) => e.bidId).sort(), 'each bid decrypted exactly once');
      // viewers: every live event once and in order (pokes lost with Redis are made up by the hall's poll)
      const all = (await t.ctx.db('live_events').where({ tender_id: w.tender.id }).orderBy('seq')).map((e) => Number(e.seq));
      await pollUntil('the live viewer to catch up', () => watcher.length >= all.length, { timeoutMs: 15_000 });
      await pollUntil('the reconnected viewer to catch up', () => dropper.length >= all.length, { timeoutMs: 15_000 });
      assert.deepEqual(watcher, all, 'the viewer that stayed saw every event once, in order');
      assert.deepEqual(dropper, all, 'the viewer that reconnected with its Last-Event-ID saw every event once, in order');
      await stopWatcher();
      await stopDropper();
      const chain = await auditChainVerifies(t);
      assert.ok(chain);
      recordFault({
        fault: 'Redis killed and restarted (empty)',
        during: `opening: ${prices.length} decryption jobs in Redis (${decryptedAtFault} done, ${keysBefore} keys lost)`,
        outcome: `${opened.length}/${prices.length} bids decrypted once, record signed; 2 viewers saw ${all.length}/${all.length} events`,
        lost: prices.length - opened.length,
        duplicated: opened.length - new Set(opened).size,
        auditChainVerified: chain,
        resumed: `sweeper re-added ${readded} decryption jobs; opening went on from 'decrypting'`,
      });
    });
  });

  describe('5. the bank down for ten minutes while refunds fall due', () => {
    let t: TestApp;
    let sim: BankSim;
    let server: { stop(): Promise<void> };
    let ledgerDir: string;
    before(async () => {
      ledgerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-bank-ledger-'));
      // its ledger is a file, replayed at start: the bank keeps its books across the outage
      sim = await startBankSim({ secret: BANK_SECRET, payoutDelayMs: 25, notifyRetryMs: 50, ledgerFile: path.join(ledgerDir, 'ledger.jsonl') });
      t = await createStoreApp(stores, 'bank-down', { bank: { url: sim.url, notifySecret: BANK_SECRET, timeoutMs: 2000 } });
      server = await serveForBank(t, sim);
      await createCustodianMembers(t);
    });
    after(async () => {
      await server?.stop();
      await t?.close();
      await sim?.stop();
      if (ledgerDir) fs.rmSync(ledgerDir, { recursive: true, force: true });
    });

    it('when the bank is down for ten minutes as refunds fall due, then none is paid meanwhile and each is paid exactly once after, within two working days', async () => {
      const BIDDERS = 4;
      const { agency, tender } = await depositsPaid(t, sim, BIDDERS);
      const payoutsBefore = (await sim.ledger()).payouts.length;
      await sim.stop();
      const downAt = t.clock.now();
      await t.http.post(`/api/v1/tenders/${tender.id}/terminate`).set(bearer(agency.token)).send({ reason: '招标人决定终止' }).expect(200);
      const refundIds = (await t.ctx.db('refunds').where({ tender_id: tender.id }).orderBy('id')).map((r) => r.id as string);
      assert.equal(refundIds.length, BIDDERS);

      // ten minutes of platform time, a minute at a time: every refund falls due and is tried while the bank is down
      for (let minute = 1; minute <= 10; minute++) {
        await settle(t);
        t.clock.freeze(new Date(downAt.getTime() + minute * MINUTE_MS));
      }
      await settle(t);
      const during = await t.ctx.db('refunds').whereIn('id', refundIds);
      assert.ok(during.every((r) => r.status === 'sending' && r.unanswered > 0), 'each was tried and found the bank unanswering');
      const tries = during.reduce((n, r) => n + Number(r.unanswered), 0);

      await sim.restart();
      await sim.clock(t.clock.now());
      const ledgerAfterOutage = (await sim.ledger()).payouts;
      assert.equal(ledgerAfterOutage.length, payoutsBefore, 'nothing was paid while the bank was down');
      const upAt = t.clock.now();
      for (let minute = 1; minute <= 60; minute++) {
        const open = await t.ctx.db('refunds').whereIn('id', refundIds).whereNot({ status: 'paid' });
        if (open.length === 0) break;
        t.clock.freeze(new Date(upAt.getTime() + minute * MINUTE_MS));
        await sim.clock(t.clock.now());
        await settle(t);
      }
      const rows = await t.ctx.db('refunds').whereIn('id', refundIds);
      assert.ok(rows.every((r) => r.status === 'paid'), JSON.stringify(rows.map((r) => r.status)));
      assert.ok(rows.every((r) => new Date(r.paid_at).getTime() <= new Date(r.due_at).getTime()), 'each paid before it was due');
      const bookings = await bookingsPerRefund(sim, refundIds);
      assert.deepEqual(bookings, refundIds.map(() => 1), 'the bank booked each refund once');
      const regulator = await createMember(t, 'regulator');
      const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(t.clock.now());
      const sla = (await t.http.get(`/api/v1/deposits/sla-report?from=${day}&to=${day}&tenderId=${tender.id}`).set(bearer(regulator.token)).expect(200)).body;
      assert.equal(sla.totals.released, BIDDERS);
      assert.equal(sla.totals.paidOnTime, BIDDERS, 'the SLA report counts every refund paid on time');
      const minutesToPay = Math.round((Math.max(...rows.map((r) => new Date(r.paid_at).getTime())) - upAt.getTime()) / MINUTE_MS);
      const chain = await auditChainVerifies(t);
      assert.ok(chain);
      recordFault({
        fault: 'bank simulator down 10 min (process stopped)',
        during: `${BIDDERS} refunds falling due (${tries} unanswered tries)`,
        outcome: `0 paid while down; ${rows.length}/${BIDDERS} paid once after, all on time (SLA report)`,
        lost: bookings.filter((n) => n === 0).length,
        duplicated: bookings.reduce((n, b) => n + Math.max(0, b - 1), 0),
        auditChainVerified: chain,
        resumed: `same keys retried; all paid ${minutesToPay} min after the bank came back`,
      });
    });
  });
});
