/**
 * Rule shared-address: different bidders of one tender working from one network address or one device (TLR 40(1)(2)).
 * Addresses come from X-Forwarded-For, as behind the platform's reverse proxy (TRUST_PROXY).
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { thresholdsFor } from '../../src/monitoring/rules/engine';
import { RULES } from '../../src/monitoring/rules';
import { bearer, createCustodianMembers, createMember, tenderBody, uploadDocument, type Member } from '../support/factories';

describe('monitoring rule shared-address', () => {
  let t: TestApp;
  let agency: Member;
  let tenderer: Member;

  before(async () => {
    t = await createTestApp('rule-address', { config: { trustProxy: true } });
    await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    tenderer = await createMember(t, 'tenderer');
  });
  after(() => t.close());

  async function publishedTender(): Promise<{ id: string; documentId: string }> {
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    const documentId = await uploadDocument(t, agency.token, d.body.id);
    await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200);
    return { id: d.body.id, documentId };
  }

  const download = (tender: { id: string; documentId: string }, m: Member, headers: Record<string, string>) =>
    t.http.get(`/api/v1/tenders/${tender.id}/documents/${tender.documentId}`).set(bearer(m.token)).set(headers).expect(200);

  const alertsOf = async (tenderId: string) =>
    (await t.ctx.db('alerts').where({ tender_id: tenderId, rule: 'shared-address' })).map((r) => ({ ...r, evidence: typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence }));

  it('alerts once when two bidders download from one address, naming both, the address and the events', async () => {
    const tender = await publishedTender();
    const [a, b, c] = [await createMember(t, 'bidder'), await createMember(t, 'bidder'), await createMember(t, 'bidder')];
    await download(tender, a, { 'X-Forwarded-For': '203.0.113.7' });
    await download(tender, b, { 'X-Forwarded-For': '203.0.113.7' });
    await download(tender, c, { 'X-Forwarded-For': '198.51.100.9' });
    const scanned = await t.ctx.services.monitoring.scan();
    assert.ok(scanned.events > 0);

    const alerts = await alertsOf(tender.id);
    assert.equal(alerts.length, 1);
    const [alert] = alerts;
    assert.equal(alert.severity, 'high');
    assert.match(alert.basis, /第四十条/);
    assert.deepEqual(alert.evidence.fields.orgIds, [a.orgId, b.orgId].sort());
    assert.equal(alert.evidence.fields.clientIp, '203.0.113.7');
    assert.equal(alert.evidence.auditSeqs.length, 2);
    const events = await t.ctx.db('audit_events').whereIn('seq', alert.evidence.auditSeqs);
    assert.deepEqual(events.map((e) => e.action), ['tender.document.download', 'tender.document.download']);
    // the raising is itself on the chain
    const raised = await t.ctx.db('audit_events').where({ action: 'monitoring.alert', object_id: alert.id });
    assert.equal(raised.length, 1);

    // found again by a later scan (a new event of the tender wakes the rule): not alerted twice
    await download(tender, a, { 'X-Forwarded-For': '203.0.113.7' });
    await t.ctx.services.monitoring.scan();
    assert.equal((await alertsOf(tender.id)).length, 1);
  });

  it('alerts on one device fingerprint used by two bidders, whatever their addresses', async () => {
    const tender = await publishedTender();
    const [a, b] = [await createMember(t, 'bidder'), await createMember(t, 'bidder')];
    await download(tender, a, { 'X-Forwarded-For': '203.0.113.20', 'X-Device-Fingerprint': 'fp-5e1c' });
    await download(tender, b, { 'X-Forwarded-For': '203.0.113.21', 'X-Device-Fingerprint': 'fp-5e1c' });
    await t.ctx.services.monitoring.scan();
    const alerts = await alertsOf(tender.id);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].evidence.fields.deviceFingerprint, 'fp-5e1c');
  });

  it('near misses: one bidder from one address many times, bidders of different tenders, the platform host itself', async () => {
    const first = await publishedTender();
    const second = await publishedTender();
    const [a, b, c, d] = [await createMember(t, 'bidder'), await createMember(t, 'bidder'), await createMember(t, 'bidder'), await createMember(t, 'bidder')];
    await download(first, a, { 'X-Forwarded-For': '203.0.113.50' });
    await download(first, a, { 'X-Forwarded-For': '203.0.113.50' });
    // the same address, but in another tender
    await download(second, b, { 'X-Forwarded-For': '203.0.113.50' });
    // loopback: the platform's own host names no bidder's network
    await download(second, c, {});
    await download(second, d, {});
    await t.ctx.services.monitoring.scan();
    assert.equal((await alertsOf(first.id)).length, 0);
    assert.equal((await alertsOf(second.id)).length, 0);
  });

  it('is listed for regulators with its basis and thresholds, and MONITORING_THRESHOLDS names only real thresholds', async () => {
    const regulator = await createMember(t, 'regulator');
    const rules = (await t.http.get('/api/v1/monitoring/rules').set(bearer(regulator.token)).expect(200)).body;
    const rule = rules.find((r: { id: string }) => r.id === 'shared-address');
    assert.deepEqual(rule.thresholds, { minBidders: 2 });
    assert.match(rule.basis, /TLR 40/);
    const bidder = await createMember(t, 'bidder');
    await t.http.get('/api/v1/monitoring/rules').set(bearer(bidder.token)).expect(403);
    assert.throws(() => thresholdsFor(RULES, { 'shared-address.minBiders': 3 }), /no threshold "shared-address.minBiders"/);
    assert.equal(thresholdsFor(RULES, { 'shared-address.minBidders': 3 }).get('shared-address')!.minBidders, 3);
  });
});

