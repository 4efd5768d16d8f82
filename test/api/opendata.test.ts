import assert from 'node:assert/strict';
import { DAY_MS, MINUTE_MS } from '../../src/shared/clock';
import { shanghaiDate } from '../../src/shared/time';
import { createTestApp, runDueJobs, T0, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';
import { keyBody, postKey, world } from '../support/opening-world';
import { assertValidReleasePackage, checkReleasePackage } from '../support/ocds';

type OpeningWorld = Awaited<ReturnType<typeof world>>;
type Release = {
  ocid: string;
  id: string;
  date: string;
  tag: string[];
  parties: Array<{ id: string; name: string; roles: string[]; identifier: { scheme: string; id: string; legalName: string } }>;
  buyer: { id: string; name: string };
  tender?: Record<string, any>;
  awards?: Array<Record<string, any>>;
  contracts?: Array<Record<string, any>>;
};
type Package = { uri: string; version: string; publishedDate: string; publisher: { name: string }; extensions: string[]; releases: Release[] };

const OCDS = '/api/v1/opendata/ocds';
const HOST = 'ggzy.example.cn';

describe('open data: tenders, awards and contracts as OCDS 1.1 release packages', () => {
  let t: TestApp;
  let w: OpeningWorld;
  let draftId: string;
  let other: { id: string; code: string };
  let bidders: Array<{ name: string; credit_code: string }>;
  // the second bidder offers the lowest price, with fen, and wins
  const prices = [1_180_000_000, 1_150_000_055, 1_199_900_000];

  /** Moves platform time, runs what fell due and logs everyone in again. */
  async function advance(ms: number, members: Member[]): Promise<void> {
    t.clock.freeze(new Date(t.clock.now().getTime() + ms));
    await runDueJobs(t);
    await refresh(t, ...members);
  }
  const everyone = () => [w.agency, w.tenderer, ...w.entries.map((e) => e.member)];
  /** Anonymous, as the public asks, through the name the platform is published under. */
  const packageOf = async (tenderId: string): Promise<Package> => {
    const res = await t.http.get(`${OCDS}/tenders/${tenderId}`).set('Host', HOST).expect(200).expect('Content-Type', /application\/json/);
    return res.body;
  };
  /** No bidder's name or credit code anywhere in the answer. */
  const assertNoBidder = (pkg: Package) => {
    const text = JSON.stringify(pkg);
    for (const b of bidders) {
      assert.ok(!text.includes(b.name), `bidder ${b.name} named`);
      assert.ok(!text.includes(b.credit_code), `bidder ${b.credit_code} identified`);
    }
    for (const r of pkg.releases) {
      assert.ok(!r.parties.some((p) => p.roles.includes('tenderer')), `${r.id} lists a tenderer`);
      assert.equal(r.tender?.tenderers, undefined);
      assert.equal(r.tender?.numberOfTenderers, undefined, 'not even how many bid (TL 22)');
    }
  };

  before(async () => {
    t = await createTestApp('opendata');
    await createCustodianMembers(t);
    w = await world(t, prices);
    bidders = await t.ctx.db('organisations').whereIn('id', w.entries.map((e) => e.member.orgId)).select('name', 'credit_code');
    const draft = await t.http.post('/api/v1/tenders').set(bearer(w.agency.token)).send(tenderBody(w.tenderer.orgId, t.clock.now(), { name: '未发布的草稿项目' })).expect(201);
    draftId = draft.body.id;
    const second = await t.http.post('/api/v1/tenders').set(bearer(w.agency.token))
      .send(tenderBody(w.tenderer.orgId, t.clock.now(), { name: '西安市某区道路改造工程', type: 'procurement' })).expect(201);
    await uploadDocument(t, w.agency.token, second.body.id);
    other = (await t.http.post(`/api/v1/tenders/${second.body.id}/publish`).set(bearer(w.agency.token)).expect(200)).body;
  });
  after(() => t.close());

  it('when a tender is published, then anyone reads a valid package with its tender release: yuan, the lot, the documents, and no bidder', async () => {
    const pkg = await packageOf(w.tender.id);
    assertValidReleasePackage(pkg);
    assert.equal(pkg.version, '1.1');
    assert.equal(pkg.publisher.name, t.ctx.config.platformName);
    assert.equal(pkg.uri, `http://${HOST}${OCDS}/tenders/${w.tender.id}`);
    assert.equal(pkg.releases.length, 1);
    const [r] = pkg.releases;
    const ocid = `ocds-gzpt00-${w.tender.code}`;
    assert.deepEqual([r.ocid, r.id, r.tag, r.date], [ocid, `${ocid}-tender`, ['tender'], '2026-11-23T09:00:00+08:00']);
    assert.equal(pkg.publishedDate, r.date);
    assert.equal(r.tender!.status, 'active');
    assert.equal(r.tender!.procurementMethod, 'open');
    assert.equal(r.tender!.procurementMethodDetails, '公开招标');
    assert.equal(r.tender!.mainProcurementCategory, 'works');
    // 12,000,000.00 yuan estimated (the platform keeps 1,200,000,000 fen)
    assert.deepEqual(r.tender!.value, { amount: 12_000_000, currency: 'CNY' });
    assert.deepEqual(r.tender!.lots, [{ id: 'lot-1', title: w.tender.sections[0].name, value: { amount: 12_000_000, currency: 'CNY' }, status: 'active' }]);
    assert.deepEqual(r.tender!.items, [{ id: '1', description: w.tender.sections[0].name, relatedLot: 'lot-1' }]);
    assert.equal(new Date(r.tender!.tenderPeriod.endDate).getTime(), new Date(w.tender.bidDeadline).getTime());
    assert.equal(r.tender!.documents.length, 1);
    assert.equal(r.tender!.documents[0].documentType, 'biddingDocuments');
    assert.equal(r.tender!.documents[0].url, `http://${HOST}/api/v1/tenders/${w.tender.id}/documents/${r.tender!.documents[0].id}`);
    // the tenderer is the buyer, the agency the procuring entity, each by its credit code
    const tendererOrg = await t.ctx.db('organisations').where({ id: w.tenderer.orgId }).first();
    const agencyOrg = await t.ctx.db('organisations').where({ id: w.agency.orgId }).first();
    assert.deepEqual(r.buyer, { id: `CN-USCC-${tendererOrg.credit_code}`, name: tendererOrg.name });
    assert.deepEqual(r.parties.map((p) => [p.roles, p.identifier.scheme, p.identifier.id]), [
      [['buyer'], 'CN-USCC', tendererOrg.credit_code],
      [['procuringEntity'], 'CN-USCC', agencyOrg.credit_code],
    ]);
    // three bids are on the platform, sealed: nothing about them is public
    assert.equal((await t.ctx.db('bids').where({ tender_id: w.tender.id, status: 'current' })).length, 3);
    assertNoBidder(pkg);
  });

  it('when a draft, an unknown tender or a malformed id is asked for, then 404 or 400 with a stable code, even for the draft’s own agency', async () => {
    for (const req of [t.http.get(`${OCDS}/tenders/${draftId}`), t.http.get(`${OCDS}/tenders/${draftId}`).set(bearer(w.agency.token))]) {
      const res = await req.expect(404);
      assert.equal(res.body.error.code, 'NOT_FOUND');
    }
    assert.equal((await t.http.get(`${OCDS}/tenders/00000000-0000-4000-8000-00000000abcd`).expect(404)).body.error.code, 'NOT_FOUND');
    const bad = await t.http.get(`${OCDS}/tenders/not-a-uuid`).expect(400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    assert.equal(bad.body.error.details.issues[0].path, 'params.tenderId');
  });

  it('when a clarification postpones a deadline and the tender is then terminated, then amendment and cancellation releases follow the tender release', async () => {
    // ten days before the deadline: a clarification affecting bid preparation moves it so that 15 remain (TLR 21)
    await advance(20 * DAY_MS, everyone());
    const c = await t.http.post(`/api/v1/tenders/${other.id}/clarifications`).set(bearer(w.agency.token))
      .send({ title: '关于工程量清单的澄清', body: '第三章工程量清单第 12 项数量更正为 350 立方米。', affectsBidPreparation: true }).expect(201);
    await t.http.post(`/api/v1/tenders/${other.id}/terminate`).set(bearer(w.agency.token)).send({ reason: '项目资金未落实，招标人决定终止招标' }).expect(200);
    const after = (await t.http.get(`/api/v1/tenders/${other.id}`).set(bearer(w.agency.token)).expect(200)).body;
    assert.ok(new Date(after.bidDeadline).getTime() > new Date(after.originalDeadline).getTime(), 'the deadline was postponed');

    const pkg = await packageOf(other.id);
    assertValidReleasePackage(pkg);
    const ocid = `ocds-gzpt00-${other.code}`;
    assert.deepEqual(pkg.releases.map((r) => [r.id, r.tag[0]]), [
      [`${ocid}-tender`, 'tender'],
      [`${ocid}-clarification-1`, 'tenderAmendment'],
      [`${ocid}-cancellation`, 'tenderCancellation'],
    ]);
    const [tender, amendment, cancellation] = pkg.releases;
    assert.equal(tender.tender!.mainProcurementCategory, undefined, 'procurement may buy goods or services: not guessed');
    assert.equal(new Date(tender.tender!.tenderPeriod.endDate).getTime(), new Date(after.originalDeadline).getTime());
    assert.equal(new Date(amendment.tender!.tenderPeriod.endDate).getTime(), new Date(after.bidDeadline).getTime());
    assert.equal(c.body.deadlinePostponed, true);
    assert.equal(new Date(amendment.date).getTime(), Math.floor(new Date(c.body.clarification.issuedAt).getTime() / 1000) * 1000);
    assert.deepEqual([amendment.tender!.amendments[0].amendsReleaseID, amendment.tender!.amendments[0].releaseID], [tender.id, amendment.id]);
    assert.equal(cancellation.tender!.status, 'cancelled');
    assert.equal(cancellation.tender!.amendments[0].rationale, '项目资金未落实，招标人决定终止招标');
  });

  it('when the deadline passes and the bids are being decrypted, then the bidders are still not named', async () => {
    const hall = `/api/v1/tenders/${w.tender.id}/opening`;
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await refresh(t, ...everyone());
    for (const e of w.entries) await t.http.post(`${hall}/sign-in`).set(bearer(e.member.token)).expect(200);
    await t.http.post(`${hall}/start-decryption`).set(bearer(w.agency.token)).expect(200);
    for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
    await runDueJobs(t);
    const state = (await t.http.get(hall).set(bearer(w.agency.token)).expect(200)).body.state;
    assert.equal(state, 'decrypting');
    assert.equal((await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id, status: 'decrypted' })).length, 3, 'decrypted, not yet read out');
    const pkg = await packageOf(w.tender.id);
    assert.deepEqual(pkg.releases.map((r) => r.tag[0]), ['tender']);
    assertNoBidder(pkg);
  });

  it('when the prices have been read, then a tender update names the three bidders as tenderers by credit code', async () => {
    await advance(30 * MINUTE_MS, everyone()); // the window closes: 唱标 (EB 30)
    const pkg = await packageOf(w.tender.id);
    assertValidReleasePackage(pkg);
    assert.deepEqual(pkg.releases.map((r) => r.tag[0]), ['tender', 'tenderUpdate']);
    const opening = pkg.releases[1];
    assert.equal(opening.id, `ocds-gzpt00-${w.tender.code}-opening`);
    const closed = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.window-closed' }).first();
    assert.equal(new Date(opening.date).getTime(), Math.floor(new Date(closed.occurred_at).getTime() / 1000) * 1000);
    assert.equal(opening.tender!.numberOfTenderers, 3);
    assert.equal(opening.tender!.status, 'active');
    const expected = bidders.map((b) => `CN-USCC-${b.credit_code}`).sort();
    assert.deepEqual(opening.tender!.tenderers.map((x: { id: string }) => x.id).sort(), expected);
    const tenderers = opening.parties.filter((p) => p.roles.includes('tenderer'));
    assert.deepEqual(tenderers.map((p) => p.id).sort(), expected);
    assert.ok(tenderers.every((p) => p.identifier.scheme === 'CN-USCC' && p.id === `CN-USCC-${p.identifier.id}`));
    assert.equal(pkg.publishedDate, opening.date);
  });

  it('when the award notice is issued and the contract recorded, then award and contract releases carry the amounts in yuan and the winner’s credit code', async () => {
    const hall = `/api/v1/tenders/${w.tender.id}/opening`;
    await advance(10 * MINUTE_MS, everyone()); // confirmations close
    await advance(15 * MINUTE_MS, everyone()); // the objection period ends
    await t.http.post(`${hall}/record`).set(bearer(w.agency.token)).expect(200);
    await t.http.post(`${hall}/close`).set(bearer(w.agency.token)).expect(200);
    const base = `/api/v1/tenders/${w.tender.id}/sections/${w.sectionId}`;
    const ranked = [1, 0, 2].map((i) => w.entries[i]);
    await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token)).send({ report: '评标报告', candidates: ranked.map((e, i) => ({ bidId: e.bidId, rank: i + 1 })) }).expect(201);
    const publicity = (await t.http.post(`${base}/publicity`).set(bearer(w.agency.token)).send({}).expect(201)).body.publicity;
    // nothing public has changed during the evaluation and the candidate publicity
    assert.deepEqual((await packageOf(w.tender.id)).releases.map((r) => r.tag[0]), ['tender', 'tenderUpdate']);
    await advance(new Date(publicity.endsAt).getTime() - t.clock.now().getTime(), everyone());
    const award = (await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(201)).body;
    await advance(2 * DAY_MS, everyone());
    const signedAt = new Date(t.clock.now().getTime() - DAY_MS);
    await t.http.post(`${base}/contract`).set(bearer(w.agency.token)).send({ signedAt: signedAt.toISOString(), amountFen: prices[1] }).expect(201);

    const pkg = await packageOf(w.tender.id);
    assertValidReleasePackage(pkg);
    const ocid = `ocds-gzpt00-${w.tender.code}`;
    assert.deepEqual(pkg.releases.map((r) => [r.id, r.tag]), [
      [`${ocid}-tender`, ['tender']],
      [`${ocid}-opening`, ['tenderUpdate']],
      [`${ocid}-award-1`, ['award']],
      [`${ocid}-contract-1`, ['contract']],
    ]);
    const [, , a, c] = pkg.releases;
    const winner = await t.ctx.db('organisations').where({ id: w.entries[1].member.orgId }).first();
    assert.equal(new Date(a.date).getTime(), new Date(award.issuedAt).getTime() - (new Date(award.issuedAt).getTime() % 1000));
    assert.equal(a.awards!.length, 1);
    assert.equal(a.awards![0].status, 'active');
    assert.deepEqual(a.awards![0].value, { amount: 11_500_000.55, currency: 'CNY' });
    assert.deepEqual(a.awards![0].suppliers, [{ id: `CN-USCC-${winner.credit_code}`, name: winner.name }]);
    assert.deepEqual(a.awards![0].relatedLots, ['lot-1']);
    const supplier = a.parties.find((p) => p.roles.includes('supplier'))!;
    assert.deepEqual(supplier.identifier, { scheme: 'CN-USCC', id: winner.credit_code, legalName: winner.name });
    assert.deepEqual(c.contracts![0].value, { amount: 11_500_000.55, currency: 'CNY' });
    assert.equal(c.contracts![0].awardID, a.awards![0].id);
    assert.equal(c.contracts![0].status, 'active');
    assert.equal(new Date(c.contracts![0].dateSigned).getTime(), Math.floor(signedAt.getTime() / 1000) * 1000);
    assert.ok(pkg.releases.every((r) => r.date.endsWith('+08:00')), 'Asia/Shanghai times');
    // the same request answers the same package: ids and contents are stable
    assert.deepEqual(await packageOf(w.tender.id), pkg);
    // and the check is not vacuous: yuan written as RMB, or a made-up tag, is refused by the schema and its codelists
    const tampered = structuredClone(pkg);
    tampered.releases[2].awards![0].value.currency = 'RMB';
    tampered.releases[3].tag = ['signed'];
    const { errors } = checkReleasePackage(tampered);
    assert.ok(errors.some((e) => e.includes('/releases/2/awards/0/value/currency') && e.includes('currency.csv')), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('/releases/3/tag') && e.includes('releaseTag.csv')), errors.join('\n'));
  });

  it('when the release feed is asked for a period, then it holds the releases dated in it across tenders, and refuses bad periods with stable codes', async () => {
    const day = (d: Date) => shanghaiDate(d);
    const first = (await t.http.get(`${OCDS}/releases?from=${day(T0)}&to=${day(T0)}`).expect(200)).body as Package;
    assertValidReleasePackage(first);
    assert.deepEqual(first.releases.map((r) => r.id).sort(), [`ocds-gzpt00-${w.tender.code}-tender`, `ocds-gzpt00-${other.code}-tender`].sort());
    assert.ok(!JSON.stringify(first).includes('未发布的草稿项目'), 'no draft');

    const lastDays = (await t.http.get(`${OCDS}/releases`).query({ from: new Date(t.clock.now().getTime() - 3 * DAY_MS).toISOString(), to: new Date(t.clock.now().getTime() + 1000).toISOString() }).expect(200)).body as Package;
    assertValidReleasePackage(lastDays);
    assert.deepEqual(lastDays.releases.map((r) => r.tag[0]), ['award', 'contract']);
    assert.ok(lastDays.releases.every((r) => r.ocid === `ocds-gzpt00-${w.tender.code}`));

    const empty = await t.http.get(`${OCDS}/releases?from=2026-01-01&to=2026-01-31`).expect(404);
    assert.equal(empty.body.error.code, 'OCDS_NO_RELEASES');
    for (const [query, code] of [
      ['', 'VALIDATION_FAILED'],
      ['?from=2026-11-23', 'VALIDATION_FAILED'],
      ['?from=2026-02-30&to=2026-03-01', 'VALIDATION_FAILED'],
      ['?from=yesterday&to=today', 'VALIDATION_FAILED'],
      ['?from=2026-11-24&to=2026-11-23', 'OCDS_RANGE_INVALID'],
      ['?from=2026-10-01&to=2026-11-30', 'OCDS_RANGE_INVALID'],
    ] as const) {
      const res = await t.http.get(`${OCDS}/releases${query}`).expect(400);
      assert.equal(res.body.error.code, code, query);
    }
  });
});

describe('open data: a failed opening (流标) and a winner who refuses to sign', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('opendata-outcomes');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  const members = (w: OpeningWorld) => [w.agency, w.tenderer, ...w.entries.map((e) => e.member)];
  async function advance(ms: number, w: OpeningWorld): Promise<void> {
    t.clock.freeze(new Date(t.clock.now().getTime() + ms));
    await runDueJobs(t);
    await refresh(t, ...members(w));
  }
  /** Every bidder decrypts; the window closes and the prices are read (or the opening fails for want of three). */
  async function readPrices(w: OpeningWorld): Promise<void> {
    const hall = `/api/v1/tenders/${w.tender.id}/opening`;
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await refresh(t, ...members(w));
    for (const e of w.entries) await t.http.post(`${hall}/sign-in`).set(bearer(e.member.token)).expect(200);
    await t.http.post(`${hall}/start-decryption`).set(bearer(w.agency.token)).expect(200);
    for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
    await runDueJobs(t);
    await advance(30 * MINUTE_MS, w);
  }
  const packageOf = async (tenderId: string): Promise<Package> => (await t.http.get(`${OCDS}/tenders/${tenderId}`).expect(200)).body;

  it('when only two bids open, then the tender update names both bidders and marks the lot and the tender unsuccessful (TLR 44)', async () => {
    const w = await world(t, [990_000_000, 1_010_000_000]);
    await readPrices(w);
    assert.equal((await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200)).body.state, 'failed');
    const pkg = await packageOf(w.tender.id);
    assertValidReleasePackage(pkg);
    const opening = pkg.releases.find((r) => r.tag[0] === 'tenderUpdate')!;
    assert.equal(opening.tender!.status, 'unsuccessful');
    assert.deepEqual(opening.tender!.lots, [{ id: 'lot-1', status: 'unsuccessful' }]);
    assert.equal(opening.tender!.numberOfTenderers, 2);
    assert.equal(pkg.releases.filter((r) => r.awards || r.contracts).length, 0);
  });

  it('when the winner refuses to sign, then an award update cancels the award, citing TLR 74', async () => {
    const w = await world(t, [1_000_000_000, 990_000_000, 1_010_000_000]);
    await readPrices(w);
    const hall = `/api/v1/tenders/${w.tender.id}/opening`;
    await advance(10 * MINUTE_MS, w);
    await advance(15 * MINUTE_MS, w);
    await t.http.post(`${hall}/record`).set(bearer(w.agency.token)).expect(200);
    await t.http.post(`${hall}/close`).set(bearer(w.agency.token)).expect(200);
    const base = `/api/v1/tenders/${w.tender.id}/sections/${w.sectionId}`;
    const ranked = [1, 0, 2].map((i) => w.entries[i]);
    await t.http.post(`${base}/evaluation`).set(bearer(w.agency.token)).send({ report: '评标报告', candidates: ranked.map((e, i) => ({ bidId: e.bidId, rank: i + 1 })) }).expect(201);
    const publicity = (await t.http.post(`${base}/publicity`).set(bearer(w.agency.token)).send({}).expect(201)).body.publicity;
    await advance(new Date(publicity.endsAt).getTime() - t.clock.now().getTime(), w);
    await t.http.post(`${base}/award`).set(bearer(w.agency.token)).send({}).expect(201);
    await advance(DAY_MS, w);
    await t.http.post(`${base}/award/refusal`).set(bearer(w.agency.token)).send({ reason: '中标人书面表示拒绝签订合同' }).expect(200);

    const pkg = await packageOf(w.tender.id);
    assertValidReleasePackage(pkg);
    const ocid = `ocds-gzpt00-${w.tender.code}`;
    assert.deepEqual(pkg.releases.map((r) => [r.id, r.tag[0]]).slice(2), [[`${ocid}-award-1`, 'award'], [`${ocid}-award-1-refusal`, 'awardUpdate']]);
    const [award, refusal] = pkg.releases.slice(2);
    assert.equal(refusal.awards![0].id, award.awards![0].id);
    assert.equal(refusal.awards![0].status, 'cancelled');
    assert.match(refusal.awards![0].description, /TLR 74/);
    assert.match(refusal.awards![0].description, /中标人书面表示拒绝签订合同/);
    assert.ok(new Date(refusal.date).getTime() > new Date(award.date).getTime());
  });
});
