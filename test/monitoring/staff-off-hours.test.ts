/**
 * Rule staff-off-hours: the trading centre's staff acting on a tender while its bids are sealed, outside working
 * hours (08:30–18:00 Asia/Shanghai on working days by the published calendar). The clock starts on Monday
 * 2026-11-23 09:00 Shanghai and is moved, never slept.
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, createMember, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';

describe('monitoring rule staff-off-hours', () => {
  let t: TestApp;
  let staff: Member;
  let agency: Member;
  let tenderer: Member;

  before(async () => {
    t = await createTestApp('rule-off-hours');
    ({ operator: staff } = await createCustodianMembers(t));
    agency = await createMember(t, 'agency');
    tenderer = await createMember(t, 'tenderer');
  });
  after(() => t.close());

  /** Moves the clock to a Shanghai time (`2026-11-23 23:00`) and signs everyone in again. */
  async function at(shanghai: string): Promise<void> {
    t.clock.freeze(new Date(`${shanghai.replace(' ', 'T')}:00+08:00`));
    await refresh(t, staff, agency, tenderer);
  }

  async function tender(publish = true): Promise<{ id: string; documentId: string }> {
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    const documentId = await uploadDocument(t, agency.token, d.body.id);
    if (publish) await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200);
    return { id: d.body.id, documentId };
  }

  const download = (x: { id: string; documentId: string }, m: Member) =>
    t.http.get(`/api/v1/tenders/${x.id}/documents/${x.documentId}`).set(bearer(m.token)).expect(200);
  const alertsOf = (tenderId: string) => t.ctx.db('alerts').where({ tender_id: tenderId, rule: 'staff-off-hours' }).orderBy('raised_at');
  const lastEvent = async (tenderId: string, action: string) =>
    Number((await t.ctx.db('audit_events').where({ tender_id: tenderId, action }).orderBy('seq', 'desc').first()).seq);

  it('when staff download a sealed tender\'s documents at 23:00 and read its payer list, then a warning and a high alert name them', async () => {
    await at('2026-11-23 10:00');
    const x = await tender();
    await at('2026-11-23 23:00');
    await download(x, staff);
    const downloadSeq = await lastEvent(x.id, 'tender.document.download');
    await t.http.get(`/api/v1/tenders/${x.id}/deposits`).set(bearer(staff.token)).expect(200);
    const viewSeq = await lastEvent(x.id, 'deposit.payers.view');
    await t.ctx.services.monitoring.scan();

    const alerts = await alertsOf(x.id);
    assert.deepEqual(alerts.map((a) => a.severity).sort(), ['high', 'warning']);
    const warning = alerts.find((a) => a.severity === 'warning');
    assert.match(warning.title, /非工作时间（2026-11-23 23:00）/);
    assert.match(warning.basis, /第四十九条/);
    assert.equal(warning.subject_org_id, staff.orgId);
    assert.deepEqual(warning.evidence.auditSeqs, [downloadSeq]);
    assert.deepEqual([warning.evidence.fields.workingHours, warning.evidence.fields.workingDay], ['08:30–18:00', true]);
    const high = alerts.find((a) => a.severity === 'high');
    assert.deepEqual(high.evidence.auditSeqs, [viewSeq]);
    assert.match(high.title, /deposit\.payers\.view/);

    // more of the same that night: the same alerts
    await download(x, staff);
    await t.ctx.services.monitoring.scan();
    assert.equal((await alertsOf(x.id)).length, 2);
  });

  it('when staff download at 10:00 on a Saturday, then the day is not a working day and it alerts', async () => {
    await at('2026-11-24 10:00');
    const x = await tender();
    await at('2026-11-28 10:00');
    await download(x, staff);
    await t.ctx.services.monitoring.scan();
    const [alert, ...more] = await alertsOf(x.id);
    assert.equal(more.length, 0);
    assert.equal(alert.severity, 'warning');
    assert.match(alert.title, /2026-11-28 10:00，非工作日/);
    assert.equal(alert.evidence.fields.workingDay, false);
  });

  it('near misses: staff in working hours (08:30 sharp, 17:59), the agency at night, staff on a draft or terminated tender at night', async () => {
    await at('2026-11-30 08:30');
    const sealed = await tender();
    await download(sealed, staff);
    await at('2026-11-30 17:59');
    await download(sealed, staff);
    const draft = await tender(false);
    const terminated = await tender();
    await t.http.post(`/api/v1/tenders/${terminated.id}/terminate`).set(bearer(agency.token)).send({ reason: '项目取消' }).expect(200);

    await at('2026-11-30 23:30');
    // the agency works late before its deadlines: only staff are watched
    await download(sealed, agency);
    await download(draft, staff);
    await download(terminated, staff);
    const scanned = await t.ctx.services.monitoring.scan();
    assert.ok(scanned.events > 0);
    for (const x of [sealed, draft, terminated]) assert.deepEqual(await alertsOf(x.id), []);
  });
});
