/**
 * Signed checkpoints of the audit chain through the app: an operator signs one on demand (recorded), the periodic job
 * signs one when the chain grew (recorded nowhere, so it never feeds itself), a bidder proves its receipt's event is
 * in the log and the proof verifies with merkle.ts against the signed root, another bidder gets 404, regulators list
 * checkpoints and get consistency proofs between them.
 */
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/shared/clock';
import { fromHex, leafHash, verifyConsistency, verifyInclusion } from '../../crypto/merkle';
import { checkpointSignatureValid } from '../../crypto/checkpoint-note';
import { verifyInclusionProofDocument } from '../../crypto/audit-proof';
import { CHECKPOINT_JOB } from '../../src/monitoring/monitoring.jobs';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import {
  bearer,
  createCustodianMembers,
  createMember,
  operatorToken,
  refresh,
  sealBid,
  submitBid,
  tenderBody,
  uploadDocument,
  type Member,
} from '../support/factories';

describe('audit checkpoints and inclusion proofs', () => {
  let t: TestApp;
  let custodians: { regulator: Member; operator: Member };
  let agency: Member;
  let bidder: Member;
  let rival: Member;
  let caPem: string;
  let receiptSeq: number;
  let bidId: string;

  const headSeq = async () => Number((await t.ctx.db('audit_events').max({ seq: 'seq' }).first())!.seq);
  const countEvents = async (action: string) => Number((await t.ctx.db('audit_events').where({ action }).count({ n: '*' }).first())!.n);
  const countCheckpoints = async () => Number((await t.ctx.db('audit_checkpoints').count({ n: '*' }).first())!.n);

  before(async () => {
    t = await createTestApp('audit-proof');
    custodians = await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
    rival = await createMember(t, 'bidder');
    const tenderer = await createMember(t, 'tenderer');
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, draft.body.id);
    const tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    const openingCert = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(bidder.token)).expect(200)).body.certificatePem;
    const sent = await submitBid(t, bidder, tender.id, tender.sections[0].id, await sealBid(t, bidder, openingCert, Buffer.from('投标文件 audit proof')));
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    receiptSeq = sent.body.submission.receipt.auditSeq;
    bidId = sent.body.submission.bid.id;
    caPem = (await t.http.get('/api/v1/pki/ca-certificate').expect(200)).text;
  });
  after(() => t.close());
  afterEach(() => refresh(t, agency, bidder, rival, custodians.regulator));

  it('when there is no checkpoint yet, then a proof is refused with AUDIT_NO_CHECKPOINT and the bid view names its audit seq', async () => {
    const res = await t.http.get(`/api/v1/audit/events/${receiptSeq}/proof`).set(bearer(bidder.token)).expect(409);
    assert.equal(res.body.error.code, 'AUDIT_NO_CHECKPOINT');
    const bid = await t.http.get(`/api/v1/bids/${bidId}`).set(bearer(bidder.token)).expect(200);
    assert.equal(bid.body.auditSeq, receiptSeq, 'the receipt (and the bid view) carry the seq to ask the proof for');
  });

  it('when an operator signs a checkpoint, then it covers the whole chain, its signature verifies and the request is recorded after it', async () => {
    const op = await operatorToken(t); // a login is an event too: before the head is read
    const head = await headSeq();
    const res = await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)).expect(200);
    assert.equal(res.body.made, true);
    const c = res.body.checkpoint;
    assert.equal(c.treeSize, head);
    assert.equal(c.lastEventHash, String((await t.ctx.db('audit_events').where({ seq: head }).first()).hash).trim());
    assert.match(c.rootHash, /^[0-9a-f]{64}$/);
    assert.ok(checkpointSignatureValid(c, t.ctx.keys.signer.certificatePem));
    assert.ok(!checkpointSignatureValid({ ...c, treeSize: c.treeSize - 1 }, t.ctx.keys.signer.certificatePem), 'the size is signed');
    assert.match(c.madeAtLocal, /^2026-11-23 09:00/);
    const recorded = await t.ctx.db('audit_events').where({ action: 'audit.checkpoint' }).first();
    assert.equal(Number(recorded.seq), head + 1, 'recorded once, after the checkpoint it made');
    assert.deepEqual(recorded.payload, { treeSize: head, rootHash: c.rootHash });
  });

  it('when the bidder asks for its receipt\'s proof, then the proof verifies with merkle.ts against the signed root, and offline', async () => {
    const res = await t.http.get(`/api/v1/audit/events/${receiptSeq}/proof`).set(bearer(bidder.token)).expect(200);
    const doc = res.body;
    assert.equal(doc.event.seq, receiptSeq);
    assert.equal(doc.event.action, 'bid.submit');
    assert.equal(doc.event.objectId, bidId);
    assert.equal(doc.event.actorOrgId, bidder.orgId);
    const latest = await t.ctx.db('audit_checkpoints').orderBy('tree_size', 'desc').first();
    assert.equal(doc.treeSize, Number(latest.tree_size));
    assert.equal(doc.checkpoint.rootHash, String(latest.root_hash).trim());
    const leaf = leafHash(fromHex(doc.event.hash));
    const proof = doc.proof.map((h: string) => fromHex(h));
    assert.ok(verifyInclusion(leaf, receiptSeq - 1, doc.treeSize, proof, fromHex(doc.checkpoint.rootHash)));
    assert.ok(!verifyInclusion(leaf, receiptSeq, doc.treeSize, proof, fromHex(doc.checkpoint.rootHash)), 'not at another place');

    const offline = verifyInclusionProofDocument(doc, caPem);
    assert.equal(offline.ok, true, offline.message);
    assert.equal(offline.ca, 'given');
    // an altered event, a forged root, a proof from another event: each fails
    const altered = verifyInclusionProofDocument({ ...doc, event: { ...doc.event, payload: { ...doc.event.payload, size: 1 } } }, caPem);
    assert.equal(altered.ok, false);
    assert.match(altered.problems.join(), /EVENT_ALTERED/);
    const forged = verifyInclusionProofDocument({ ...doc, checkpoint: { ...doc.checkpoint, rootHash: 'ab'.repeat(32) } }, caPem);
    assert.match(forged.problems.join(), /CHECKPOINT_FORGED/);
    assert.match(forged.problems.join(), /NOT_INCLUDED/);
    const otherCa = verifyInclusionProofDocument(doc, t.ctx.keys.signer.certificatePem);
    assert.equal(otherCa.ok, false, 'a signer not issued by the given root is not trusted');
  });

  it('when another bidder asks for that event\'s proof, then 404 as if it did not exist; a regulator may ask for any event', async () => {
    const res = await t.http.get(`/api/v1/audit/events/${receiptSeq}/proof`).set(bearer(rival.token)).expect(404);
    assert.equal(res.body.error.code, 'NOT_FOUND');
    await t.http.get(`/api/v1/audit/events/999999/proof`).set(bearer(rival.token)).expect(404);
    const reg = await t.http.get(`/api/v1/audit/events/1/proof`).set(bearer(custodians.regulator.token)).expect(200);
    assert.equal(verifyInclusionProofDocument(reg.body, caPem).ok, true);
    await t.http.get(`/api/v1/audit/events/${receiptSeq}/proof`).set(bearer(agency.token)).expect(404);
  });

  it('when an event is newer than the latest checkpoint, then its proof is refused with when the next is due', async () => {
    const seq = await headSeq();
    const res = await t.http.get(`/api/v1/audit/events/${seq}/proof`).set(bearer(custodians.regulator.token)).expect(409);
    assert.equal(res.body.error.code, 'AUDIT_EVENT_NOT_YET_CHECKPOINTED');
    assert.equal(res.body.error.details.nextWithinMinutes, 10);
  });

  it('when an operator asks again with nothing new but its own record, then one more is made; then none and nothing is recorded', async () => {
    const op = await operatorToken(t);
    const again = await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)).expect(200);
    assert.equal(again.body.made, true, 'its own earlier request is new');
    const n = await countCheckpoints();
    const recorded = await countEvents('audit.checkpoint');
    // the operator's login appended an event too: sign over it first, so the next request finds nothing new
    const head = await headSeq();
    if (head > again.body.checkpoint.treeSize) await t.ctx.services.checkpoints.makeIfGrown();
    const m = await countCheckpoints();
    const none = await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)).expect(200);
    assert.equal(none.body.made, false);
    assert.equal(none.body.checkpoint.treeSize, await headSeq());
    assert.equal(await countCheckpoints(), m);
    assert.equal(await countEvents('audit.checkpoint'), recorded, 'no checkpoint, no record');
    assert.ok(m >= n);
  });

  it('when the periodic job runs, then it signs only when the chain grew, records nothing, and schedules its successor once', async () => {
    await t.ctx.services.checkpoints.schedule();
    await t.ctx.services.checkpoints.schedule(); // a second instance starting: still one run due
    const due = await t.ctx.db('outbox').where({ name: CHECKPOINT_JOB.name }).whereIn('status', ['pending', 'enqueued']);
    assert.equal(due.length, 1);
    const slot = new Date(due[0].run_at);
    assert.equal(slot.getTime() % (10 * MINUTE_MS), 0, 'runs fall on the 10-minute grid');

    await createMember(t, 'bidder'); // the chain grows
    const head = await headSeq();
    const before = await countCheckpoints();
    t.clock.freeze(slot);
    await runDueJobs(t);
    assert.equal(await countCheckpoints(), before + 1);
    const latest = await t.ctx.db('audit_checkpoints').orderBy('tree_size', 'desc').first();
    assert.equal(Number(latest.tree_size), head);
    assert.equal(await headSeq(), head, 'the job appended nothing to the chain');
    const next = await t.ctx.db('outbox').where({ name: CHECKPOINT_JOB.name, status: 'pending' });
    assert.equal(next.length, 1);
    assert.equal(new Date(next[0].run_at).getTime(), slot.getTime() + 10 * MINUTE_MS);

    // nothing new by the next slot: no checkpoint, and still exactly one run due after it
    t.clock.freeze(new Date(next[0].run_at));
    await runDueJobs(t);
    assert.equal(await countCheckpoints(), before + 1);
    assert.equal((await t.ctx.db('outbox').where({ name: CHECKPOINT_JOB.name, status: 'pending' })).length, 1);
  });

  it('when a regulator lists checkpoints and asks how two relate, then newest first and the consistency proof verifies', async () => {
    const list = await t.http.get('/api/v1/audit/checkpoints').set(bearer(custodians.regulator.token)).expect(200);
    assert.ok(list.body.length >= 3);
    const sizes = list.body.map((c: { treeSize: number }) => c.treeSize);
    assert.deepEqual(sizes, [...sizes].sort((a: number, b: number) => b - a));
    assert.equal(list.body[0].frontier, undefined, 'internal state stays inside');
    const [newer, , older] = list.body;
    const res = await t.http
      .get(`/api/v1/audit/checkpoints/consistency?first=${older.treeSize}&second=${newer.treeSize}`)
      .set(bearer(custodians.regulator.token))
      .expect(200);
    const proof = res.body.proof.map((h: string) => fromHex(h));
    assert.ok(verifyConsistency(older.treeSize, newer.treeSize, proof, fromHex(older.rootHash), fromHex(newer.rootHash)));
    assert.ok(!verifyConsistency(older.treeSize, newer.treeSize, proof, fromHex(newer.rootHash), fromHex(newer.rootHash)));

    const backwards = await t.http
      .get(`/api/v1/audit/checkpoints/consistency?first=${newer.treeSize}&second=${older.treeSize}`)
      .set(bearer(custodians.regulator.token))
      .expect(422);
    assert.equal(backwards.body.error.code, 'AUDIT_CONSISTENCY_RANGE');
    const missing = await t.http.get('/api/v1/audit/checkpoints/consistency?first=1&second=2').set(bearer(custodians.regulator.token)).expect(404);
    assert.equal(missing.body.error.code, 'AUDIT_CHECKPOINT_NOT_FOUND');
    await t.http.get('/api/v1/audit/checkpoints').set(bearer(bidder.token)).expect(403);
    await t.http.post('/api/v1/audit/checkpoints').set(bearer(custodians.regulator.token)).expect(403);
  });

  it('when an event after the last checkpoint was altered behind the platform\'s back, then no checkpoint is signed over it and the job still schedules its successor', async () => {
    const op = await operatorToken(t);
    await createMember(t, 'bidder');
    const k = (await t.ctx.db('audit_checkpoints').max({ n: 'tree_size' }).first())!.n + 1;
    // what a superuser could do: ordinary triggers (the append-only one) do not fire for a replica session
    await t.ctx.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL session_replication_role = replica');
      await trx('audit_events').where({ seq: k }).update({ client_ip: '10.6.6.6' });
    });
    const before = await countCheckpoints();
    const recorded = await countEvents('audit.checkpoint');
    const res = await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)).expect(409);
    assert.equal(res.body.error.code, 'AUDIT_CHAIN_BROKEN');
    assert.deepEqual([res.body.error.details.seq, res.body.error.details.problem, res.body.error.details.basis], [Number(k), 'HASH_MISMATCH', 'EB 49']);
    assert.equal(await countCheckpoints(), before);
    assert.equal(await countEvents('audit.checkpoint'), recorded, 'the refused request changed nothing');

    const due = await t.ctx.db('outbox').where({ name: CHECKPOINT_JOB.name, status: 'pending' }).first();
    t.clock.freeze(new Date(due.run_at));
    await runDueJobs(t);
    assert.equal(await countCheckpoints(), before);
    const ran = await t.ctx.db('outbox').where({ id: due.id }).first();
    assert.equal(ran.status, 'failed', 'not retried: a broken chain stays broken');
    assert.match(ran.last_error, new RegExp(`broken at seq ${k}`));
    const after = await t.ctx.db('outbox').where({ name: CHECKPOINT_JOB.name }).whereIn('status', ['pending', 'enqueued']);
    assert.equal(after.length, 1);
    assert.equal(new Date(after[0].run_at).getTime(), new Date(due.run_at).getTime() + 10 * MINUTE_MS);
  });
});
