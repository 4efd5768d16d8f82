/**
 * Rule habitual-co-bidders (陪标): pairs that bid together in at least four opened and awarded tenders of the last
 * 365 days while one of them never wins (NDRC1117 §11). The history is written with knex (see tender-history.ts);
 * the rule runs through the engine's nightly run on the real database.
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { history, type History } from './tender-history';

describe('monitoring rule habitual-co-bidders', function () {
  this.timeout(120_000);
  let t: TestApp;
  let h: History;

  before(async () => {
    t = await createTestApp('rule-co-bidders');
    h = await history(t);
  });
  after(() => t.close());

  const alerts = async () => (await t.ctx.db('alerts').where({ rule: 'habitual-co-bidders' })).map((a) => ({ ...a, fields: a.evidence.fields }));
  const pairOf = (a: { fields: { orgIds: string[] } }) => [...a.fields.orgIds].sort().join();
  const pair = (x: string, y: string) => [x, y].sort().join();

  it('alerts on a pair that met in four tenders, always won by the same one; the companion is the subject; once', async () => {
    const winner = await h.bidder('西安某建工集团有限公司');
    const companion = await h.bidder('陕西某路桥工程有限公司');
    for (let i = 0; i < 4; i++) {
      // a different third bidder each time: it meets each of the pair once
      await h.tender({ bidders: [winner, companion, await h.bidder(`第三方建设有限公司${i}`)], winner, daysAgo: 30 + i * 60 });
    }
    const raised = await t.ctx.services.monitoring.runScheduled();
    assert.ok(raised >= 1);
    const found = (await alerts()).filter((a) => pairOf(a) === pair(winner, companion));
    assert.equal(found.length, 1);
    const [alert] = found;
    assert.equal(alert.severity, 'warning');
    assert.equal(alert.tender_id, null);
    assert.equal(alert.subject_org_id, companion, 'the one that never wins comes first');
    assert.match(alert.basis, /1117号/);
    assert.match(alert.title, /陕西某路桥工程有限公司与西安某建工集团有限公司在365天内共同投标4个项目，均由西安某建工集团有限公司中标/);
    assert.deepEqual([alert.fields.tenders, alert.fields.alwaysWins, alert.fields.wins[companion], alert.fields.wins[winner]], [4, winner, 0, 4]);
    // the evidence: both bids' submissions in each of the four tenders
    assert.equal(alert.evidence.auditSeqs.length, 8);
    // no third bidder met either of them more than once
    assert.equal((await alerts()).length, 1);

    // the next night: the same pairing, not alerted again
    await t.ctx.services.monitoring.runScheduled();
    assert.equal((await alerts()).length, 1);
  });

  it('near misses: a pair that each won sometimes, a pair that met three times, a fourth meeting too long ago, unopened or unawarded', async () => {
    const before = (await alerts()).length;
    const [a, b] = [await h.bidder('竞争甲有限公司'), await h.bidder('竞争乙有限公司')];
    for (const [i, w] of [a, b, a, a].entries()) await h.tender({ bidders: [a, b], winner: w, daysAgo: 10 + i });

    const [c, d] = [await h.bidder('三次丙有限公司'), await h.bidder('三次丁有限公司')];
    for (let i = 0; i < 3; i++) await h.tender({ bidders: [c, d], winner: c, daysAgo: 10 + i });

    const [e, f] = [await h.bidder('旧戊有限公司'), await h.bidder('旧己有限公司')];
    for (let i = 0; i < 3; i++) await h.tender({ bidders: [e, f], winner: e, daysAgo: 10 + i });
    await h.tender({ bidders: [e, f], winner: e, daysAgo: 400 });

    const [g, k] = [await h.bidder('未开庚有限公司'), await h.bidder('未开辛有限公司')];
    for (let i = 0; i < 3; i++) await h.tender({ bidders: [g, k], winner: g, daysAgo: 10 + i });
    // a fourth and fifth meeting: one still sealed (its bidders are secret), one opened but not yet awarded
    await h.tender({ bidders: [g, k], winner: null, daysAgo: 0, openingState: null });
    await h.tender({ bidders: [g, k], winner: null, daysAgo: 1, openingState: 'announcing' });

    await t.ctx.services.monitoring.runScheduled();
    const found = await alerts();
    assert.equal(found.length, before);
    for (const [x, y] of [[a, b], [c, d], [e, f], [g, k]]) assert.ok(!found.some((al) => pairOf(al) === pair(x, y)));
  });
});
