/**
 * Rule same-legal-representative: bidders in one section whose legal representative is one person (TLR 34; GPR 18),
 * looked at once the opening has read the bidders out. The tender goes through the real opening; the rule runs from
 * the engine's scan, which enqueues the analysis of the opened tender.
 */
import assert from 'node:assert/strict';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { createCustodianMembers } from '../support/factories';
import { normaliseName } from '../../src/monitoring/rules/same-legal-representative';
import { tenderWithBids, throughOpening, type BidWorld } from './bidders-through-opening';

describe('monitoring rule same-legal-representative', function () {
  this.timeout(180_000);
  let t: TestApp;
  let w: BidWorld;

  before(async () => {
    t = await createTestApp('rule-legal-rep');
    await createCustodianMembers(t);
    // section 1: two bidders under one person (typed with and without a full-width space) and a third;
    // section 2: the third's legal representative again, but in another section, and one more
    w = await tenderWithBids(
      t,
      [
        { section: 0, legalRepresentative: '王建国' },
        { section: 0, legalRepresentative: '王\u3000建 国' },
        { section: 0, legalRepresentative: '李文华' },
        { section: 1, legalRepresentative: '李文华' },
        { section: 1, legalRepresentative: '张明' },
      ],
      2,
    );
  });
  after(() => t.close());

  const alertsOf = async (tenderId: string) => t.ctx.db('alerts').where({ tender_id: tenderId, rule: 'same-legal-representative' });

  it('raises nothing while the bids are sealed: the bidders are not known before the opening', async () => {
    await t.ctx.services.monitoring.scan();
    await runDueJobs(t);
    assert.equal((await t.ctx.db('outbox').where({ name: 'monitoring.analyse-opening' })).length, 0);
    assert.equal((await alertsOf(w.tender.id)).length, 0);
  });

  it('after 唱标, alerts once on the two bidders of section 1 under one person, not on the same person in two sections', async () => {
    await throughOpening(t, w);
    await t.ctx.services.monitoring.scan();
    await runDueJobs(t);
    const alerts = await alertsOf(w.tender.id);
    assert.equal(alerts.length, 1);
    const [alert] = alerts;
    assert.equal(alert.severity, 'high');
    assert.match(alert.basis, /第三十四条/);
    assert.match(alert.title, /第1标段中2家投标人的法定代表人为同一人（王建国）/);
    const [a, b] = w.entries;
    assert.deepEqual(alert.evidence.fields.orgIds, [a.member.orgId, b.member.orgId].sort());
    assert.equal(alert.evidence.fields.sectionId, w.tender.sections[0].id);
    // the evidence is the two bids' submissions on the chain
    const events = await t.ctx.db('audit_events').whereIn('seq', alert.evidence.auditSeqs).orderBy('seq');
    assert.deepEqual(events.map((e) => [e.action, e.actor_org_id]), [['bid.submit', a.member.orgId], ['bid.submit', b.member.orgId]]);

    // analysed again (a retried job): nothing new
    assert.equal(await t.ctx.services.monitoring.analyseOpened(w.tender.id), 0);
    assert.equal((await alertsOf(w.tender.id)).length, 1);
  });

  it('compares names without their spaces, half- or full-width', () => {
    assert.equal(normaliseName(' 王\u3000建 国 '), '王建国');
    assert.notEqual(normaliseName('王建国'), normaliseName('王建华'));
  });
});
