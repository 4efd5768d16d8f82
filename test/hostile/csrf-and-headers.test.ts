/**
 * Cross-site requests and security headers. Every state-changing route, called with a valid token but from another
 * site's Origin (or marked cross-site by the browser), is refused 403 CSRF_REJECTED before anything reads it; the
 * platform's own origin, a configured PUBLIC_ORIGIN and clients without an Origin (bidtool, the bank) pass. Every
 * answer — page, script, JSON, error — carries the same security headers, and no X-Powered-By.
 */
import assert from 'node:assert/strict';
import express from 'express';
import supertest from 'supertest';
import { buildRouteTable } from '../../src/app';
import type { OrgType } from '../../src/shared/access';
import { csrfGuard } from '../../src/shared/http/csrf';
import { errorHandler } from '../../src/shared/http/error-handler';
import { createLogger } from '../../src/shared/logger';
import { ADMIN_PASSWORD } from '../support/app';
import { bearer } from '../support/factories';
import { assertStillUp, refusedWithoutChange, sharedWorld, type World } from './support/world';

describe('hostile: cross-site requests and security headers', function () {
  let w: World;
  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
  });

  it('when any state-changing route is called from another site\'s Origin with a valid token, then 403 CSRF_REJECTED and nothing changes', async function () {
    this.timeout(60_000);
    const tokenOf: Record<OrgType, string> = {
      bidder: w.bidder.token, tenderer: w.tenderer.token, agency: w.agency.token, regulator: w.regulator.token, operator: w.operator,
    };
    const routes = buildRouteTable(w.t.ctx).routes.filter((r) => r.method !== 'get');
    const fill = (path: string) =>
      path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => ({
        tenderId: w.published.id, sectionId: w.published.sectionId, orgId: w.bidder.orgId, serial: w.bidder.signingSerial,
        uploadId: w.foreignUploadId, bidId: w.foreignBid.bidId, objectionId: '00000000-0000-4000-8000-000000000003',
        alertId: '00000000-0000-4000-8000-000000000004',
      })[name] ?? name);
    const origins = ['https://evil.example', 'null'];
    for (const route of routes) {
      const role = route.access === 'public' || route.access === 'authenticated' ? 'agency' : route.access[0];
      for (const origin of origins) {
        await refusedWithoutChange(w.t, `${route.method} ${route.path} from ${origin}`, () =>
          w.t.http[route.method](`/api/v1${fill(route.path)}`).set(bearer(tokenOf[role])).set('Origin', origin).send({}), { status: 403, code: 'CSRF_REJECTED' });
      }
      await refusedWithoutChange(w.t, `${route.method} ${route.path} marked cross-site`, () =>
        w.t.http[route.method](`/api/v1${fill(route.path)}`).set(bearer(tokenOf[role])).set('Sec-Fetch-Site', 'cross-site').send({}), { status: 403, code: 'CSRF_REJECTED' });
    }
  });

  it('when a cross-site page posts a login form, then 403 before the login is even judged (no refused-login record)', async () => {
    const login = { username: 'admin', password: ADMIN_PASSWORD };
    await refusedWithoutChange(w.t, 'login from evil origin', () => w.t.http.post('/api/v1/auth/password-login').set('Origin', 'https://evil.example').send(login), { status: 403, code: 'CSRF_REJECTED' });
    await refusedWithoutChange(w.t, 'login from a look-alike host', () =>
      w.t.http.post('/api/v1/auth/password-login').set('Host', 'ggzy.example').set('Origin', 'https://ggzy.example.evil.example').send(login), { status: 403, code: 'CSRF_REJECTED' });
    await refusedWithoutChange(w.t, 'form post as urlencoded', () =>
      w.t.http.post('/api/v1/auth/password-login').set('Origin', 'https://evil.example').type('form').send(login), { status: 403, code: 'CSRF_REJECTED' });
  });

  it('when the request comes from the platform\'s own origin, from no browser, or only reads, then it passes', async () => {
    const login = { username: 'admin', password: ADMIN_PASSWORD };
    await w.t.http.post('/api/v1/auth/password-login').set('Host', 'ggzy.example:8443').set('Origin', 'https://ggzy.example:8443').send(login).expect(200);
    await w.t.http.post('/api/v1/auth/password-login').set('Sec-Fetch-Site', 'same-origin').send(login).expect(200);
    await w.t.http.post('/api/v1/auth/password-login').send(login).expect(200);
    await w.t.http.get('/api/v1/me').set(bearer(w.agency.token)).set('Origin', 'https://evil.example').expect(200);
  });

  it('when PUBLIC_ORIGIN is configured (a proxy rewrites Host), then that origin passes and others are refused', async () => {
    const app = express();
    app.use(csrfGuard({ publicOrigin: 'https://ggzy.example.gov.cn' }));
    app.post('/x', (_req, res) => void res.status(204).end());
    app.use(errorHandler(createLogger('silent')));
    await supertest(app).post('/x').set('Host', 'internal:3000').set('Origin', 'https://ggzy.example.gov.cn').expect(204);
    await supertest(app).post('/x').set('Host', 'internal:3000').set('Origin', 'http://internal:3000').expect(204);
    const res = await supertest(app).post('/x').set('Host', 'internal:3000').set('Origin', 'https://ggzy.example.gov.cn.evil.example').expect(403);
    assert.equal(res.body.error.code, 'CSRF_REJECTED');
  });

  it('when anything is answered — page, script, JSON, an error — then it carries the security headers and no X-Powered-By', async () => {
    const answers = [
      await w.t.http.get('/'),
      await w.t.http.get(`/hall/${w.published.id}`),
      await w.t.http.get('/assets/app.css'),
      await w.t.http.get('/health'),
      await w.t.http.get('/api/v1/time'),
      await w.t.http.get('/api/v1/me').set(bearer(w.agency.token)),
      await w.t.http.get('/api/v1/me'),
      await w.t.http.get('/api/v1/no-such-route'),
      await w.t.http.post('/api/v1/auth/password-login').set('Origin', 'https://evil.example').send({}),
    ];
    for (const res of answers) {
      const where = `${res.status} ${res.headers['content-type']}`;
      const csp = String(res.headers['content-security-policy']);
      for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) {
        assert.ok(csp.includes(directive), `${where}: CSP lacks ${directive}: ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/, where);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', where);
      assert.equal(res.headers['x-frame-options'], 'DENY', where);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', where);
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin', where);
      assert.equal(res.headers['x-powered-by'], undefined, where);
    }
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(w.t));
});
