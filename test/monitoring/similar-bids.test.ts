/**
 * Rule similar-bids: the same file, near-duplicate documents (TLR 40(4)) and one bidder's material inside another's
 * bid (TLR 40(5)), read from the decrypted packages after 唱标; material most bidders carry (the tender's forms) is
 * boilerplate.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createTestApp, type TestApp } from '../support/app';
import { createCustodianMembers } from '../support/factories';
import { normalise } from '../../src/monitoring/similarity/shingles';
import { alertsOf, openedTender } from './opened-tender';
import { bidText, lightlyEdited } from './bid-texts';

const sha = (x: string | Buffer) => crypto.createHash('sha256').update(x).digest('hex');
const flat = (s: string) => String.fromCharCode(...normalise(s).chars);

describe('monitoring rule similar-bids', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp('rule-similar');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  // the tender's own forms, which every bidder fills in: in every bid, so boilerplate
  const form = `投标函格式\n${bidText(1, 1500)}`;
  const plan = bidText(2, 4000);
  const copied = lightlyEdited(plan, 3, 0.02);
  const own = bidText(4, 5000);
  const lifted = bidText(5, 1500) + own.slice(1000, 4000) + bidText(6, 1500);
  const certificate = crypto.createHash('sha512').update('资质证书').digest().toString('hex').repeat(40);

  it('alerts on a near-duplicate document, material lifted from another bid and an identical file, naming documents and figures', async () => {
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, files: [{ path: '投标函格式.txt', content: form }, { path: '技术标/施工组织设计.txt', content: form + plan }] },
      { priceFen: 1_143_500_000, files: [{ path: '投标函格式.txt', content: form }, { path: '施工方案.md', content: form + copied }, { path: '资质证书.pdf', content: certificate }] },
      { priceFen: 1_087_250_000, files: [{ path: '投标函格式.txt', content: form }, { path: '技术标.txt', content: lifted }, { path: '承诺书.txt', content: '本单位承诺所提交材料真实有效。' }] },
      { priceFen: 1_162_000_000, files: [{ path: '投标函格式.txt', content: form }, { path: '技术标.txt', content: own }, { path: '资质证书.pdf', content: certificate }, { path: '承诺书.txt', content: '本单位承诺所提交材料真实有效。' }] },
    ]);
    const [a, b, c, d] = w.orgIds;
    const alerts = await alertsOf(t, w.tenderId, 'similar-bids');
    const kinds = Object.fromEntries(alerts.map((x) => [x.evidence.fields.kind, x]));
    assert.deepEqual(Object.keys(kinds).sort(), ['containment', 'identical-files', 'near-duplicate'], JSON.stringify(alerts.map((x) => x.evidence.fields)));
    for (const alert of alerts) {
      assert.equal(alert.severity, 'high');
      assert.match(alert.basis, /第四十条第（四）（五）项/);
    }

    const near = kinds['near-duplicate']!;
    assert.deepEqual(near.evidence.fields.orgIds, [a, b].sort());
    const [pair] = near.evidence.fields.documents;
    assert.equal(near.evidence.fields.documents.length, 1);
    // a is the bidder whose id sorts first
    const [first, second] = a < b ? [pair.a, pair.b] : [pair.b, pair.a];
    assert.deepEqual([first.orgId, first.path, first.sha256], [a, '技术标/施工组织设计.txt', sha(form + plan)]);
    assert.deepEqual([second.orgId, second.path, second.sha256], [b, '施工方案.md', sha(form + copied)]);
    assert.equal(pair.a.orgId, [a, b].sort()[0]);
    assert.ok(pair.similarity >= 0.8 && pair.estimated.similarity >= 0.8, JSON.stringify(pair));
    assert.ok([...near.evidence.fields.excerpt].length <= 80 && near.evidence.fields.excerpt.length >= 20, near.evidence.fields.excerpt);
    // an excerpt both documents hold (it may begin in the tender form both carry)
    assert.ok(flat(form + plan).includes(flat(near.evidence.fields.excerpt)) && flat(form + copied).includes(flat(near.evidence.fields.excerpt)), JSON.stringify([near.evidence.fields.excerpt]));
    assert.equal(near.evidence.auditSeqs.length, 2);

    const lift = kinds['containment']!;
    assert.deepEqual(lift.evidence.fields.orgIds, [c, d].sort());
    const [doc] = lift.evidence.fields.documents;
    // a is the document whose material is inside b: 3 000 of the 5 000 characters of d's text are in c's
    assert.deepEqual([doc.a.orgId, doc.a.path, doc.b.orgId, doc.b.path], [d, '技术标.txt', c, '技术标.txt']);
    assert.ok(doc.containmentAinB > 0.5 && doc.containmentAinB < 0.7 && doc.similarity < 0.8, JSON.stringify(doc));
    assert.ok(flat(own).includes(flat(lift.evidence.fields.excerpt)) && flat(lifted).includes(flat(lift.evidence.fields.excerpt)));

    const same = kinds['identical-files']!;
    assert.deepEqual(same.evidence.fields.orgIds, [b, d].sort());
    assert.deepEqual(same.evidence.fields.files.map((f: { sha256: string; in: Array<{ path: string }> }) => [f.sha256, f.in.map((x) => x.path)]), [[sha(certificate), ['资质证书.pdf', '资质证书.pdf']]]);

    // no document text beyond the short excerpts, in the alerts or their audit events
    const raised = await t.ctx.db('audit_events').where({ action: 'monitoring.alert', tender_id: w.tenderId });
    for (const text of [plan, own, form]) {
      for (let i = 0; i + 100 <= text.length; i += 500) {
        assert.ok(!JSON.stringify(alerts).includes(text.slice(i, i + 100)) && !JSON.stringify(raised).includes(text.slice(i, i + 100)));
      }
    }
    assert.equal(await t.ctx.services.monitoring.analyseOpened(w.tenderId), 0, 'found again, not alerted again');
  });

  it('near misses: unrelated documents around the same tender forms, a short promise everyone writes, the same file in every bid', async () => {
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, files: [{ path: '投标函格式.txt', content: form }, { path: '技术标.txt', content: form + bidText(10, 4000) }, { path: '资质证书.pdf', content: certificate }] },
      { priceFen: 1_143_500_000, files: [{ path: '投标函格式.txt', content: form }, { path: '技术标.txt', content: form + bidText(11, 4000) }, { path: '资质证书.pdf', content: certificate }] },
      { priceFen: 1_087_250_000, files: [{ path: '投标函格式.txt', content: form }, { path: '技术标.txt', content: form + bidText(12, 4000) }, { path: '资质证书.pdf', content: certificate }] },
    ]);
    assert.deepEqual(await alertsOf(t, w.tenderId, 'similar-bids'), []);
  });
});
