/**
 * Rule win-rate: 标王 (at least 5 bids, win rate ≥ 60%) and 陪标专业户 (at least 8 bids, never a win) over the opened
 * and awarded tenders of the last 365 days (NDRC1117 §11). The history is written with knex (see tender-history.ts);
 * the rule runs through the engine's nightly run on the real database.
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { history, type History } from './tender-history';

describe('monitoring rule win-rate', function () {
  this.timeout(120_000);
  let t: TestApp;
  let h: History;
  const org: Record<string, string> = {};

  before(async () => {
    t = await createTestApp('rule-win-rate');
    h = await history(t);
    for (const name of ['king', 'companion', 'fair', 'fewBids', 'sevenLosses', 'other']) org[name] = await h.bidder(`${name}建设有限公司`);
    const { king, companion, fair, fewBids, sevenLosses, other } = org;
    // king: 5 bids, 3 wins (60%); fair: 5 bids, 2 wins (40%); companion and sevenLosses lose these five
    for (let i = 0; i < 5; i++) await h.tender({ bidders: [king, companion, fair, sevenLosses], winner: i < 3 ? king : fair, daysAgo: 20 + i });
    // companion: three more losses (8, never a win); sevenLosses two more (7); fewBids: 4 bids, 4 wins
    for (let i = 0; i < 3; i++) await h.tender({ bidders: [fewBids, companion, ...(i < 2 ? [sevenLosses] : [])], winner: fewBids, daysAgo: 40 + i });
    await h.tender({ bidders: [fewBids, other], winner: fewBids, daysAgo: 50 });
    // neither counts: a bid of king's in a section not yet awarded, and fewBids' win outside the period
    await h.tender({ bidders: [king, other], winner: null, daysAgo: 2, openingState: 'announcing' });
    await h.tender({ bidders: [fewBids, other], winner: fewBids, daysAgo: 500 });
    await t.ctx.services.monitoring.runScheduled();
  });
  after(() => t.close());

  const alertsOf = async (orgId: string) => (await t.ctx.db('alerts').where({ rule: 'win-rate', subject_org_id: orgId })).map((a) => ({ ...a, fields: a.evidence.fields }));

  it('alerts on the bidder that wins 3 of 5 (标王), with its figures', async () => {
    const [alert, ...more] = await alertsOf(org.king);
    assert.equal(more.length, 0);
    assert.equal(alert.severity, 'warning');
    assert.match(alert.basis, /1117号/);
    assert.match(alert.title, /king建设有限公司在365天内投标5次中标3次，中标率60%，异常偏高（标王）/);
    assert.deepEqual([alert.fields.kind, alert.fields.bids, alert.fields.wins, alert.fields.winRate], ['high', 5, 3, 0.6]);
    assert.equal(alert.evidence.auditSeqs.length, 5);
  });

  it('alerts on the bidder that lost all of its 8 bids (陪标专业户)', async () => {
    const [alert, ...more] = await alertsOf(org.companion);
    assert.equal(more.length, 0);
    assert.deepEqual([alert.fields.kind, alert.fields.bids, alert.fields.wins], ['never', 8, 0]);
    assert.match(alert.title, /从未中标（陪标专业户）/);
  });

  it('near misses: 2 wins of 5, 4 wins of only 4 bids, 7 losses; the next night adds nothing', async () => {
    for (const name of ['fair', 'fewBids', 'sevenLosses', 'other']) assert.deepEqual(await alertsOf(org[name]), [], name);
    assert.equal(await t.ctx.services.monitoring.runScheduled(), 0);
  });
});
