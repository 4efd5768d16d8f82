/**
 * Rule same-bid-tool: the same tool serial, author or machine code in the bids of different bidders of one tender
 * (TLR 40(1)), read from the decrypted packages' manifests after 唱标.
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { createCustodianMembers } from '../support/factories';
import { alertsOf, machineCode, openedTender } from './opened-tender';

describe('monitoring rule same-bid-tool', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp('rule-bid-tool');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('alerts once per shared serial, author and machine code, naming the bidders, the value and the decryptions', async () => {
    const shared = machineCode('one-laptop');
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, toolSerial: 'BT-0A1B2C3D-00000001' },
      { priceFen: 1_143_500_000, toolSerial: 'BT-0A1B2C3D-00000001', author: 'Zhang Wei' },
      { priceFen: 1_087_250_000, author: 'zhang  wei', machineFingerprint: shared },
      { priceFen: 1_162_000_000, machineFingerprint: shared },
    ]);
    const [a, b, c, d] = w.orgIds;
    const alerts = await alertsOf(t, w.tenderId, 'same-bid-tool');
    assert.equal(alerts.length, 3);
    const by = (field: string) => alerts.find((x) => field in x.evidence.fields)!;
    assert.deepEqual(by('toolSerial').evidence.fields.orgIds, [a, b].sort());
    assert.equal(by('toolSerial').evidence.fields.toolSerial, 'BT-0A1B2C3D-00000001');
    assert.deepEqual(by('author').evidence.fields.orgIds, [b, c].sort());
    assert.equal(by('author').evidence.fields.author, 'zhang wei');
    assert.deepEqual(by('author').evidence.fields.authorsAsWritten, ['Zhang Wei', 'zhang  wei']);
    assert.match(by('machineFingerprint').title, /机器码相同/);
    assert.deepEqual(by('machineFingerprint').evidence.fields.orgIds, [c, d].sort());
    assert.equal(by('machineFingerprint').evidence.fields.machineFingerprint, shared);
    for (const alert of alerts) {
      assert.equal(alert.severity, 'high');
      assert.match(alert.basis, /第四十条第（一）项/);
      assert.match(alert.title, /2家投标人/);
      assert.equal(alert.evidence.auditSeqs.length, 2);
      const events = await t.ctx.db('audit_events').whereIn('seq', alert.evidence.auditSeqs);
      assert.deepEqual(events.map((e) => e.action), ['opening.decrypted', 'opening.decrypted']);
      assert.equal((await t.ctx.db('audit_events').where({ action: 'monitoring.alert', object_id: alert.id })).length, 1);
    }
    // analysed again (a retried job, a second scan): nothing new
    assert.equal(await t.ctx.services.monitoring.analyseOpened(w.tenderId), 0);
    assert.equal((await alertsOf(t, w.tenderId, 'same-bid-tool')).length, 3);
  });

  it('near misses: serials and machine codes that differ by one character, one author name per bidder', async () => {
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, toolSerial: 'BT-0A1B2C3D-00000001', author: '王工', machineFingerprint: machineCode('m1') },
      { priceFen: 1_143_500_000, toolSerial: 'BT-0A1B2C3D-00000002', author: '王工程师', machineFingerprint: machineCode('m2') },
      { priceFen: 1_087_250_000 },
    ]);
    assert.deepEqual(await alertsOf(t, w.tenderId, 'same-bid-tool'), []);
  });

  it('analyses a failed opening too: two bids from one machine, too few to go on (流标), still alert', async () => {
    const shared = machineCode('failed-opening-laptop');
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, machineFingerprint: shared },
      { priceFen: 1_143_500_000, machineFingerprint: shared },
    ], { state: 'failed' });
    const alerts = await alertsOf(t, w.tenderId, 'same-bid-tool');
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0].evidence.fields.orgIds, [...w.orgIds].sort());
  });
});
