/**
 * Rate limits, on an app of their own with small limits and a 5-second window (the other suites run with the limits
 * raised): login per account (password and certificate) and per client address (addresses from X-Forwarded-For,
 * the app trusting its proxy), bid uploads per bidder. Past the limit: 429 RATE_LIMITED with Retry-After, nothing
 * changed, not even a refused-login record; after the window, the door opens again. With Redis the counters live
 * under the app's key prefix, keyed by digests, never by what was typed.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { MemoryRateLimitStore } from '../../src/shared/http/rate-limit-store';
import { createTestApp, type TestApp } from '../support/app';
import { usingRedis } from '../support/env';
import { bearer, createMember, type Member } from '../support/factories';
import { pollUntil } from '../support/poll';
import { assertStillUp, auditSince, refusedWithoutChange, snapshot } from './support/world';

const WINDOW_SECONDS = 5;

describe('hostile: rate limits on login and uploads', function () {
  let t: TestApp;
  let bidder: Member;
  let address = 0;
  const from = () => `198.51.100.${++address}`;

  before(async function () {
    this.timeout(300_000);
    t = await createTestApp('hostile-rl', {
      config: { trustProxy: true, rateLimits: { windowSeconds: WINDOW_SECONDS, loginPerAddress: 6, loginPerAccount: 3, uploadPerBidder: 4 } },
    });
    bidder = await createMember(t, 'bidder');
  });
  after(() => t.close());

  const passwordLogin = (username: string, ip = from()) =>
    t.http.post('/api/v1/auth/password-login').set('X-Forwarded-For', ip).send({ username, password: 'guessed-password' });

  const assertRetryAfter = (res: { headers: Record<string, string> }) => {
    const seconds = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= WINDOW_SECONDS, `Retry-After ${res.headers['retry-after']}`);
  };

  it('when one account name is tried past its limit from many addresses, then 429 RATE_LIMITED with Retry-After, unaudited; after the window it opens again', async function () {
    this.timeout(30_000);
    for (let i = 0; i < 3; i++) await refusedWithoutChange(t, `guess ${i}`, () => passwordLogin('ghost'), { status: 401, audit: ['auth.login.refused'] });
    for (const spelling of ['ghost', ' GHOST ', 'Ghost']) {
      const res = await refusedWithoutChange(t, `guess past the limit as ${JSON.stringify(spelling)}`, () => passwordLogin(spelling), { status: 429, code: 'RATE_LIMITED' });
      assertRetryAfter(res);
      assert.match(res.body.error.message, /请求过于频繁.*\(too many requests/);
    }
    // another account is not held back by this one
    await refusedWithoutChange(t, 'another account', () => passwordLogin('phantom'), { status: 401, audit: ['auth.login.refused'] });
    // the window ends (wall time, not the platform clock): the same account is judged on its password again
    const reopened = await pollUntil('the window to end', async () => {
      const res = await passwordLogin('ghost');
      return res.status === 429 ? false : res;
    }, { timeoutMs: (WINDOW_SECONDS + 3) * 1000, intervalMs: 250 });
    assert.equal(reopened.status, 401);
  });

  it('when a certificate is used to log in past its account limit, then 429 whatever PEM spelling is sent', async () => {
    const challenge = async () => (await t.http.post('/api/v1/auth/challenge').set('X-Forwarded-For', from()).expect(201)).body;
    const attempt = async (pem: string) => {
      const c = await challenge();
      return t.http.post('/api/v1/auth/certificate-login').set('X-Forwarded-For', from()).send({ challengeId: c.challengeId, certificatePem: pem, signature: 'AAAA' });
    };
    for (let i = 0; i < 3; i++) {
      const before = await snapshot(t);
      const res = await attempt(bidder.signingCertPem);
      assert.equal(res.status, 401, res.text);
      assert.deepEqual(await auditSince(t, before.audit.headSeq), ['auth.login.refused']);
    }
    const c = await challenge();
    const respelled = bidder.signingCertPem.replace(/\n/g, '\r\n');
    const res = await refusedWithoutChange(t, 'certificate past its limit', () =>
      t.http.post('/api/v1/auth/certificate-login').set('X-Forwarded-For', from()).send({ challengeId: c.challengeId, certificatePem: respelled, signature: 'AAAA' }), { status: 429, code: 'RATE_LIMITED' });
    assertRetryAfter(res);
  });

  it('when one address asks for login challenges past its limit, then 429; another address is still served', async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < 6; i++) await t.http.post('/api/v1/auth/challenge').set('X-Forwarded-For', ip).expect(201);
    const res = await refusedWithoutChange(t, 'challenge past the address limit', () => t.http.post('/api/v1/auth/challenge').set('X-Forwarded-For', ip), { status: 429, code: 'RATE_LIMITED' });
    assertRetryAfter(res);
    await refusedWithoutChange(t, 'login from that address', () => passwordLogin('someone', ip), { status: 429, code: 'RATE_LIMITED' });
    await t.http.post('/api/v1/auth/challenge').set('X-Forwarded-For', '203.0.113.8').expect(201);
  });

  it('when a bidder starts and sends uploads past its limit, then 429 on both; its reads are not limited', async () => {
    const start = () => t.http.post('/api/v1/tenders/00000000-0000-4000-8000-000000000001/sections/00000000-0000-4000-8000-000000000002/bid-uploads')
      .set(bearer(bidder.token)).send({ size: 10, sha256: 'a'.repeat(64), signature: 'AAAA' });
    const patch = () => t.http.patch('/api/v1/bid-uploads/00000000-0000-4000-8000-000000000003').set(bearer(bidder.token))
      .set('Upload-Offset', '0').set('Content-Type', 'application/offset+octet-stream').send(Buffer.from('x'));
    for (let i = 0; i < 2; i++) {
      await refusedWithoutChange(t, `start ${i}`, start, { status: 404 });
      await refusedWithoutChange(t, `patch ${i}`, patch, { status: 404 });
    }
    assertRetryAfter(await refusedWithoutChange(t, 'start past the limit', start, { status: 429, code: 'RATE_LIMITED' }));
    assertRetryAfter(await refusedWithoutChange(t, 'patch past the limit', patch, { status: 429, code: 'RATE_LIMITED' }));
    await t.http.get('/api/v1/bids').set(bearer(bidder.token)).expect(200);
  });

  it('when the counters are kept, then in Redis they live under the app\'s prefix keyed by digests, in process their window follows the limiter\'s own clock', async function () {
    if (!usingRedis()) {
      // embedded mode: the in-process store; its window is checked with an injected time source instead
      let now = 1_000_000;
      const store = new MemoryRateLimitStore(() => now);
      assert.deepEqual(await store.hit('k', 5000), { count: 1, resetMs: 5000 });
      now += 4000;
      assert.deepEqual(await store.hit('k', 5000), { count: 2, resetMs: 1000 });
      now += 1000;
      assert.deepEqual(await store.hit('k', 5000), { count: 1, resetMs: 5000 }, 'a new window');
      return;
    }
    const redis = new Redis(t.ctx.config.redis.url!);
    try {
      const keys = await redis.keys(`${t.ctx.config.redis.prefix}:ratelimit:*`);
      assert.ok(keys.length > 0, 'counters in Redis');
      assert.ok(keys.every((k) => !/ghost|phantom|198\.51|203\.0/.test(k)), `keys hold digests: ${keys.slice(0, 3).join(', ')}`);
      for (const k of keys.slice(0, 5)) {
        const ttl = await redis.pttl(k);
        assert.ok(ttl > 0 && ttl <= WINDOW_SECONDS * 1000, `${k} expires (${ttl} ms)`);
      }
    } finally {
      await redis.quit();
    }
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(t));
});
