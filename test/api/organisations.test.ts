import assert from 'node:assert/strict';
import { generateRsaKeyPair, parseCertificate } from '../../crypto/pki';
import { systemContext } from '../../src/shared/access';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, countRows, createCustodianMembers, createMember, operatorToken, tenderBody, uniqueCreditCode, type Member } from '../support/factories';

describe('identity: organisations, users, the platform CA', () => {
  let t: TestApp;
  let op: string;
  let bidderAdmin: Member;

  before(async () => {
    t = await createTestApp('orgs');
    op = await operatorToken(t);
    bidderAdmin = await createMember(t, 'bidder');
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('when an operator registers an organisation with a valid credit code, then it is stored with its basic account', async () => {
    const code = uniqueCreditCode();
    const res = await t.http.post('/api/v1/organisations').set(bearer(op)).send({
      type: 'bidder', name: '陕西建工第九建设集团有限公司', creditCode: code, legalRepresentative: '刘某',
      basicAccountBank: '中国工商银行西安南大街支行', basicAccountNo: '3700012109027306666',
    }).expect(201);
    assert.equal(res.body.creditCode, code);
    assert.equal(res.body.basicAccountNo, '3700012109027306666');
    const dup = await t.http.post('/api/v1/organisations').set(bearer(op)).send({ type: 'bidder', name: '另一家公司', creditCode: code }).expect(409);
    assert.equal(dup.body.error.code, 'ORGANISATION_EXISTS');
  });

  it('when the credit code check character is wrong, then CREDIT_CODE_INVALID citing GB 32100 and nothing is written', async () => {
    const before = await countRows(t, 'organisations');
    const good = uniqueCreditCode();
    const bad = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    const res = await t.http.post('/api/v1/organisations').set(bearer(op)).send({ type: 'bidder', name: '校验位错误公司', creditCode: bad }).expect(422);
    assert.equal(res.body.error.code, 'CREDIT_CODE_INVALID');
    assert.equal(res.body.error.details.basis, 'GB 32100-2015');
    assert.equal(await countRows(t, 'organisations'), before);
  });

  it('when a non-operator registers an organisation, then 403', async () => {
    const res = await t.http.post('/api/v1/organisations').set(bearer(bidderAdmin.token)).send({ type: 'bidder', name: '自行注册公司', creditCode: uniqueCreditCode() }).expect(403);
    assert.equal(res.body.error.code, 'FORBIDDEN');
  });

  it('when an organisation admin adds a user, then it gets a one-time enrolment code; a staff user may not add users', async () => {
    const res = await t.http.post(`/api/v1/organisations/${bidderAdmin.orgId}/users`).set(bearer(bidderAdmin.token))
      .send({ username: 'bid-staff', displayName: '投标专员', role: 'staff' }).expect(201);
    assert.match(res.body.enrolmentCode, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(res.body.user.passwordHash, undefined);
    const stored = await t.ctx.db('users').where({ username: 'bid-staff' }).first();
    assert.notEqual(stored.enrolment_code_hash, res.body.enrolmentCode, 'stored hashed');
    const staff = await createMember(t, 'bidder', { orgId: bidderAdmin.orgId, role: 'staff' });
    const refused = await t.http.post(`/api/v1/organisations/${bidderAdmin.orgId}/users`).set(bearer(staff.token))
      .send({ username: 'bid-staff-2', displayName: '投标专员二', role: 'staff' }).expect(403);
    assert.equal(refused.body.error.code, 'FORBIDDEN');
    const taken = await t.http.post(`/api/v1/organisations/${bidderAdmin.orgId}/users`).set(bearer(bidderAdmin.token))
      .send({ username: 'bid-staff', displayName: '重名', role: 'staff' }).expect(409);
    assert.equal(taken.body.error.code, 'USERNAME_TAKEN');
    const users = await t.http.get(`/api/v1/organisations/${bidderAdmin.orgId}/users`).set(bearer(staff.token)).expect(200);
    assert.ok(users.body.some((u: { username: string }) => u.username === 'bid-staff'));
  });

  it('when a certificate is issued, then its subject is the register\'s record (name, organisation, credit code), not the CSR\'s claims', async () => {
    const info = parseCertificate(bidderAdmin.signingCertPem);
    const org = await t.ctx.db('organisations').where({ id: bidderAdmin.orgId }).first();
    assert.equal(info.subject.organizationName, org.name);
    assert.equal(info.subject.serialNumber, org.credit_code);
    assert.equal(info.usage, 'signing');
    assert.equal(parseCertificate(bidderAdmin.encryptionCertPem).usage, 'encryption');
  });

  it('when a tender\'s opening certificate is issued, then it is an opening-usage certificate bound to the tender and audited', async () => {
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const tender = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201)).body;
    const keys = generateRsaKeyPair();
    const issued = await t.ctx.db.transaction((trx) =>
      t.ctx.services.certificates.issueOpeningCertificate(trx, systemContext(), tender, keys.publicKeyPem),
    );
    const info = parseCertificate(issued.certificatePem);
    assert.equal(info.usage, 'opening');
    assert.equal(info.publicKeyPem.replace(/\s/g, ''), keys.publicKeyPem.replace(/\s/g, ''));
    const row = await t.ctx.db('certificates').where({ serial_hex: issued.serialHex }).first();
    assert.equal(row.tender_id, tender.id);
    const event = await t.ctx.db('audit_events').where({ object_id: issued.serialHex, action: 'certificate.issue' }).first();
    assert.equal(event.tender_id, tender.id);
    // an opening certificate never logs anyone in
    await assert.rejects(t.ctx.services.certificates.check(issued.certificatePem, 'signing'), /CERT_WRONG_USAGE|证书用途/);
  });
});
