/**
 * Tokens that must not work — expired, revoked by logout, signed with another secret, `alg: none`, garbled — and
 * signed requests played a second time: a certificate-login answer replayed, a signature moved to a new challenge
 * or onto another certificate, a bidder's signed upload start replayed by another bidder, the final chunk of a
 * received bid sent again. Each: 401/403/409/422 with a code, nothing changed but the refused-login record.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { signChallenge } from '../../crypto/pki';
import { bearer, login, tenderBody } from '../support/factories';
import { assertStillUp, refusedWithoutChange, sharedWorld, type World } from './support/world';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('hostile: tokens and replayed signed requests', function () {
  let w: World;
  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
  });

  /** State-changing requests an agency token may make, to try each bad token on. */
  const attempts = (token: string) => [
    () => w.t.http.post('/api/v1/tenders').set(bearer(token)).send(tenderBody(w.tenderer.orgId, w.t.clock.now())),
    () => w.t.http.patch(`/api/v1/tenders/${w.draftId}`).set(bearer(token)).send({ name: '冒名修改' }),
    () => w.t.http.post(`/api/v1/tenders/${w.published.id}/terminate`).set(bearer(token)).send({ reason: '冒名终止' }),
    () => w.t.http.get('/api/v1/me').set(bearer(token)),
    () => w.t.http.post('/api/v1/auth/renew').set(bearer(token)),
  ];
  const refusedToken = async (what: string, token: string) => {
    for (const [i, send] of attempts(token).entries()) {
      await refusedWithoutChange(w.t, `${what} #${i}`, send, { status: 401, code: 'TOKEN_INVALID' });
    }
  };

  it('when a token has expired on the platform clock, then 401 TOKEN_INVALID', async () => {
    const token = await login(w.t, w.agency.signingKeys, w.agency.signingCertPem);
    const now = w.t.clock.now();
    w.t.clock.freeze(new Date(now.getTime() + (w.t.ctx.config.tokenTtlSeconds + 1) * 1000));
    try {
      await refusedToken('expired', token);
    } finally {
      w.t.clock.freeze(now);
    }
    // the same token before its expiry still works: it was the time, not the token
    await w.t.http.get('/api/v1/me').set(bearer(token)).expect(200);
  });

  it('when a token was revoked by logout, then 401 TOKEN_INVALID', async () => {
    const token = await login(w.t, w.agency.signingKeys, w.agency.signingCertPem);
    await w.t.http.post('/api/v1/auth/logout').set(bearer(token)).expect(204);
    await refusedToken('revoked', token);
  });

  it('when a token is signed with another secret, or claims alg none, or is garbled, then 401 TOKEN_INVALID', async () => {
    const now = Math.floor(w.t.clock.now().getTime() / 1000);
    const claims = { cs: null, at: now };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('gz-platform').setSubject(w.agency.userId).setJti(crypto.randomUUID())
      .setIssuedAt(now).setExpirationTime(now + 600).sign(crypto.randomBytes(32));
    await refusedToken('another secret', forged);
    const payload = { iss: 'gz-platform', sub: w.agency.userId, jti: crypto.randomUUID(), iat: now, exp: now + 600, ...claims };
    await refusedToken('alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`);
    await refusedToken('alg none, signature kept', `${b64url({ alg: 'none' })}.${b64url(payload)}.${w.agency.token.split('.')[2]}`);
    const [h, , sig] = w.agency.token.split('.');
    await refusedToken('payload swapped under a real signature', `${h}.${b64url({ ...payload, sub: w.regulator.userId })}.${sig}`);
    await refusedToken('garbled', 'not.a.jwt');
    for (const header of ['Bearer', 'Basic YWRtaW46YWRtaW4=', `Bearer ${w.agency.token} extra`, `Bearer ${'a'.repeat(4000)}`, 'Bearer <script>']) {
      await refusedWithoutChange(w.t, `Authorization: ${header.slice(0, 30)}`, () => w.t.http.post('/api/v1/tenders').set('Authorization', header).send({}), { status: 401, code: 'TOKEN_INVALID' });
    }
  });

  it('when a certificate-login answer is replayed, or its signature moved to another challenge or certificate, then 401 and the refusal is audited', async () => {
    const { t, bidder, foreignBidder } = w;
    const challenge = (await t.http.post('/api/v1/auth/challenge').expect(201)).body;
    const answer = { challengeId: challenge.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(bidder.signingKeys.privateKeyPem, challenge.nonce) };
    await t.http.post('/api/v1/auth/certificate-login').send(answer).expect(200);
    const refusedLogin = { status: 401, audit: ['auth.login.refused'] };
    const replay = await refusedWithoutChange(t, 'replayed login', () => t.http.post('/api/v1/auth/certificate-login').send(answer), refusedLogin);
    assert.equal(replay.body.error.code, 'CHALLENGE_INVALID');
    const fresh = (await t.http.post('/api/v1/auth/challenge').expect(201)).body;
    const moved = await refusedWithoutChange(t, 'old signature on a new challenge', () =>
      t.http.post('/api/v1/auth/certificate-login').send({ ...answer, challengeId: fresh.challengeId }), refusedLogin);
    assert.equal(moved.body.error.code, 'SIGNATURE_INVALID');
    const other = await refusedWithoutChange(t, 'signature presented with another bidder\'s certificate', () =>
      t.http.post('/api/v1/auth/certificate-login').send({ challengeId: fresh.challengeId, certificatePem: foreignBidder.signingCertPem, signature: signChallenge(bidder.signingKeys.privateKeyPem, fresh.nonce) }), refusedLogin);
    assert.equal(other.body.error.code, 'SIGNATURE_INVALID');
    // the fresh challenge was not spent by the refusals: its rightful answer still logs in
    await t.http.post('/api/v1/auth/certificate-login').send({ challengeId: fresh.challengeId, certificatePem: bidder.signingCertPem, signature: signChallenge(bidder.signingKeys.privateKeyPem, fresh.nonce) }).expect(200);
  });

  it('when another bidder replays a bidder\'s signed upload start, then 422 BID_SIGNATURE_FOREIGN and no session opens', async () => {
    await refusedWithoutChange(w.t, 'replayed signed start', () =>
      w.t.http.post(`/api/v1/tenders/${w.published.id}/sections/${w.published.sectionId}/bid-uploads`).set(bearer(w.bidder.token)).send(w.foreignBid.start),
    { status: 422, code: 'BID_SIGNATURE_FOREIGN' });
  });

  it('when the request that completed a bid is sent again, then 409 UPLOAD_NOT_OPEN and no second bid or receipt', async () => {
    for (const offset of ['0', String(w.foreignBid.envelope.length)]) {
      await refusedWithoutChange(w.t, `replayed final chunk at ${offset}`, () =>
        w.t.http.patch(`/api/v1/bid-uploads/${w.foreignBid.uploadId}`).set(bearer(w.foreignBidder.token)).set('Upload-Offset', offset)
          .set('Content-Type', 'application/offset+octet-stream').send(w.foreignBid.envelope),
      { status: 409, code: 'UPLOAD_NOT_OPEN' });
    }
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(w.t));
});
