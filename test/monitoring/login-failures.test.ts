/**
 * Rule login-failures: bursts of refused sign-ins and enrolments for one account (username or certificate), and one
 * address trying many accounts (password spraying). Addresses come from X-Forwarded-For, as behind the platform's
 * reverse proxy (TRUST_PROXY). Time is moved with the clock between attempts.
 */
import assert from 'node:assert/strict';
import { createCsr, generateRsaKeyPair, signChallenge } from '../../crypto/pki';
import { MINUTE_MS } from '../../src/shared/clock';
import { createTestApp, T0, type TestApp } from '../support/app';
import { createMember, type Member } from '../support/factories';

describe('monitoring rule login-failures', () => {
  let t: TestApp;
  let bidder: Member;
  const strangerKeys = generateRsaKeyPair();

  before(async () => {
    t = await createTestApp('rule-logins', { config: { trustProxy: true } });
    bidder = await createMember(t, 'bidder');
  });
  after(() => t.close());

  /** Moves the clock to `minutes` after `base`. */
  const atMinute = (base: Date, minutes: number) => t.clock.freeze(new Date(base.getTime() + minutes * MINUTE_MS));

  const wrongPassword = (username: string, ip: string) =>
    t.http.post('/api/v1/auth/password-login').set('X-Forwarded-For', ip).send({ username, password: 'guess-123456' }).expect(401);

  const wrongEnrolment = (username: string, ip: string) => {
    const csr = createCsr(strangerKeys, { commonName: username });
    return t.http.post('/api/v1/certificates/enrol').set('X-Forwarded-For', ip)
      .send({ username, enrolmentCode: 'ABCD-EFGH-0000', signingCsrPem: csr, encryptionCsrPem: csr }).expect(401);
  };

  /** The bidder's certificate presented with a signature someone else made: a certificate that does not match. */
  async function mismatchedCertificate(ip: string) {
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    const res = await t.http.post('/api/v1/auth/certificate-login').set('X-Forwarded-For', ip)
      .send({ challengeId: ch.body.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(strangerKeys.privateKeyPem, ch.body.nonce) });
    assert.ok(res.status >= 400);
  }

  const alerts = async () => (await t.ctx.db('alerts').where({ rule: 'login-failures' }).orderBy('raised_at')).map((a) => ({ ...a, fields: a.evidence.fields }));
  const scan = () => t.ctx.services.monitoring.scan();

  it('when the staff account is guessed five times in ten minutes, then one high alert per burst, however long it goes on', async () => {
    const base = new Date(T0.getTime() + 60 * MINUTE_MS);
    for (let i = 0; i < 5; i++) {
      atMinute(base, i * 2);
      await wrongPassword('admin', '203.0.113.10');
    }
    await scan();
    let found = (await alerts()).filter((a) => a.fields.account === 'admin');
    assert.equal(found.length, 1);
    assert.equal(found[0].severity, 'high', 'the trading centre\'s own account');
    assert.equal(found[0].tender_id, null);
    assert.match(found[0].title, /账户 admin在10分钟内登录失败5次/);
    assert.deepEqual([found[0].fields.kind, found[0].fields.failures, found[0].fields.addresses], ['username', 5, ['203.0.113.10']]);
    assert.deepEqual(found[0].fields.codes, ['LOGIN_FAILED']);
    assert.equal(found[0].evidence.auditSeqs.length, 5);
    const events = await t.ctx.db('audit_events').whereIn('seq', found[0].evidence.auditSeqs);
    assert.ok(events.every((e) => e.action === 'auth.login.refused' && e.payload.username === 'admin' && !('password' in e.payload)));

    // the attack goes on without a pause: the same burst
    for (let i = 5; i < 9; i++) {
      atMinute(base, i * 2);
      await wrongPassword('admin', '203.0.113.10');
    }
    await scan();
    assert.equal((await alerts()).filter((a) => a.fields.account === 'admin').length, 1);

    // half an hour of quiet, then again: a new burst
    const later = new Date(base.getTime() + 60 * MINUTE_MS);
    for (let i = 0; i < 5; i++) {
      atMinute(later, i);
      await wrongPassword('admin', '203.0.113.10');
    }
    await scan();
    found = (await alerts()).filter((a) => a.fields.account === 'admin');
    assert.equal(found.length, 2);
    // one address, one account: no spraying
    assert.equal((await alerts()).filter((a) => a.fields.clientIp).length, 0);
  });

  it('when a bidder\'s certificate is presented five times with signatures it did not make, then a warning names the certificate and its organisation', async () => {
    const base = new Date(T0.getTime() + 5 * 60 * MINUTE_MS);
    for (let i = 0; i < 5; i++) {
      atMinute(base, i);
      await mismatchedCertificate('198.51.100.40');
    }
    await scan();
    const found = (await alerts()).filter((a) => a.fields.account === bidder.signingSerial);
    assert.equal(found.length, 1);
    assert.equal(found[0].severity, 'warning');
    assert.equal(found[0].subject_org_id, bidder.orgId);
    assert.equal(found[0].fields.kind, 'certificate');
    assert.match(found[0].title, /证书/);
  });

  it('when one address tries ten times over four accounts (refused enrolments included), then a spraying warning', async () => {
    const base = new Date(T0.getTime() + 8 * 60 * MINUTE_MS);
    const names = ['zhang01', 'wang02', 'li03', 'zhao04'];
    for (let i = 0; i < 10; i++) {
      atMinute(base, i / 2);
      if (i % 4 === 3) await wrongEnrolment(names[i % 4], '192.0.2.77');
      else await wrongPassword(names[i % 4], '192.0.2.77');
    }
    await scan();
    const found = (await alerts()).filter((a) => a.fields.clientIp === '192.0.2.77');
    assert.equal(found.length, 1);
    assert.equal(found[0].severity, 'warning');
    assert.deepEqual([...found[0].fields.accounts].sort(), [...names].sort());
    assert.equal(found[0].fields.failures, 10);
    const actions = new Set((await t.ctx.db('audit_events').whereIn('seq', found[0].evidence.auditSeqs)).map((e) => e.action));
    assert.deepEqual([...actions].sort(), ['auth.login.refused', 'certificate.enrol.refused']);
    // no account was tried five times
    assert.equal((await alerts()).filter((a) => names.includes(a.fields.account)).length, 0);
  });

  it('near misses: four failures in ten minutes, five spread over an hour, nine from one address over three accounts', async () => {
    const base = new Date(T0.getTime() + 24 * 60 * MINUTE_MS);
    for (let i = 0; i < 4; i++) {
      atMinute(base, i);
      await wrongPassword('four-times', '203.0.113.61');
    }
    for (let i = 0; i < 5; i++) {
      atMinute(base, 5 + i * 15);
      await wrongPassword('spread-out', '203.0.113.62');
    }
    const names = ['a-one', 'b-two', 'c-three'];
    for (let i = 0; i < 9; i++) {
      atMinute(base, 100 + i / 2);
      await wrongPassword(names[i % 3], '203.0.113.63');
    }
    const scanned = await scan();
    assert.ok(scanned.events >= 18);
    const found = await alerts();
    assert.deepEqual(found.filter((a) => ['four-times', 'spread-out', ...names].includes(a.fields.account)), []);
    assert.deepEqual(found.filter((a) => String(a.fields.clientIp).startsWith('203.0.113.6')), []);
  });
});
