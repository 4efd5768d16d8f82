/**
 * Rule payer-list-early: the trading centre's staff reading a tender's deposit payer list while the bids are sealed
 * (TL 22). The deposits service records such a read; the engine's scan raises it.
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, createMember, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';
import { tenderWithBids, throughOpening } from './bidders-through-opening';

describe('monitoring rule payer-list-early', function () {
  this.timeout(180_000);
  let t: TestApp;
  let agency: Member;
  let tenderer: Member;
  let staff: Member;
  let regulator: Member;

  before(async () => {
    t = await createTestApp('rule-payer-list');
    ({ operator: staff, regulator } = await createCustodianMembers(t));
    agency = await createMember(t, 'agency');
    tenderer = await createMember(t, 'tenderer');
  });
  after(() => t.close());

  async function publishedTender(): Promise<string> {
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200);
    return d.body.id;
  }

  const viewPayers = (tenderId: string, m: Member) => t.http.get(`/api/v1/tenders/${tenderId}/deposits`).set(bearer(m.token)).expect(200);
  const alertsOf = (tenderId: string) => t.ctx.db('alerts').where({ tender_id: tenderId, rule: 'payer-list-early' });
  const viewsOf = (tenderId: string) => t.ctx.db('audit_events').where({ tender_id: tenderId, action: 'deposit.payers.view' }).orderBy('seq');

  it('when platform staff read the payer list of a sealed tender, then the read is recorded and a high alert names them, once a day', async () => {
    const tenderId = await publishedTender();
    const view = await viewPayers(tenderId, staff);
    assert.equal(view.body.sealed, true);
    const [event] = await viewsOf(tenderId);
    assert.equal(event.actor_org_type, 'operator');
    assert.equal(event.request_id, view.headers['x-request-id']);
    assert.deepEqual(event.payload, { sealed: true, openingState: null });

    const scanned = await t.ctx.services.monitoring.scan();
    assert.ok(scanned.raised >= 1);
    const alerts = await alertsOf(tenderId);
    assert.equal(alerts.length, 1);
    const [alert] = alerts;
    assert.equal(alert.severity, 'high');
    assert.match(alert.basis, /第二十二条/);
    assert.match(alert.title, /开标前平台工作人员查看投标保证金缴纳名单/);
    assert.equal(alert.subject_org_id, staff.orgId);
    assert.deepEqual(alert.evidence.auditSeqs, [Number(event.seq)]);
    assert.equal(alert.evidence.fields.userId, staff.userId);

    // again the same day: recorded, but the supervisors already have it
    await viewPayers(tenderId, staff);
    await t.ctx.services.monitoring.scan();
    assert.equal((await viewsOf(tenderId)).length, 2);
    assert.equal((await alertsOf(tenderId)).length, 1);
  });

  it('near misses: the agency, the tenderer and the supervisors reading the counts; staff reading the list after the opening', async () => {
    const tenderId = await publishedTender();
    for (const m of [agency, tenderer, regulator]) assert.equal((await viewPayers(tenderId, m)).body.sealed, true);
    assert.equal((await viewsOf(tenderId)).length, 0);

    const w = await tenderWithBids(t, [{}, {}, {}]);
    await throughOpening(t, w);
    await refresh(t, staff);
    const after = await viewPayers(w.tender.id, staff);
    assert.equal(after.body.sealed, false);
    assert.equal((await viewsOf(w.tender.id)).length, 0);
    await t.ctx.services.monitoring.scan();
    assert.equal((await alertsOf(tenderId)).length, 0);
    assert.equal((await alertsOf(w.tender.id)).length, 0);
  });
});
