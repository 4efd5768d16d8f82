import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DAY_MS, MINUTE_MS } from '../../src/shared/clock';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { bearer, bufferBody, createCustodianMembers, createMember, refresh, type Member } from '../support/factories';
import { keyBody, postKey, world } from '../support/opening-world';

type OpeningWorld = Awaited<ReturnType<typeof world>>;

/** Moves platform time, runs what fell due and logs everyone in again. */
async function advance(t: TestApp, ms: number, members: Member[]): Promise<void> {
  t.clock.freeze(new Date(t.clock.now().getTime() + ms));
  await runDueJobs(t);
  await refresh(t, ...members);
}

/** Every bidder decrypts; the opening runs through 唱标 and objections to a published record, then closes (as in opening.test.ts). */
async function runOpeningToClosed(t: TestApp, w: OpeningWorld, others: Member[]): Promise<void> {
  const all = [w.agency, w.tenderer, ...others, ...w.entries.map((e) => e.member)];
  const hall = `/api/v1/tenders/${w.tender.id}/opening`;
  t.clock.freeze(new Date(w.tender.bidDeadline));
  await runDueJobs(t);
  await refresh(t, ...all);
  for (const e of w.entries) await t.http.post(`${hall}/sign-in`).set(bearer(e.member.token)).expect(200);
  await t.http.post(`${hall}/start-decryption`).set(bearer(w.agency.token)).expect(200);
  for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
  await runDueJobs(t);
  await advance(t, 30 * MINUTE_MS, all); // the window closes: 唱标
  await advance(t, 10 * MINUTE_MS, all); // confirmations close: objections open
  await advance(t, 15 * MINUTE_MS, all); // the objection period ends
  const recorded = await t.http.post(`${hall}/record`).set(bearer(w.agency.token));
  assert.equal(recorded.status, 200, JSON.stringify(recorded.body));
  const closed = await t.http.post(`${hall}/close`).set(bearer(w.agency.token)).expect(200);
  assert.equal(closed.body.state, 'closed');
}

const binary = (r: import('supertest').Test) => r.buffer(true).parse(bufferBody);

describe('award (定标): evaluation, candidate publicity, award notice, contract, deposit releases', () => {
  let t: TestApp;
  let w: OpeningWorld;
  let base: string;
  let strangerBidder: Member;
  let strangerAgency: Member;
  let objectionId: string;
  let issuedAt: Date;
  // the second bidder offers the lowest price and is ranked first
  const prices = [1_180_000_000, 1_150_000_000, 1_199_900_000];

  before(async () => {
    t = await createTestApp('award');
    await createCustodianMembers(t);
    w = await world(t, prices);
    strangerBidder = await createMember(t, 'bidder');
    strangerAgency = await createMember(t, 'agency');
    base = `/api/v1/tenders/${w.tender.id}/sections/${w.sectionId}`;
    // before the opening is recorded there is nothing to evaluate
    const early = await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token))
      .send({ report: '评标报告', candidates: [{ bidId: w.entries[0].bidId, rank: 1 }] }).expect(409);
    assert.equal(early.body.error.code, 'OPENING_NOT_FINISHED');
    await runOpeningToClosed(t, w, [strangerBidder, strangerAgency]);
  });
  after(() => t.close());

  const everyone = () => [w.agency, w.tenderer, strangerBidder, strangerAgency, ...w.entries.map((e) => e.member)];
  const [first, second, third] = [0, 1, 2];

  it('when the agency records the evaluation, then only decrypted bids of the section with ranks 1..n are taken', async () => {
    const e = w.entries;
    const gap = await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token))
      .send({ report: '评标报告', candidates: [{ bidId: e[second].bidId, rank: 1 }, { bidId: e[first].bidId, rank: 3 }] }).expect(422);
    assert.equal(gap.body.error.code, 'CANDIDATES_INVALID');
    const foreign = await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token))
      .send({ report: '评标报告', candidates: [{ bidId: '00000000-0000-4000-8000-000000000009', rank: 1 }] }).expect(422);
    assert.equal(foreign.body.error.code, 'CANDIDATES_INVALID');
    const tooMany = await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token))
      .send({ report: '评标报告', candidates: [1, 2, 3, 4].map((rank) => ({ bidId: e[rank % 3].bidId, rank })) }).expect(400);
    assert.equal(tooMany.body.error.code, 'VALIDATION_FAILED');
    await t.http.post(`${base}/evaluation`).set(bearer(w.tenderer.token)).send({ report: '评标报告', candidates: [{ bidId: e[0].bidId, rank: 1 }] }).expect(403);

    const res = await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token)).send({
      report: '评标委员会按综合评估法评审，推荐中标候选人三名。',
      candidates: [{ bidId: e[first].bidId, rank: 2 }, { bidId: e[second].bidId, rank: 1 }, { bidId: e[third].bidId, rank: 3 }],
    }).expect(201);
    assert.equal(res.body.stage, 'evaluated');
    assert.deepEqual(res.body.candidates.map((c: { rank: number; bidId: string; priceFen: number }) => [c.rank, c.bidId, c.priceFen]), [
      [1, e[second].bidId, prices[second]],
      [2, e[first].bidId, prices[first]],
      [3, e[third].bidId, prices[third]],
    ]);
    const again = await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token)).send({ report: '再次录入', candidates: [{ bidId: e[0].bidId, rank: 1 }] }).expect(409);
    assert.equal(again.body.error.code, 'EVALUATION_EXISTS');
  });

  it('when the publicity is shorter than three days, then it is refused citing TLR 54; otherwise it runs three full days', async () => {
    const short = await t.http.post(`${base}/publicity`).set(bearer(w.agency.token))
      .send({ endsAt: new Date(t.clock.now().getTime() + 3 * DAY_MS).toISOString() }).expect(422);
    assert.equal(short.body.error.code, 'PUBLICITY_TOO_SHORT');
    assert.equal(short.body.error.details.basis, 'TLR 54');
    const res = await t.http.post(`${base}/publicity`).set(bearer(w.agency.token)).send({}).expect(201);
    assert.equal(res.body.stage, 'publicity');
    assert.equal(res.body.publicity.endsAt, short.body.error.details.earliestEndsAt);
    // the first day is not counted: three whole Shanghai days follow it
    assert.ok(new Date(res.body.publicity.endsAt).getTime() - t.clock.now().getTime() >= 3 * DAY_MS);
  });

  it('when a bidder objects during the publicity, then the award waits until the publicity ended and the objection is answered', async () => {
    const objection = await t.http.post(`${base}/publicity/objections`).set(bearer(w.entries[third].member.token))
      .send({ text: '第一中标候选人的项目负责人有在建工程，请核实。' }).expect(201);
    objectionId = objection.body.id;
    assert.equal(new Date(objection.body.answerDueAt).getTime(), t.clock.now().getTime() + 3 * DAY_MS);
    await t.http.post(`${base}/publicity/objections`).set(bearer(strangerBidder.token)).send({ text: '我也有异议。' }).expect(404);
    await t.http.post(`${base}/publicity/objections`).set(bearer(w.tenderer.token)).send({ text: '招标人异议。' }).expect(403);
    const running = await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(409);
    assert.equal(running.body.error.code, 'PUBLICITY_RUNNING');
    assert.equal(running.body.error.details.basis, 'TLR 54');

    const status = (await t.http.get(`${base}/award-status`).set(bearer(w.agency.token)).expect(200)).body;
    await advance(t, new Date(status.publicity.endsAt).getTime() - t.clock.now().getTime(), everyone());
    const closed = await t.http.post(`${base}/publicity/objections`).set(bearer(w.entries[first].member.token)).send({ text: '公示期满后的异议。' }).expect(409);
    assert.equal(closed.body.error.code, 'PUBLICITY_NOT_RUNNING');
    const unanswered = await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(409);
    assert.equal(unanswered.body.error.code, 'PUBLICITY_OBJECTIONS_UNANSWERED');
    assert.equal(unanswered.body.error.details.basis, 'TLR 54');

    // answered after its three days: taken, and flagged
    const answer = await t.http.post(`${base}/publicity/objections/${objectionId}/answer`).set(bearer(w.agency.token))
      .send({ answer: '经核实，该项目负责人无在建工程，异议不成立。' }).expect(200);
    assert.equal(answer.body.late, true);
    const event = await t.ctx.db('audit_events').where({ action: 'award.objection-answer', object_id: objectionId }).first();
    assert.equal(event.payload.late, true);
  });

  it('when the award notice is issued, then its PDF names the winner and price, its signature verifies, and the losers’ deposits are released', async () => {
    await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({ rank: 2 }).expect(422);
    const res = await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(201);
    const winner = w.entries[second];
    assert.equal(res.body.winnerOrgId, winner.member.orgId);
    assert.equal(res.body.priceFen, prices[second]);
    issuedAt = new Date(res.body.issuedAt);
    assert.equal((await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(409)).body.error.code, 'AWARD_EXISTS');

    const pdf = (await binary(t.http.get(`${base}/award/notice.pdf`).set(bearer(w.entries[first].member.token))).expect(200)).body as Buffer;
    const p7s = (await binary(t.http.get(`${base}/award/notice.p7s`).set(bearer(w.tenderer.token))).expect(200)).body as Buffer;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-award-'));
    fs.writeFileSync(path.join(dir, 'notice.pdf'), pdf);
    fs.writeFileSync(path.join(dir, 'notice.p7s'), p7s);
    fs.writeFileSync(path.join(dir, 'ca.pem'), (await t.http.get('/api/v1/pki/ca-certificate')).text);
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'notice.p7s'), '-content', path.join(dir, 'notice.pdf'), '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null'], { stdio: 'pipe' });
    const text = execFileSync('pdftotext', ['-layout', path.join(dir, 'notice.pdf'), '-']).toString();
    fs.rmSync(dir, { recursive: true });
    const compact = text.replace(/\s+/g, '');
    const winnerName = (await t.ctx.db('organisations').where({ id: winner.member.orgId }).first()).name;
    assert.ok(compact.includes('中标通知书'));
    assert.ok(compact.includes(winnerName), 'the winner');
    assert.ok(compact.includes('11,500,000.00'), 'the price in yuan');
    assert.ok(compact.includes('壹仟壹佰伍拾万元整'), 'the price in Chinese capitals');

    const releases = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'deposit.release' });
    assert.deepEqual(
      releases.map((r) => r.payload).map((p) => [p.bidderOrgId, p.sectionId, p.reason]).sort(),
      [w.entries[first], w.entries[third]].map((e) => [e.member.orgId, w.sectionId, 'award-notice']).sort(),
    );
  });

  it('when the contract is recorded 31 days after the notice, then it is flagged late (TL 46) and the winner’s deposit is released', async () => {
    await advance(t, issuedAt.getTime() + 31 * DAY_MS - t.clock.now().getTime(), everyone());
    const future = await t.http.post(`${base}/contract`).set(bearer(w.agency.token))
      .send({ signedAt: new Date(t.clock.now().getTime() + DAY_MS).toISOString(), amountFen: prices[second] }).expect(422);
    assert.equal(future.body.error.code, 'CONTRACT_DATE_INVALID');
    const res = await t.http.post(`${base}/contract`).set(bearer(w.agency.token))
      .send({ signedAt: t.clock.now().toISOString(), amountFen: prices[second] }).expect(201);
    assert.equal(res.body.stage, 'contracted');
    assert.equal(res.body.contract.late, true);
    const event = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'award.contract' }).first();
    assert.equal(event.payload.late, true);
    const release = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'deposit.release' }).orderBy('seq', 'desc').first();
    assert.deepEqual(release.payload, { bidderOrgId: w.entries[second].member.orgId, sectionId: w.sectionId, reason: 'contract-signed' });
    assert.equal((await t.http.post(`${base}/contract`).set(bearer(w.agency.token)).send({ signedAt: t.clock.now().toISOString(), amountFen: 1 }).expect(409)).body.error.code, 'CONTRACT_EXISTS');
  });

  it('when another organisation asks, then it gets 404; the section’s bidders, the tenderer and regulators read', async () => {
    for (const url of [`${base}/award-status`, `${base}/award`, `${base}/award/notice.p7s`]) {
      await t.http.get(url).set(bearer(strangerBidder.token)).expect(404);
      await t.http.get(url).set(bearer(strangerAgency.token)).expect(404);
    }
    await t.http.post(`${base}/publicity/objections/${objectionId}/answer`).set(bearer(strangerAgency.token)).send({ answer: '越权答复。' }).expect(404);
    await t.http.post(`${base}/contract`).set(bearer(strangerAgency.token)).send({ signedAt: t.clock.now().toISOString(), amountFen: 1 }).expect(404);
    for (const m of [w.tenderer, w.entries[third].member]) {
      const s = (await t.http.get(`${base}/award-status`).set(bearer(m.token)).expect(200)).body;
      assert.equal(s.stage, 'contracted');
    }
  });

  it('when the award ran, then every state-changing award route left its audit event under its request id', async () => {
    const events = await t.ctx.db('audit_events').where({ tender_id: w.tender.id }).whereLike('action', 'award.%');
    const actions = new Set(events.map((e) => e.action));
    for (const a of ['award.evaluation', 'award.publicity', 'award.objection', 'award.objection-answer', 'award.notice', 'award.contract']) assert.ok(actions.has(a), a);
    assert.ok(events.every((e) => e.request_id && e.request_id !== 'system'), 'each under the request that made it');
  });
});

describe('award: the winner refuses to sign (TLR 74)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('award-refusal');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('when the agency records the winner’s refusal, then the winner’s deposit is forfeited with its basis and no contract can follow', async () => {
    const w = await world(t, [1_000_000_000, 990_000_000, 1_010_000_000]);
    await runOpeningToClosed(t, w, []);
    const all = [w.agency, w.tenderer, ...w.entries.map((e) => e.member)];
    const base = `/api/v1/tenders/${w.tender.id}/sections/${w.sectionId}`;
    const ranked = [1, 0, 2].map((i) => w.entries[i]);
    await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token)).send({ report: '评标报告', candidates: ranked.map((e, i) => ({ bidId: e.bidId, rank: i + 1 })) }).expect(201);
    const publicity = (await t.http.post(`${base}/publicity`).set(bearer(w.agency.token)).send({}).expect(201)).body.publicity;
    await advance(t, new Date(publicity.endsAt).getTime() - t.clock.now().getTime(), all);
    // no refusal before there is an award
    assert.equal((await t.http.post(`${base}/award/refusal`).set(bearer(w.agency.token)).send({ reason: '中标人书面表示拒绝签订合同' }).expect(404)).body.error.code, 'AWARD_NOT_FOUND');
    await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(201);
    // only the tender's agency records it
    await t.http.post(`${base}/award/refusal`).set(bearer(ranked[0].member.token)).send({ reason: '拒绝' }).expect(403);
    await t.http.post(`${base}/award/refusal`).set(bearer(w.agency.token)).send({ reason: '中标人书面表示拒绝按投标文件签订合同' }).expect(200);

    const forfeit = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'deposit.forfeit' }).first();
    assert.deepEqual([forfeit.payload.bidderOrgId, forfeit.payload.reason, forfeit.payload.basis], [ranked[0].member.orgId, 'winner-refused-to-sign', 'TLR 74']);
    const release = await t.ctx.db('deposit_releases').where({ section_id: w.sectionId, bidder_org_id: ranked[0].member.orgId }).first();
    assert.equal(release.reason, 'winner-refused-to-sign');
    const contract = await t.http.post(`${base}/contract`).set(bearer(w.agency.token)).send({ signedAt: t.clock.now().toISOString(), amountFen: 990_000_000 }).expect(409);
    assert.deepEqual([contract.body.error.code, contract.body.error.details.basis], ['WINNER_REFUSED', 'TLR 74']);
    assert.equal((await t.http.post(`${base}/award/refusal`).set(bearer(w.agency.token)).send({ reason: '再次登记' }).expect(409)).body.error.code, 'WINNER_REFUSED');
  });
});
