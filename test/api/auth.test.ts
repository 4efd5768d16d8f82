import assert from 'node:assert/strict';
import { createCsr, generateRsaKeyPair, signChallenge } from '../../crypto/pki';
import { DAY_MS } from '../../src/shared/clock';
import { createTestApp, T0, type TestApp } from '../support/app';
import { bearer, countRows, createMember, createOrganisation, login, operatorToken, type Member } from '../support/factories';

describe('identity: certificate login, password login, tokens', () => {
  let t: TestApp;
  let bidder: Member;

  before(async () => {
    t = await createTestApp('auth');
    bidder = await createMember(t, 'bidder');
  });
  after(() => t.close());
  afterEach(() => t.clock.freeze(T0));

  it('when a bidder signs the challenge with its certificate key, then it gets a token that identifies it', async () => {
    const me = await t.http.get('/api/v1/me').set(bearer(bidder.token)).expect(200);
    assert.equal(me.body.user.id, bidder.userId);
    assert.equal(me.body.organisation.type, 'bidder');
    assert.equal(me.body.certSerial, bidder.signingSerial);
    const events = await t.ctx.db('audit_events').where({ action: 'auth.login', actor_user_id: bidder.userId });
    assert.equal(events.length, 1);
    assert.equal(events[0].cert_serial, bidder.signingSerial);
  });

  it('when the signature was made by another key, then login is refused with SIGNATURE_INVALID and no token', async () => {
    const other = generateRsaKeyPair();
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    const res = await t.http
      .post('/api/v1/auth/certificate-login')
      .send({ challengeId: ch.body.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(other.privateKeyPem, ch.body.nonce) })
      .expect(401);
    assert.equal(res.body.error.code, 'SIGNATURE_INVALID');
    assert.equal(res.body.token, undefined);
  });

  it('when a challenge is answered twice, then the second answer is refused', async () => {
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    const body = { challengeId: ch.body.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(bidder.signingKeys.privateKeyPem, ch.body.nonce) };
    await t.http.post('/api/v1/auth/certificate-login').send(body).expect(200);
    const res = await t.http.post('/api/v1/auth/certificate-login').send(body).expect(401);
    assert.equal(res.body.error.code, 'CHALLENGE_INVALID');
  });

  it('when the challenge has expired on the platform clock, then it is refused', async () => {
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    t.clock.advance(10 * 60_000);
    const res = await t.http
      .post('/api/v1/auth/certificate-login')
      .send({ challengeId: ch.body.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(bidder.signingKeys.privateKeyPem, ch.body.nonce) })
      .expect(401);
    assert.equal(res.body.error.code, 'CHALLENGE_INVALID');
  });

  it('when the certificate has expired, then login is refused with CERT_EXPIRED and nothing but the refusal is recorded', async () => {
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    t.clock.freeze(new Date(T0.getTime() + 400 * DAY_MS));
    const tokensBefore = await countRows(t, 'revoked_tokens');
    const res = await t.http
      .post('/api/v1/auth/certificate-login')
      .send({ challengeId: ch.body.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(bidder.signingKeys.privateKeyPem, ch.body.nonce) })
      .expect(401);
    assert.equal(res.body.error.code, 'CERT_EXPIRED');
    assert.equal(await countRows(t, 'revoked_tokens'), tokensBefore);
    const challenge = await t.ctx.db('login_challenges').where({ id: ch.body.challengeId }).first();
    assert.equal(challenge.used_at, null, 'the challenge is not consumed by a refused login');
    const last = await t.ctx.db('audit_events').orderBy('seq', 'desc').first();
    assert.equal(last.action, 'auth.login.refused');
    assert.equal(last.payload.code, 'CERT_EXPIRED');
  });

  it('when a certificate is presented that this platform did not issue, then login is refused with CERT_UNKNOWN', async () => {
    const { createRootCa, issueCertificate, randomSerialHex } = await import('../../crypto/pki');
    const rogueCa = createRootCa({ commonName: 'Rogue CA' }, { notBefore: new Date(T0.getTime() - DAY_MS), validityDays: 10 });
    const keys = generateRsaKeyPair();
    const rogue = issueCertificate({
      ca: rogueCa, publicKeyPem: keys.publicKeyPem, subject: { commonName: '冒用者' }, usage: 'signing',
      serialHex: randomSerialHex(), notBefore: T0, notAfter: new Date(T0.getTime() + DAY_MS),
    });
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    const res = await t.http
      .post('/api/v1/auth/certificate-login')
      .send({ challengeId: ch.body.challengeId, certificatePem: rogue, signature: signChallenge(keys.privateKeyPem, ch.body.nonce) })
      .expect(401);
    assert.equal(res.body.error.code, 'CERT_UNKNOWN');
  });

  it('when an encryption certificate is used to log in, then it is refused with CERT_WRONG_USAGE', async () => {
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    const res = await t.http
      .post('/api/v1/auth/certificate-login')
      .send({ challengeId: ch.body.challengeId, certificatePem: bidder.encryptionCertPem, signature: 'AAAA' })
      .expect(422);
    assert.equal(res.body.error.code, 'CERT_WRONG_USAGE');
  });

  it('when a certificate is revoked, then login with it is refused and tokens issued with it stop working', async () => {
    const member = await createMember(t, 'bidder');
    await t.http.get('/api/v1/me').set(bearer(member.token)).expect(200);
    const revoked = await t.http
      .post(`/api/v1/certificates/${member.signingSerial}/revoke`)
      .set(bearer(member.token))
      .send({ reason: 'keyCompromise' })
      .expect(200);
    assert.equal(revoked.body.status, 'revoked');
    const me = await t.http.get('/api/v1/me').set(bearer(member.token)).expect(401);
    assert.equal(me.body.error.code, 'TOKEN_INVALID');
    const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
    const res = await t.http
      .post('/api/v1/auth/certificate-login')
      .send({ challengeId: ch.body.challengeId, certificatePem: member.signingCertPem, signature: signChallenge(member.signingKeys.privateKeyPem, ch.body.nonce) })
      .expect(401);
    assert.equal(res.body.error.code, 'CERT_REVOKED');
    assert.equal(res.body.error.details.revokedAt, revoked.body.revokedAt);
  });

  it('when a token is forged, tampered or expired, then the API answers 401 TOKEN_INVALID', async () => {
    const [h, p] = bidder.token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url');
    for (const token of [`${h}.${forgedPayload}.${bidder.token.split('.')[2]}`, `${bidder.token}x`, 'abc.def.ghi']) {
      const res = await t.http.get('/api/v1/me').set(bearer(token)).expect(401);
      assert.equal(res.body.error.code, 'TOKEN_INVALID');
    }
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    assert.equal((await t.http.get('/api/v1/me').set(bearer(unsigned)).expect(401)).body.error.code, 'TOKEN_INVALID');
    t.clock.advance(16 * 60_000);
    assert.equal((await t.http.get('/api/v1/me').set(bearer(bidder.token)).expect(401)).body.error.code, 'TOKEN_INVALID');
    t.clock.freeze(T0);
    await t.http.get('/api/v1/me').set(bearer(bidder.token)).expect(200);
  });

  it('when a live session renews its token, then the new one works past the old one\'s expiry, until SESSION_MAX_HOURS after the login', async () => {
    const token = await login(t, bidder.signingKeys, bidder.signingCertPem);
    const me = await t.http.get('/api/v1/me').set(bearer(token)).expect(200);
    assert.equal(me.headers['x-token-expires-in'], '900', 'the answer says how long the token has left, by the platform clock');
    let current = token;
    // renewing every 10 minutes keeps the session going for hours on 15-minute tokens (here to 11:50)
    for (let i = 0; i < 71; i++) {
      t.clock.advance(10 * 60_000);
      const renewed = await t.http.post('/api/v1/auth/renew').set(bearer(current));
      assert.equal(renewed.status, 200, `renewal ${i}: ${JSON.stringify(renewed.body)}`);
      assert.equal(renewed.body.user.id, bidder.userId);
      assert.equal(new Date(renewed.body.expiresAt).getTime(), t.clock.now().getTime() + 900_000);
      current = renewed.body.token;
    }
    assert.equal((await t.http.get('/api/v1/me').set(bearer(current)).expect(200)).body.certSerial, bidder.signingSerial, 'a renewed token keeps the certificate');
    assert.equal((await t.http.get('/api/v1/me').set(bearer(token)).expect(401)).body.error.code, 'TOKEN_INVALID', 'the first token still expired');
    // 12 hours after the certificate login, the user proves who it is again
    t.clock.advance(9 * 60_000 + 59_000); // 11:59:59 after the login: still renewable
    const last = await t.http.post('/api/v1/auth/renew').set(bearer(current)).expect(200);
    t.clock.advance(10 * 60_000);
    const tooOld = await t.http.post('/api/v1/auth/renew').set(bearer(last.body.token)).expect(401);
    assert.equal(tooOld.body.error.code, 'SESSION_TOO_OLD');
    const renewals = await t.ctx.db('audit_events').where({ action: 'auth.renew', actor_user_id: bidder.userId });
    assert.equal(renewals.length, 72);
    assert.ok(renewals.every((e) => !JSON.stringify(e.payload).includes(token.split('.')[2])), 'no token in the log');
  });

  it('when a token was revoked or its certificate revoked, then it cannot be renewed', async () => {
    const member = await createMember(t, 'bidder');
    const token = await login(t, member.signingKeys, member.signingCertPem);
    await t.http.post('/api/v1/auth/logout').set(bearer(token)).expect(204);
    assert.equal((await t.http.post('/api/v1/auth/renew').set(bearer(token)).expect(401)).body.error.code, 'TOKEN_INVALID');
    await t.http.post(`/api/v1/certificates/${member.signingSerial}/revoke`).set(bearer(member.token)).send({ reason: 'keyCompromise' }).expect(200);
    assert.equal((await t.http.post('/api/v1/auth/renew').set(bearer(member.token)).expect(401)).body.error.code, 'TOKEN_INVALID');
    await t.http.post('/api/v1/auth/renew').expect(401);
  });

  it('when a user logs out, then its token is refused afterwards', async () => {
    const token = await login(t, bidder.signingKeys, bidder.signingCertPem);
    await t.http.post('/api/v1/auth/logout').set(bearer(token)).expect(204);
    assert.equal((await t.http.get('/api/v1/me').set(bearer(token)).expect(401)).body.error.code, 'TOKEN_INVALID');
  });

  it('when a bidder tries a password, then it is told to use its certificate; a wrong operator password is LOGIN_FAILED', async () => {
    const op = await operatorToken(t);
    const orgId = await createOrganisation(t, 'bidder');
    await t.http.post(`/api/v1/organisations/${orgId}/users`).set(bearer(op))
      .send({ username: 'pw-bidder', displayName: '李四', role: 'staff', password: 'a-long-password' }).expect(201);
    const refused = await t.http.post('/api/v1/auth/password-login').send({ username: 'pw-bidder', password: 'a-long-password' }).expect(401);
    // a bidder's user gets no password at all: certificate only
    assert.equal(refused.body.error.code, 'LOGIN_FAILED');
    const wrong = await t.http.post('/api/v1/auth/password-login').send({ username: 'admin', password: 'wrong-password' }).expect(401);
    assert.equal(wrong.body.error.code, 'LOGIN_FAILED');
  });

  it('when an enrolment code is reused or wrong, then ENROLMENT_INVALID and no certificate is issued', async () => {
    const op = await operatorToken(t);
    const orgId = await createOrganisation(t, 'agency');
    const created = await t.http.post(`/api/v1/organisations/${orgId}/users`).set(bearer(op))
      .send({ username: 'enrol-once', displayName: '赵六', role: 'admin' }).expect(201);
    const keys = generateRsaKeyPair();
    const csr = createCsr(keys, { commonName: 'x' });
    const before = await countRows(t, 'certificates');
    const wrong = await t.http.post('/api/v1/certificates/enrol')
      .send({ username: 'enrol-once', enrolmentCode: 'not-the-code', signingCsrPem: csr, encryptionCsrPem: csr }).expect(401);
    assert.equal(wrong.body.error.code, 'ENROLMENT_INVALID');
    assert.equal(await countRows(t, 'certificates'), before);
    const body = { username: 'enrol-once', enrolmentCode: created.body.enrolmentCode, signingCsrPem: csr, encryptionCsrPem: csr };
    await t.http.post('/api/v1/certificates/enrol').send(body).expect(201);
    assert.equal((await t.http.post('/api/v1/certificates/enrol').send(body).expect(401)).body.error.code, 'ENROLMENT_INVALID');
  });

  it('when two enrolments race with the same code, then exactly one gets certificates', async () => {
    const op = await operatorToken(t);
    const orgId = await createOrganisation(t, 'bidder');
    const created = await t.http.post(`/api/v1/organisations/${orgId}/users`).set(bearer(op))
      .send({ username: 'enrol-race', displayName: '钱七', role: 'admin' }).expect(201);
    const csr = createCsr(generateRsaKeyPair(), { commonName: 'x' });
    const body = { username: 'enrol-race', enrolmentCode: created.body.enrolmentCode, signingCsrPem: csr, encryptionCsrPem: csr };
    const results = await Promise.all([1, 2, 3].map(() => t.http.post('/api/v1/certificates/enrol').send(body)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 401, 401]);
    const issued = await t.ctx.db('certificates').where({ user_id: created.body.user.id });
    assert.equal(issued.length, 2, 'one signing and one encryption certificate');
    const refusals = await t.ctx.db('audit_events').where({ action: 'certificate.enrol.refused' }).whereRaw("payload->>'username' = ?", ['enrol-race']);
    assert.equal(refusals.length, 2);
  });

  it('when a CSR is malformed, then CSR_INVALID and nothing is issued', async () => {
    const before = await countRows(t, 'certificates');
    const res = await t.http.post('/api/v1/certificates').set(bearer(bidder.token))
      .send({ csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', usage: 'signing' }).expect(422);
    assert.equal(res.body.error.code, 'CSR_INVALID');
    assert.equal(await countRows(t, 'certificates'), before);
  });

  it('when the issued certificate is checked with openssl against the platform CA, then it verifies', async () => {
    const { execFileSync } = await import('node:child_process');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-ca-'));
    const ca = await t.http.get('/api/v1/pki/ca-certificate').expect(200);
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.text);
    fs.writeFileSync(path.join(dir, 'cert.pem'), bidder.signingCertPem);
    const out = execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'cert.pem')]).toString();
    assert.match(out, /OK/);
    fs.rmSync(dir, { recursive: true });
  });
});
