/**
 * EB 31: a bid whose decryption fails through no fault of its bidder is withdrawn (撤回), unless the tender documents
 * set a remedy: here, opening it with the tender's opening key rebuilt from k released custodian shares. The fault is
 * real: the platform's storage loses the envelope while the bidder's key is being used, and gets it back later.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openBuffer } from '../../crypto/envelope';
import { MINUTE_MS } from '../../src/shared/clock';
import { REMEDY_MINUTES } from '../../src/opening/custodian-remedy';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, refresh, type Member } from '../support/factories';
import { keyBody, postKey, world, type Entry } from '../support/opening-world';

type World = Awaited<ReturnType<typeof world>>;
const PRICES = [1_180_000_000, 1_165_432_100, 1_199_900_000, 1_150_000_000];

/** Deadline, sign-in, the window; every bidder hands over its own key, but the last bid's envelope is out of reach. */
async function toWindowWithPlatformFault(t: TestApp, w: World): Promise<{ lost: Entry; windowEndsAt: Date }> {
  t.clock.freeze(new Date(w.tender.bidDeadline));
  await runDueJobs(t);
  await refresh(t, w.agency, ...w.entries.map((e) => e.member));
  for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
  const hall = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
  const lost = w.entries[3];
  const file = await envelopeFile(t, lost);
  fs.renameSync(file, `${file}.away`);
  try {
    for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
    await runDueJobs(t); // the lost bid's job fails on every try
  } finally {
    fs.renameSync(`${file}.away`, file);
  }
  const d = await t.ctx.db('bid_decryptions').where({ bid_id: lost.bidId }).first();
  assert.deepEqual([d.status, d.failure_code, d.content_key_enc], ['failed', 'PLATFORM_ERROR', null]);
  return { lost, windowEndsAt: new Date(hall.body.decryptionEndsAt) };
}

async function envelopeFile(t: TestApp, e: Entry): Promise<string> {
  const bid = await t.ctx.db('bids').where({ id: e.bidId }).first();
  return path.join(t.blobDir, bid.blob_key);
}

/** What `bidtool release-share` does: fetch the sealed share, open it locally, release it. */
async function releaseShare(t: TestApp, tenderId: string, member: Member): Promise<{ released: number; threshold: number }> {
  const fetched = await t.http.get(`/api/v1/tenders/${tenderId}/opening-key/share`).set(bearer(member.token)).expect(200);
  const share = await openBuffer(Buffer.from(fetched.body.sealedShare, 'base64'), { privateKeyPem: member.encryptionKeys.privateKeyPem, certificatePem: member.encryptionCertPem });
  return (await t.http.post(`/api/v1/tenders/${tenderId}/opening-key/share`).set(bearer(member.token)).send({ share: share.toString('base64') }).expect(200)).body;
}

const stateOf = async (t: TestApp, tenderId: string) => (await t.ctx.db('openings').where({ tender_id: tenderId }).first()).state;

describe('opening: the custodians’ remedy for a decryption that failed through no fault of the bidder (EB 31)', () => {
  let t: TestApp;
  let custodians: { regulator: Member; operator: Member };
  before(async () => {
    t = await createTestApp('opening-remedy');
    custodians = await createCustodianMembers(t);
  });
  after(() => t.close());

  it('when k custodians release their shares during the remedy, then the opening key opens the bid and its price is read', async () => {
    const w = await world(t, PRICES, 'custodian-open');
    const { lost, windowEndsAt } = await toWindowWithPlatformFault(t, w);

    // the window closes: the remedy begins instead of giving the bid up; nothing is opened without k shares
    t.clock.freeze(windowEndsAt);
    await runDueJobs(t);
    await refresh(t, w.agency, w.entries[0].member, lost.member, custodians.regulator, custodians.operator);
    let hall = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200)).body;
    assert.equal(hall.state, 'decrypting');
    assert.equal(new Date(hall.remedyEndsAt).getTime(), windowEndsAt.getTime() + REMEDY_MINUTES * MINUTE_MS);
    const mine = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(lost.member.token)).expect(200)).body.myBids;
    assert.deepEqual(mine.map((b: { remedy: string; failureCode: string }) => [b.failureCode, b.remedy]), [['PLATFORM_ERROR', 'pending']]);
    const started = await t.ctx.db('live_events').where({ tender_id: w.tender.id, type: 'opening.remedy-started' });
    assert.equal(started.length, 1);
    assert.deepEqual(started[0].data.bids.map((b: { bidId: string }) => b.bidId), [lost.bidId]);
    // the window is over for the bidder's own key
    const late = await postKey(t, w.tender.id, lost, await keyBody(lost, t)).expect(409);
    assert.equal(late.body.error.code, 'DECRYPTION_WINDOW_CLOSED');

    // one share is not enough
    assert.deepEqual(await releaseShare(t, w.tender.id, custodians.regulator), { position: 2, released: 1, threshold: 2 });
    await runDueJobs(t);
    assert.equal((await t.ctx.db('bid_decryptions').where({ bid_id: lost.bidId }).first()).remedy_status, 'pending');
    assert.equal(await stateOf(t, w.tender.id), 'decrypting');

    // the second reaches the threshold: the bid opens at once and the opening goes on before the remedy period ends
    assert.equal((await releaseShare(t, w.tender.id, custodians.operator)).released, 2);
    await runDueJobs(t); // the remedy job opens the bid, and hands the close to the next tick
    assert.equal((await t.ctx.db('bid_decryptions').where({ bid_id: lost.bidId }).first()).remedy_status, 'opened');
    await runDueJobs(t);
    hall = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200)).body;
    assert.equal(hall.state, 'announcing');
    assert.ok(t.clock.now().getTime() < new Date(hall.remedyEndsAt).getTime());
    assert.deepEqual(hall.sectionOutcomes.map((s: { validBids: number; failed: boolean }) => [s.validBids, s.failed]), [[4, false]]);

    const readings = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/readings`).set(bearer(w.entries[0].member.token)).expect(200)).body;
    const opened = readings.find((r: { bidId: string }) => r.bidId === lost.bidId);
    assert.equal(opened.outcome, 'custodian-opened');
    assert.equal(opened.totalPriceFen, lost.priceFen);
    assert.match(opened.cause, /保管单位门限密钥开启/);
    const row = await t.ctx.db('bid_decryptions').where({ bid_id: lost.bidId }).first();
    assert.deepEqual([row.status, row.opened_by, row.remedy_status], ['decrypted', 'custodians', 'opened']);
    assert.ok(fs.existsSync(path.join(t.blobDir, row.plaintext_blob_key)), 'the opened package is kept for evaluation');
    const others = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id }).whereNot({ bid_id: lost.bidId });
    assert.ok(others.every((r) => r.opened_by === 'bidder' && r.remedy_status === null));

    // on the record: who opened it and why; no deposit released (the bid stands); jobs carry ids only
    const audit = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.custodian-opened' });
    assert.deepEqual(audit.map((a) => [a.object_id, a.payload.failureCode]), [[lost.bidId, 'PLATFORM_ERROR']]);
    assert.equal((await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'deposit.release' })).length, 0);
    const jobs = await t.ctx.db('outbox').where({ name: 'opening.custodian-open' });
    assert.ok(jobs.length >= 2 && jobs.every((j) => Object.keys(j.payload).join() === 'tenderId'));
  });

  it('when the custodians do not release k shares in time, then the bid is withdrawn with its cause and its deposit released; a pause extends the remedy', async () => {
    const w = await world(t, PRICES, 'custodian-open');
    const { lost, windowEndsAt } = await toWindowWithPlatformFault(t, w);
    t.clock.freeze(windowEndsAt);
    await runDueJobs(t);
    await refresh(t, w.agency, custodians.regulator);
    const remedyEndsAt = windowEndsAt.getTime() + REMEDY_MINUTES * MINUTE_MS;

    // the host pauses for ten minutes: the remedy gets them back
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/pause`).set(bearer(w.agency.token)).expect(200);
    t.clock.freeze(new Date(t.clock.now().getTime() + 10 * MINUTE_MS));
    const resumed = (await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/resume`).set(bearer(w.agency.token)).expect(200)).body;
    assert.equal(new Date(resumed.remedyEndsAt).getTime(), remedyEndsAt + 10 * MINUTE_MS);
    await releaseShare(t, w.tender.id, custodians.regulator);

    t.clock.freeze(new Date(remedyEndsAt));
    await runDueJobs(t);
    assert.equal(await stateOf(t, w.tender.id), 'decrypting', 'the original end has passed, but not the extended one');
    t.clock.freeze(new Date(remedyEndsAt + 10 * MINUTE_MS));
    await runDueJobs(t);
    assert.equal(await stateOf(t, w.tender.id), 'announcing');
    const row = await t.ctx.db('bid_decryptions').where({ bid_id: lost.bidId }).first();
    assert.deepEqual([row.outcome, row.remedy_status], ['withdrawn', 'pending']);
    assert.match(row.cause, /not the bidder's fault: PLATFORM_ERROR/);
    assert.match(row.cause, /保管单位未在补救时限内释放足够的密钥分片/);
    const releases = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'deposit.release' });
    assert.deepEqual(releases.map((r) => [r.object_id, r.payload.reason]), [[lost.bidId, 'withdrawn-not-bidder-fault']]);
  });

  it('when the tender sets no remedy, then a bid that failed through no fault of its bidder is withdrawn at the close', async () => {
    const w = await world(t, PRICES, 'withdraw');
    const { lost, windowEndsAt } = await toWindowWithPlatformFault(t, w);
    t.clock.freeze(windowEndsAt);
    await runDueJobs(t);
    assert.equal(await stateOf(t, w.tender.id), 'announcing');
    const row = await t.ctx.db('bid_decryptions').where({ bid_id: lost.bidId }).first();
    assert.deepEqual([row.outcome, row.remedy_status], ['withdrawn', null]);
    assert.equal((await t.ctx.db('live_events').where({ tender_id: w.tender.id, type: 'opening.remedy-started' })).length, 0);
    assert.equal((await t.ctx.db('outbox').where({ name: 'opening.custodian-open' }).whereRaw(`payload->>'tenderId' = ?`, [w.tender.id])).length, 0);
  });
});
