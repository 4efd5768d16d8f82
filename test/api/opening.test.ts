import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MINUTE_MS } from '../../src/shared/clock';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { bearer, bufferBody, createCustodianMembers, createMember, refresh } from '../support/factories';
import { keyBody, postKey, world } from '../support/opening-world';

describe('opening (不见面开标): sign-in, decryption window, 唱标, objections, record', () => {
  let t: TestApp;
  let w: Awaited<ReturnType<typeof world>>;
  let custodians: Awaited<ReturnType<typeof createCustodianMembers>>;
  const prices = [1_180_000_000, 1_165_432_100, 1_199_900_000, 1_150_000_000];

  before(async () => {
    t = await createTestApp('opening');
    custodians = await createCustodianMembers(t);
    w = await world(t, prices);
  });
  after(() => t.close());

  const all = () => [w.agency, w.tenderer, ...w.entries.map((e) => e.member)];

  it('when a content key is posted before the deadline or before the window, then it is refused and a critical event recorded', async () => {
    const early = await postKey(t, w.tender.id, w.entries[0], await keyBody(w.entries[0], t)).expect(409);
    assert.equal(early.body.error.code, 'DECRYPTION_WINDOW_NOT_OPEN');
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await refresh(t, ...all());
    const hall = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.entries[0].member.token)).expect(200);
    assert.equal(hall.body.state, 'signing-in');
    const beforeWindow = await postKey(t, w.tender.id, w.entries[0], await keyBody(w.entries[0], t)).expect(409);
    assert.equal(beforeWindow.body.error.code, 'DECRYPTION_WINDOW_NOT_OPEN');
    const critical = await t.ctx.db('audit_events').where({ action: 'opening.early-key', tender_id: w.tender.id });
    assert.equal(critical.length, 2);
    assert.ok(critical.every((e) => e.payload.severity === 'critical'));
    assert.equal((await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id })).length, 0, 'no key was kept');
    // each early attempt raises a critical alert for the regulators, its evidence the event on the chain
    await refresh(t, custodians.regulator);
    const alerts = (await t.http.get(`/api/v1/alerts?tenderId=${w.tender.id}&severity=critical`).set(bearer(custodians.regulator.token)).expect(200)).body;
    assert.equal(alerts.length, 2);
    assert.deepEqual(alerts.map((a: { evidence: { auditSeqs: number[] } }) => a.evidence.auditSeqs[0]).sort(), critical.map((e) => Number(e.seq)).sort());
    assert.ok(alerts.every((a: { rule: string; basis: string; subjectOrgId: string; status: string }) =>
      a.rule === 'early-key-access' && a.basis.includes('EB 27') && a.subjectOrgId === w.entries[0].member.orgId && a.status === 'open'));
    const one = (await t.http.get(`/api/v1/alerts/${alerts[0].id}`).set(bearer(custodians.regulator.token)).expect(200)).body;
    assert.equal(one.id, alerts[0].id);
    assert.equal((await t.http.get('/api/v1/alerts').set(bearer(w.entries[0].member.token)).expect(403)).body.error.code, 'FORBIDDEN');
  });

  it('when bidders sign in and the host opens the window, then keys are taken only from their own, signed', async () => {
    for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
    const stranger = await createMember(t, 'bidder');
    assert.equal((await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(stranger.token)).expect(403)).body.error.code, 'NOT_A_BIDDER');
    const hall = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
    assert.equal(hall.body.state, 'decrypting');
    assert.equal(hall.body.participants.length, 4);
    assert.equal(new Date(hall.body.decryptionEndsAt).getTime(), t.clock.now().getTime() + 30 * MINUTE_MS);

    const [a, b, c, d] = w.entries;
    // another bidder's bid: not found; an unsigned or wrongly signed key: refused
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/bids/${b.bidId}/content-key`).set(bearer(a.member.token)).send(await keyBody(a, t)).expect(404);
    const unsigned = await postKey(t, w.tender.id, a, { ...(await keyBody(a, t)), signature: Buffer.from('x').toString('base64') }).expect(422);
    assert.equal(unsigned.body.error.code, 'CONTENT_KEY_INVALID');
    const replayed = await postKey(t, w.tender.id, a, { ...(await keyBody(a, t)), signature: (await keyBody(b, t)).signature }).expect(422);
    assert.equal(replayed.body.error.code, 'CONTENT_KEY_INVALID');

    const posted: string[] = [];
    for (const e of [a, b, c]) {
      const body = await keyBody(e, t);
      posted.push(body.contentKey, Buffer.from(body.contentKey, 'base64').toString('hex'));
      await postKey(t, w.tender.id, e, body).expect(202);
    }
    // the fourth bidder hands over a key that does not open its bid: its own fault
    await postKey(t, w.tender.id, d, await keyBody(d, t, crypto.randomBytes(32))).expect(202);
    // the same request inside the window, from its first instant, is no early access: nothing more recorded or raised
    assert.equal((await t.ctx.db('audit_events').where({ action: 'opening.early-key', tender_id: w.tender.id })).length, 2);
    assert.equal((await t.ctx.db('alerts').where({ tender_id: w.tender.id, rule: 'early-key-access' })).length, 2);
    const stored = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id });
    assert.equal(stored.length, 4);
    assert.ok(stored.every((r) => r.content_key_enc?.startsWith('v1.') && !posted.some((k) => r.content_key_enc.includes(k))), 'keys are sealed at rest');
    const jobs = await t.ctx.db('outbox').where({ name: 'opening.decrypt' });
    assert.ok(jobs.every((j) => Object.keys(j.payload).join() === 'bidId'), 'jobs carry the bid id only');
    await runDueJobs(t);
    const after = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id });
    assert.deepEqual(after.map((r) => r.status).sort(), ['decrypted', 'decrypted', 'decrypted', 'failed']);
    assert.ok(after.every((r) => r.content_key_enc === null), 'keys are wiped once used');
    // the bidder whose key failed sees it in the hall while the window is still open
    const own = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(d.member.token)).expect(200);
    assert.deepEqual(own.body.myBids.map((x: { decryption: string; failureCode: string }) => [x.decryption, x.failureCode]), [['failed', 'TAG_MISMATCH']]);
    const host = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200);
    assert.equal(host.body.myBids, undefined);
  });

  it('when the window closes, then each bid has its outcome and cause and the prices are read out', async () => {
    t.clock.freeze(new Date(t.clock.now().getTime() + 30 * MINUTE_MS));
    await runDueJobs(t);
    await refresh(t, ...all());
    const late = await postKey(t, w.tender.id, w.entries[0], await keyBody(w.entries[0], t)).expect(409);
    assert.equal(late.body.error.code, 'DECRYPTION_WINDOW_CLOSED');
    const hall = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200);
    assert.equal(hall.body.state, 'announcing');
    assert.deepEqual(hall.body.sectionOutcomes.map((s: { validBids: number; failed: boolean }) => [s.validBids, s.failed]), [[3, false]]);
    const readings = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/readings`).set(bearer(w.entries[0].member.token)).expect(200)).body;
    assert.equal(readings.length, 4);
    for (const e of w.entries.slice(0, 3)) {
      const r = readings.find((x: { bidId: string }) => x.bidId === e.bidId);
      assert.equal(r.outcome, 'decrypted');
      assert.equal(r.totalPriceFen, e.priceFen);
    }
    const revoked = readings.find((x: { bidId: string }) => x.bidId === w.entries[3].bidId);
    assert.equal(revoked.outcome, 'revoked');
    assert.match(revoked.cause, /投标人/);
    assert.equal(revoked.totalPriceFen, null);
  });

  it('when bidders confirm, dispute or stay silent and an objection is answered, then the record is published and signed', async () => {
    const [a, b] = w.entries;
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/confirmation`).set(bearer(a.member.token)).send({ kind: 'confirmed' }).expect(200);
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/confirmation`).set(bearer(b.member.token)).send({ kind: 'disputed' }).expect(200);
    const objection = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/objections`).set(bearer(b.member.token))
      .send({ text: '第四投标人解密失败的原因应予说明。' }).expect(201);
    t.clock.freeze(new Date(t.clock.now().getTime() + 10 * MINUTE_MS));
    await runDueJobs(t);
    await refresh(t, ...all());
    const readings = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/readings`).set(bearer(w.agency.token)).expect(200)).body;
    const kinds = Object.fromEntries(readings.map((r: { bidId: string; confirmation: string }) => [r.bidId, r.confirmation]));
    assert.equal(kinds[a.bidId], 'confirmed');
    assert.equal(kinds[b.bidId], 'disputed');
    assert.equal(kinds[w.entries[2].bidId], 'deemed', 'silence counts as acceptance (GP87 42)');

    const tooSoon = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/record`).set(bearer(w.agency.token)).expect(409);
    assert.equal(tooSoon.body.error.code, 'OBJECTION_PERIOD_RUNNING');
    t.clock.freeze(new Date(t.clock.now().getTime() + 15 * MINUTE_MS));
    await refresh(t, ...all());
    const unanswered = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/record`).set(bearer(w.agency.token)).expect(409);
    assert.equal(unanswered.body.error.code, 'OBJECTIONS_UNANSWERED');
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/objections/${objection.body.id}/answer`).set(bearer(w.agency.token))
      .send({ answer: '第四投标人提交的解密密钥无法打开其投标文件，按撤销处理（《电子招标投标办法》第三十一条）。' }).expect(200);
    const recorded = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/record`).set(bearer(w.agency.token)).expect(200);
    assert.equal(recorded.body.state, 'recorded');
    const binary = (r: import('supertest').Test) => r.buffer(true).parse(bufferBody);
    const pdf = (await binary(t.http.get(`/api/v1/tenders/${w.tender.id}/opening/record.pdf`).set(bearer(a.member.token))).expect(200)).body as Buffer;
    const p7s = (await binary(t.http.get(`/api/v1/tenders/${w.tender.id}/opening/record.p7s`).set(bearer(a.member.token))).expect(200)).body as Buffer;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-record-'));
    fs.writeFileSync(path.join(dir, 'record.pdf'), pdf);
    fs.writeFileSync(path.join(dir, 'record.p7s'), p7s);
    fs.writeFileSync(path.join(dir, 'ca.pem'), (await t.http.get('/api/v1/pki/ca-certificate')).text);
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'record.p7s'), '-content', path.join(dir, 'record.pdf'), '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null'], { stdio: 'pipe' });
    const text = execFileSync('pdftotext', ['-layout', path.join(dir, 'record.pdf'), '-']).toString();
    fs.rmSync(dir, { recursive: true });
    const compact = text.replace(/\s+/g, '');
    for (const e of w.entries) {
      const name = (await t.ctx.db('organisations').where({ id: e.member.orgId }).first()).name;
      assert.ok(compact.includes(name), `${name} in the record`);
    }
    assert.ok(compact.includes('11,800,000.00'), 'the price in yuan');
    assert.ok(compact.includes('壹仟壹佰捌拾万元整'), 'the price in Chinese capitals');
    assert.ok(compact.includes('撤销'), 'the revoked bid and its cause');
    assert.ok(compact.includes('第四投标人解密失败的原因应予说明'), 'the objection');
    const closed = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/close`).set(bearer(w.agency.token)).expect(200);
    assert.equal(closed.body.state, 'closed');
    const transitions = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.transition' }).orderBy('seq')).map((e) => e.payload.to);
    assert.deepEqual(transitions, ['decrypting', 'announcing', 'objections', 'recorded', 'closed']);
  });

  it('when the opening ran, then the hall’s live log holds every step in order, and no key or price before the reading', async () => {
    const events = await t.ctx.db('live_events').where({ tender_id: w.tender.id }).orderBy('seq');
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'opening.begin');
    assert.equal(types.filter((x) => x === 'opening.sign-in').length, 4);
    assert.equal(types.filter((x) => x === 'opening.key-received').length, 4);
    assert.equal(types.filter((x) => x === 'opening.decrypted').length, 3);
    assert.deepEqual(events.filter((e) => e.type === 'opening.transition').map((e) => e.data.to), ['decrypting', 'announcing', 'objections', 'recorded', 'closed']);
    const beforeReading = events.slice(0, types.indexOf('opening.window-closed'));
    assert.ok(beforeReading.every((e) => !JSON.stringify(e.data).includes('Price')), 'prices are read out together, not leaked as bids open');
    // every state-changing route of the opening left its audit event (the authorization test leaves these to this file)
    const actions = new Set((await t.ctx.db('audit_events').where({ tender_id: w.tender.id })).map((e) => e.action));
    for (const a of ['opening.sign-in', 'opening.key-received', 'opening.confirm', 'opening.objection', 'opening.objection-answer']) assert.ok(actions.has(a), a);
  });
});

describe('opening: fewer than three valid bids (流标)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('opening-failed');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('when only two bids are decrypted, then the opening fails, re-tendering is required and every deposit is released', async () => {
    const w = await world(t, [1_000_000_000, 990_000_000, 1_010_000_000]);
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await refresh(t, w.agency, ...w.entries.map((e) => e.member));
    for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
    const started = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
    // the host pauses for five minutes: keys wait, and the window is given the five minutes back
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/pause`).set(bearer(w.agency.token)).expect(200);
    assert.equal((await postKey(t, w.tender.id, w.entries[0], await keyBody(w.entries[0], t)).expect(409)).body.error.code, 'OPENING_PAUSED');
    t.clock.freeze(new Date(t.clock.now().getTime() + 5 * MINUTE_MS));
    const resumed = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/resume`).set(bearer(w.agency.token)).expect(200);
    assert.equal(new Date(resumed.body.decryptionEndsAt).getTime(), new Date(started.body.decryptionEndsAt).getTime() + 5 * MINUTE_MS);
    const actions = (await t.ctx.db('audit_events').where({ tender_id: w.tender.id }).whereIn('action', ['opening.pause', 'opening.resume'])).map((e) => e.action);
    assert.deepEqual(actions, ['opening.pause', 'opening.resume']);
    for (const e of w.entries.slice(0, 2)) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
    await runDueJobs(t);
    // the original end passes: the window is still open, for the pause was given back
    t.clock.freeze(new Date(new Date(started.body.decryptionEndsAt).getTime() + 1000));
    await runDueJobs(t);
    assert.equal((await t.ctx.db('openings').where({ tender_id: w.tender.id }).first()).state, 'decrypting');
    t.clock.freeze(new Date(new Date(resumed.body.decryptionEndsAt).getTime()));
    await runDueJobs(t);
    await refresh(t, w.agency);
    const hall = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200);
    assert.equal(hall.body.state, 'failed');
    assert.equal(hall.body.retenderRequired, true);
    const releases = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'deposit.release' });
    assert.deepEqual(releases.map((r) => r.payload.bidderOrgId).sort(), w.entries.map((e) => e.member.orgId).sort());
    const outcomes = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id });
    assert.equal(outcomes.find((o) => o.bid_id === w.entries[2].bidId)!.outcome, 'revoked', 'no key in the window: the bidder’s fault');
  });
});
