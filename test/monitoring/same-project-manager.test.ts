/**
 * Rule same-project-manager: the same person (by resident ID number) named as project manager in the bids of
 * different bidders (TLR 40(3)), or the same contact (by phone number, GP87 37); namesakes are not.
 */
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app';
import { createCustodianMembers, idNumber } from '../support/factories';
import { maskIdNumber } from '../../crypto/package';
import { maskPhone } from '../../src/monitoring/rules/same-project-manager';
import { alertsOf, openedTender } from './opened-tender';

describe('monitoring rule same-project-manager', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp('rule-project-manager');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('alerts on one ID number in two bidders\' bids, masked; the same name with different ID numbers is a near miss', async () => {
    const person = idNumber(77);
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, projectManager: '李明', projectManagerId: person },
      { priceFen: 1_143_500_000, projectManager: '王强', projectManagerId: idNumber(201) },
      { priceFen: 1_087_250_000, projectManager: '李  明', projectManagerId: person },
      { priceFen: 1_162_000_000, projectManager: '王强', projectManagerId: idNumber(202) },
    ]);
    const [a, , c] = w.orgIds;
    const alerts = await alertsOf(t, w.tenderId, 'same-project-manager');
    assert.equal(alerts.length, 1, 'the two 王强 are namesakes: no alert for them');
    const [alert] = alerts;
    assert.equal(alert.severity, 'high');
    assert.match(alert.basis, /第四十条第（三）项/);
    assert.equal(alert.subject_org_id, [a, c].sort()[0]);
    assert.deepEqual(alert.evidence.fields.orgIds, [a, c].sort());
    assert.deepEqual(alert.evidence.fields.projectManager, { names: ['李  明', '李明'].sort(), idNumberMasked: maskIdNumber(person) });
    assert.equal(maskIdNumber(person), `${person.slice(0, 6)}********${person.slice(-4)}`);
    // the ID number itself is in neither the alert nor its audit event
    assert.ok(!JSON.stringify(alert).includes(person));
    const raised = await t.ctx.db('audit_events').where({ action: 'monitoring.alert', object_id: alert.id });
    assert.ok(!JSON.stringify(raised).includes(person));
    assert.equal(alert.evidence.auditSeqs.length, 2);
  });

  it('alerts on one contact phone in two bidders\' bids however it is written; the same contact name with another number is a near miss', async () => {
    const w = await openedTender(t, [
      { priceFen: 1_101_000_000, contact: { name: '赵敏', phone: '029-8888 1234' } },
      { priceFen: 1_143_500_000, contact: { name: '赵敏', phone: '029-8888 5678' } },
      { priceFen: 1_087_250_000, contact: { name: '赵  敏', phone: '02988881234' } },
      { priceFen: 1_162_000_000 },
    ]);
    const [a, , c] = w.orgIds;
    const alerts = (await alertsOf(t, w.tenderId, 'same-project-manager')).filter((x) => x.evidence.fields.contact);
    assert.equal(alerts.length, 1, 'one number in two bids; the other 赵敏 has a number of her own');
    const [alert] = alerts;
    assert.equal(alert.severity, 'high');
    assert.match(alert.basis, /GP87 37/);
    assert.deepEqual(alert.evidence.fields.orgIds, [a, c].sort());
    assert.deepEqual(alert.evidence.fields.contact, { names: ['赵  敏', '赵敏'].sort(), phoneMasked: maskPhone('02988881234') });
    assert.equal(maskPhone('02988881234'), '029****1234');
    assert.ok(!JSON.stringify(alert).includes('88881234'), 'the number itself is not in the alert');
    // and no project-manager finding: every bid named its own
    assert.equal((await alertsOf(t, w.tenderId, 'same-project-manager')).length, 1);
  });
});
