import assert from 'node:assert/strict';
import { DAY_MS } from '../../src/shared/clock';
import { createTestApp, runDueJobs, T0, type TestApp } from '../support/app';
import { bearer, bufferBody, countRows, createCustodianMembers, createMember, createOrganisation, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';

describe('tenders: drafting, publication, clarifications, the deadline', () => {
  let t: TestApp;
  let agency: Member;
  let otherAgency: Member;
  let bidder: Member;
  let tendererOrgId: string;

  before(async () => {
    t = await createTestApp('tenders');
    await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    otherAgency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
    tendererOrgId = await createOrganisation(t, 'tenderer');
  });
  after(() => t.close());
  afterEach(async () => {
    t.clock.freeze(T0);
    await refresh(t, agency, otherAgency, bidder);
  });

  async function draft(overrides: Record<string, unknown> = {}) {
    const res = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tendererOrgId, t.clock.now(), overrides)).expect(201);
    return res.body;
  }

  async function published(overrides: Record<string, unknown> = {}) {
    const d = await draft(overrides);
    await uploadDocument(t, agency.token, d.id);
    return (await t.http.post(`/api/v1/tenders/${d.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  }

  /** Counts of every table a refused tender request could have written. */
  async function snapshot() {
    const tables = ['tenders', 'sections', 'tender_custodians', 'tender_documents', 'clarifications', 'outbox', 'audit_events'];
    return Object.fromEntries(await Promise.all(tables.map(async (n) => [n, await countRows(t, n)])));
  }

  it('when an agency creates a tender, then it is a draft with its code, sections in fen and yuan, and default custodians', async () => {
    const d = await draft();
    assert.equal(d.status, 'draft');
    assert.match(d.code, /^JS-2026-\d{5}$/);
    assert.equal(d.sections[0].estimatedPriceFen, 1_200_000_000);
    assert.equal(d.sections[0].estimatedPriceYuan, '12,000,000.00');
    assert.equal(d.sections[0].depositYuan, '240,000.00');
    assert.equal(d.custodianOrgIds.length, 3, 'agency, regulator, trading centre');
    assert.equal(d.custodianThreshold, 2);
    assert.equal(d.bidDeadlineLocal, '2026-12-23 09:00');
  });

  it('when the deposit is above 2% of the estimated price, then DEPOSIT_ABOVE_CAP citing TLR 26 and nothing is written', async () => {
    const before = await snapshot();
    const res = await t.http.post('/api/v1/tenders').set(bearer(agency.token))
      .send(tenderBody(tendererOrgId, T0, { sections: [{ name: '一标段', estimatedPriceFen: 1_000_000_00, depositFen: 2_000_001 }] }))
      .expect(422);
    assert.equal(res.body.error.code, 'DEPOSIT_ABOVE_CAP');
    assert.match(res.body.error.details.basis, /TLR 26/);
    assert.equal(res.body.error.details.capFen, 2_000_000);
    assert.deepEqual(await snapshot(), before);
  });

  it('when the deposit is exactly 2%, then it is accepted', async () => {
    const d = await draft({ sections: [{ name: '一标段', estimatedPriceFen: 1_000_000_00, depositFen: 2_000_000 }] });
    assert.equal(d.sections[0].depositFen, 2_000_000);
  });

  it('when the deadline is less than 20 days after the documents are issued, then DEADLINE_TOO_CLOSE citing TL 24, with the earliest date', async () => {
    const before = await snapshot();
    const res = await t.http.post('/api/v1/tenders').set(bearer(agency.token))
      .send(tenderBody(tendererOrgId, T0, { bidDeadline: new Date(T0.getTime() + 19 * DAY_MS).toISOString() }))
      .expect(422);
    assert.equal(res.body.error.code, 'DEADLINE_TOO_CLOSE');
    assert.equal(res.body.error.details.basis, 'TL 24');
    assert.equal(res.body.error.details.earliestLocal, '2026-12-13 00:00');
    assert.deepEqual(await snapshot(), before);
    // day 20 (the first day not counted, GP87 85) is allowed
    await draft({ bidDeadline: '2026-12-13T09:30:00+08:00' });
  });

  it('when publication comes later, then the 20 days are counted from publication', async () => {
    const d = await draft({ bidDeadline: '2026-12-14T09:30:00+08:00' });
    await uploadDocument(t, agency.token, d.id);
    t.clock.freeze(new Date(T0.getTime() + 3 * DAY_MS));
    await refresh(t, agency, bidder);
    const res = await t.http.post(`/api/v1/tenders/${d.id}/publish`).set(bearer(agency.token)).expect(422);
    assert.equal(res.body.error.code, 'DEADLINE_TOO_CLOSE');
    assert.equal((await t.http.get(`/api/v1/tenders/${d.id}`).set(bearer(agency.token)).expect(200)).body.status, 'draft');
  });

  it('when input is malformed, missing or of the wrong type, then 400 with a clear code and nothing is written', async () => {
    const before = await snapshot();
    const malformed = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).set('Content-Type', 'application/json').send('{"name": ').expect(400);
    assert.equal(malformed.body.error.code, 'MALFORMED_JSON');
    const missing = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send({ name: '缺字段' }).expect(400);
    assert.equal(missing.body.error.code, 'VALIDATION_FAILED');
    const paths = missing.body.error.details.issues.map((i: { path: string }) => i.path);
    assert.ok(paths.includes('body.type') && paths.includes('body.sections') && paths.includes('body.bidDeadline'), paths.join());
    const wrongType = await t.http.post('/api/v1/tenders').set(bearer(agency.token))
      .send(tenderBody(tendererOrgId, T0, { sections: [{ name: '一标段', estimatedPriceFen: '一千万', depositFen: 1.5 }] }))
      .expect(400);
    assert.equal(wrongType.body.error.code, 'VALIDATION_FAILED');
    const form = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).type('form').send('name=x').expect(415);
    assert.equal(form.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const notTenderer = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(bidder.orgId, T0)).expect(422);
    assert.equal(notTenderer.body.error.code, 'ORGANISATION_TYPE_MISMATCH');
    assert.deepEqual(await snapshot(), before);
  });

  it('when a custodian organisation has no encryption certificate, then the draft is refused at once with CUSTODIAN_CERTIFICATE_MISSING', async () => {
    const bare = await createOrganisation(t, 'regulator');
    const res = await t.http.post('/api/v1/tenders').set(bearer(agency.token))
      .send(tenderBody(tendererOrgId, T0, { custodianOrgIds: [agency.orgId, bare], custodianThreshold: 2 })).expect(422);
    assert.equal(res.body.error.code, 'CUSTODIAN_CERTIFICATE_MISSING');
    assert.equal(res.body.error.details.organisationId, bare);
  });

  it('when a draft has no documents, then it cannot be published', async () => {
    const d = await draft();
    const res = await t.http.post(`/api/v1/tenders/${d.id}/publish`).set(bearer(agency.token)).expect(422);
    assert.equal(res.body.error.code, 'TENDER_DOCUMENTS_MISSING');
  });

  it('when a document is uploaded and downloaded, then the bytes and SHA-256 match and the download is recorded', async () => {
    const p = await published();
    const doc = p.documents[0];
    assert.equal(doc.fileName, '招标文件.pdf');
    assert.equal(doc.blobKey, undefined, 'storage keys stay inside');
    const res = await t.http.get(`/api/v1/tenders/${p.id}/documents/${doc.id}`).set(bearer(bidder.token)).buffer(true)
      .parse(bufferBody)
      .expect(200);
    assert.equal((res.body as Buffer).toString(), '%PDF-1.4 招标文件\n');
    assert.equal(res.headers['x-content-sha256'], doc.sha256);
    const recorded = await t.ctx.db('audit_events').where({ action: 'tender.document.download', actor_org_id: bidder.orgId, object_id: doc.id });
    assert.equal(recorded.length, 1);
  });

  it('when a file name tries path traversal, then FILE_NAME_INVALID and nothing is stored', async () => {
    const d = await draft();
    const res = await t.http.post(`/api/v1/tenders/${d.id}/documents?fileName=${encodeURIComponent('../../etc/passwd')}`)
      .set(bearer(agency.token)).set('Content-Type', 'application/pdf').send(Buffer.from('x')).expect(400);
    assert.equal(res.body.error.code, 'FILE_NAME_INVALID');
    assert.equal((await t.ctx.db('tender_documents').where({ tender_id: d.id })).length, 0);
  });

  it('when a tender is published, then bidders see it, and the deadline job seals it once the clock passes the deadline', async () => {
    const p = await published();
    assert.equal(p.status, 'published');
    assert.equal(new Date(p.documentsIssuedAt).getTime(), T0.getTime());
    const list = await t.http.get('/api/v1/tenders?status=published').set(bearer(bidder.token)).expect(200);
    assert.ok(list.body.items.some((x: { id: string }) => x.id === p.id));

    await runDueJobs(t);
    assert.equal((await t.http.get(`/api/v1/tenders/${p.id}`).set(bearer(bidder.token))).body.status, 'published', 'not before the deadline');

    t.clock.freeze(new Date(new Date(p.bidDeadline).getTime() - 1000));
    await refresh(t, agency, bidder);
    await runDueJobs(t);
    assert.equal((await t.http.get(`/api/v1/tenders/${p.id}`).set(bearer(bidder.token))).body.status, 'published', 'one second before');

    t.clock.freeze(new Date(p.bidDeadline));
    await refresh(t, agency, bidder);
    await runDueJobs(t);
    const sealed = (await t.http.get(`/api/v1/tenders/${p.id}`).set(bearer(bidder.token))).body;
    assert.equal(sealed.status, 'sealed');
    assert.equal(new Date(sealed.sealedAt).getTime(), new Date(p.bidDeadline).getTime());
    const events = await t.ctx.db('audit_events').where({ tender_id: p.id, action: 'tender.seal' });
    assert.equal(events.length, 1);
  });

  it('when a clarification affecting bids comes 10 days before the deadline, then the deadline is postponed to 15 days after it (TLR 21)', async () => {
    const p = await published();
    t.clock.freeze(new Date(new Date(p.bidDeadline).getTime() - 10 * DAY_MS));
    await refresh(t, agency, bidder);
    const res = await t.http.post(`/api/v1/tenders/${p.id}/clarifications`).set(bearer(agency.token))
      .send({ title: '关于工程量清单的澄清', body: '第三章工程量清单第12项数量更正为 1,200 立方米。', affectsBidPreparation: true })
      .expect(201);
    assert.equal(res.body.deadlinePostponed, true);
    const newDeadline = new Date(res.body.tender.bidDeadline);
    assert.equal(newDeadline.getTime(), new Date(p.bidDeadline).getTime() + 5 * DAY_MS);
    assert.equal(res.body.clarification.deadlineBefore, p.bidDeadline);

    // the original deadline passes: the old job runs and finds the tender not yet due
    t.clock.freeze(new Date(p.bidDeadline));
    await refresh(t, agency, bidder);
    await runDueJobs(t);
    assert.equal((await t.http.get(`/api/v1/tenders/${p.id}`).set(bearer(bidder.token))).body.status, 'published');
    t.clock.freeze(newDeadline);
    await refresh(t, agency, bidder);
    await runDueJobs(t);
    assert.equal((await t.http.get(`/api/v1/tenders/${p.id}`).set(bearer(bidder.token))).body.status, 'sealed');
  });

  it('when a clarification leaves 15 days or does not affect bids, then the deadline stays; an earlier chosen deadline is refused', async () => {
    const p = await published();
    t.clock.freeze(new Date(new Date(p.bidDeadline).getTime() - 15 * DAY_MS));
    await refresh(t, agency, bidder);
    const kept = await t.http.post(`/api/v1/tenders/${p.id}/clarifications`).set(bearer(agency.token))
      .send({ title: '答疑', body: '不影响投标文件编制。', affectsBidPreparation: true }).expect(201);
    assert.equal(kept.body.deadlinePostponed, false);
    t.clock.freeze(new Date(new Date(p.bidDeadline).getTime() - 2 * DAY_MS));
    await refresh(t, agency, bidder);
    const minor = await t.http.post(`/api/v1/tenders/${p.id}/clarifications`).set(bearer(agency.token))
      .send({ title: '联系方式变更', body: '代理机构联系电话变更。', affectsBidPreparation: false }).expect(201);
    assert.equal(minor.body.deadlinePostponed, false);
    const earlier = await t.http.post(`/api/v1/tenders/${p.id}/clarifications`).set(bearer(agency.token))
      .send({ title: '修改', body: '修改评分办法。', affectsBidPreparation: true, newDeadline: p.bidDeadline }).expect(422);
    assert.equal(earlier.body.error.code, 'DEADLINE_MOVED_EARLIER');
    assert.equal(earlier.body.error.details.basis, 'TLR 21');
  });

  it('when another agency or a bidder touches a tender, then another organisation\'s record answers 404 and roles answer 403', async () => {
    const d = await draft();
    assert.equal((await t.http.get(`/api/v1/tenders/${d.id}`).set(bearer(otherAgency.token)).expect(404)).body.error.code, 'NOT_FOUND');
    assert.equal((await t.http.get(`/api/v1/tenders/${d.id}`).set(bearer(bidder.token)).expect(404)).body.error.code, 'NOT_FOUND');
    await t.http.patch(`/api/v1/tenders/${d.id}`).set(bearer(otherAgency.token)).send({ name: '改名' }).expect(404);
    await t.http.post(`/api/v1/tenders/${d.id}/publish`).set(bearer(bidder.token)).expect(403);
    const drafts = await t.http.get('/api/v1/tenders?status=draft').set(bearer(otherAgency.token)).expect(200);
    assert.ok(!drafts.body.items.some((x: { id: string }) => x.id === d.id));
  });

  it('when a draft is edited or a tender terminated, then the changes show and are audited', async () => {
    const d = await draft();
    const edited = await t.http.patch(`/api/v1/tenders/${d.id}`).set(bearer(agency.token)).send({ name: '某市第一中学教学楼新建工程施工（重新编制）' }).expect(200);
    assert.equal(edited.body.name, '某市第一中学教学楼新建工程施工（重新编制）');
    const terminated = await t.http.post(`/api/v1/tenders/${d.id}/terminate`).set(bearer(agency.token)).send({ reason: '项目资金未落实' }).expect(200);
    assert.equal(terminated.body.status, 'terminated');
    const actions = (await t.ctx.db('audit_events').where({ tender_id: d.id }).orderBy('seq')).map((e) => e.action);
    assert.deepEqual(actions, ['tender.create', 'tender.update', 'tender.terminate']);
    await t.http.post(`/api/v1/tenders/${d.id}/publish`).set(bearer(agency.token)).expect(409);
  });

  it('when searching, then name and code match and pages are bounded', async () => {
    const p = await published({ name: '渭河堤防加固工程' });
    const byName = await t.http.get(`/api/v1/tenders?q=${encodeURIComponent('渭河')}`).set(bearer(bidder.token)).expect(200);
    assert.deepEqual(byName.body.items.map((x: { id: string }) => x.id), [p.id]);
    const byCode = await t.http.get(`/api/v1/tenders?q=${p.code}`).set(bearer(bidder.token)).expect(200);
    assert.equal(byCode.body.total, 1);
    const page = await t.http.get('/api/v1/tenders?pageSize=2&page=1').set(bearer(agency.token)).expect(200);
    assert.equal(page.body.items.length, 2);
    assert.ok(page.body.total > 2);
    await t.http.get('/api/v1/tenders?pageSize=1000').set(bearer(agency.token)).expect(400);
    const wild = await t.http.get(`/api/v1/tenders?q=${encodeURIComponent('%')}`).set(bearer(bidder.token)).expect(200);
    assert.equal(wild.body.total, 0, 'LIKE wildcards are matched literally');
  });

  it('when an agency asks for its own tenders (mine=true), then another agency\'s published tender is left out', async () => {
    const theirs = await published({ name: '秦岭隧道照明改造工程' });
    const all = await t.http.get('/api/v1/tenders?pageSize=100').set(bearer(otherAgency.token)).expect(200);
    assert.ok(all.body.items.some((x: { id: string }) => x.id === theirs.id), 'published tenders are public');
    const mine = await t.http.get('/api/v1/tenders?mine=true&pageSize=100').set(bearer(otherAgency.token)).expect(200);
    assert.equal(mine.body.total, 0);
    const own = await t.http.get('/api/v1/tenders?mine=true&pageSize=100').set(bearer(agency.token)).expect(200);
    assert.ok(own.body.items.some((x: { id: string }) => x.id === theirs.id));
    assert.ok(own.body.items.every((x: { agencyOrgId: string }) => x.agencyOrgId === agency.orgId));
    await t.http.get('/api/v1/tenders?mine=yes').set(bearer(agency.token)).expect(400);
  });
});
