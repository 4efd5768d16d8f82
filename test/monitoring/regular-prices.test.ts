/**
 * Rule regular-prices: a section's valid bid prices in a regular pattern (TLR 40(4)) — equal steps, equal ratios, a
 * tiny spread, all just under the ceiling (the section's estimated price).
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { createCustodianMembers } from '../support/factories';
import regularPrices, { pricePatterns } from '../../src/monitoring/rules/regular-prices';
import { alertsOf, openedTender } from './opened-tender';

const th = regularPrices.defaults;
const patterns = (prices: number[], ceiling: number | null = 12_000_000_00) => pricePatterns(prices, ceiling, th).map((p) => p.pattern);

describe('monitoring rule regular-prices: the patterns', () => {
  it('finds equal steps, equal ratios, a tiny spread and prices packed under the ceiling', () => {
    assert.deepEqual(patterns([1_120_000_000, 1_100_000_000, 1_110_000_000]), ['arithmetic']);
    assert.deepEqual(patterns([1_000_000_000, 1_020_000_000, 1_040_400_000, 1_061_208_000]), ['geometric']);
    assert.deepEqual(patterns([1_000_000_000, 1_001_000_000, 1_002_700_000]), ['narrow-spread']);
    assert.deepEqual(patterns([1_195_000_000, 1_192_345_600, 1_198_765_400]), ['near-ceiling']);
    const [near] = pricePatterns([1_195_000_000, 1_192_345_600, 1_198_765_400], 12_000_000_00, th);
    assert.ok(Math.abs(near!.figures.lowestBelowCeiling! - 0.006379) < 1e-6);
  });

  it('near misses: two bids only, irregular prices, clustered but far below the ceiling, above the ceiling, equal prices', () => {
    assert.deepEqual(patterns([1_100_000_000, 1_110_000_000]), []);
    assert.deepEqual(patterns([1_101_000_000, 1_143_500_000, 1_087_250_000, 1_162_000_000]), []);
    assert.deepEqual(patterns([1_050_000_000, 1_052_100_000, 1_056_900_000]), []);
    assert.deepEqual(patterns([1_195_000_000, 1_201_000_000, 1_198_765_400]), []);
    assert.deepEqual(patterns([1_195_000_000, 1_192_345_600, 1_198_765_400], null), []);
    // equal prices are not a step pattern, but they are the tiniest spread
    assert.deepEqual(patterns([1_000_000_000, 1_000_000_000, 1_000_000_000]), ['narrow-spread']);
    // steps 1 % apart from each other are within tolerance; 5 % apart are not
    assert.deepEqual(patterns([1_000_000_000, 1_010_000_000, 1_020_050_000]), ['arithmetic']);
    assert.deepEqual(patterns([1_000_000_000, 1_010_000_000, 1_020_500_000]), []);
  });
});

describe('monitoring rule regular-prices', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp('rule-prices');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('alerts on equal steps between the prices read out, with the prices and the step', async () => {
    const w = await openedTender(t, [{ priceFen: 1_100_000_000 }, { priceFen: 1_120_000_000 }, { priceFen: 1_110_000_000 }]);
    const alerts = await alertsOf(t, w.tenderId, 'regular-prices');
    assert.equal(alerts.length, 1);
    const [alert] = alerts;
    assert.equal(alert.severity, 'warning');
    assert.match(alert.basis, /第四十条第（四）项/);
    assert.match(alert.title, /第一标段.*3家投标人报价呈等差规律/);
    assert.equal(alert.evidence.fields.pattern, 'arithmetic');
    assert.equal(alert.evidence.fields.stepFen, 10_000_000);
    assert.equal(alert.evidence.fields.sectionId, w.sectionId);
    assert.deepEqual(alert.evidence.fields.prices.map((p: { totalPriceFen: number }) => p.totalPriceFen), [1_100_000_000, 1_110_000_000, 1_120_000_000]);
    assert.deepEqual(alert.evidence.fields.orgIds, [...w.orgIds].sort());
    assert.equal(alert.evidence.auditSeqs.length, 3);
  });

  it('alerts on every price just under the ceiling; irregular prices far below it are a near miss', async () => {
    const packed = await openedTender(t, [{ priceFen: 1_195_000_000 }, { priceFen: 1_192_345_600 }, { priceFen: 1_198_765_400 }]);
    const alerts = await alertsOf(t, packed.tenderId, 'regular-prices');
    assert.deepEqual(alerts.map((a) => a.evidence.fields.pattern), ['near-ceiling']);
    assert.equal(alerts[0].evidence.fields.ceilingFen, 12_000_000_00);

    const honest = await openedTender(t, [{ priceFen: 1_050_000_000 }, { priceFen: 1_052_100_000 }, { priceFen: 1_056_900_000 }]);
    assert.deepEqual(await alertsOf(t, honest.tenderId, 'regular-prices'), []);
  });
});
