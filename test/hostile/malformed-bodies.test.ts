/**
 * Generated bodies (fast-check, seeded): arbitrary JSON to every route that takes a body, sent by a role the route
 * admits so that validation is what stands in the way, and a valid tender or bid-upload body with one field
 * swapped for a value of the wrong type. Each: 4xx with a stable code, nothing changed.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRouteTable } from '../../src/app';
import type { OrgType } from '../../src/shared/access';
import { bearer, tenderBody } from '../support/factories';
import { assertStillUp, refusedWithoutChange, sharedWorld, type World } from './support/world';

/** Any JSON value but a valid body: objects with keys no schema knows, arrays, scalars, deep nesting. */
const arbitraryBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 5 }),
);

/** A value of another JSON type than the field's. */
const wrongTypeFor = (value: unknown) =>
  fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.string({ maxLength: 20 }), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }))
    .filter((v) => typeof v !== typeof value || Array.isArray(v) !== Array.isArray(value) || (v === null) !== (value === null));

describe('hostile: generated malformed bodies', function () {
  let w: World;
  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
  });

  it('when every route with a body gets arbitrary JSON from a role it admits, then 4xx with a code and nothing changes', async function () {
    this.timeout(120_000);
    const tokenOf: Record<OrgType, string> = {
      bidder: w.bidder.token, tenderer: w.tenderer.token, agency: w.agency.token, regulator: w.regulator.token, operator: w.operator,
    };
    const fill = (path: string) =>
      path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => ({
        tenderId: w.published.id, sectionId: w.published.sectionId, orgId: w.bidder.orgId, serial: w.bidder.signingSerial,
        uploadId: w.foreignUploadId, bidId: '00000000-0000-4000-8000-000000000002', objectionId: '00000000-0000-4000-8000-000000000003',
        alertId: '00000000-0000-4000-8000-000000000004',
      })[name] ?? name);
    // logout and renew take no body; the rest validate one
    const routes = buildRouteTable(w.t.ctx).routes.filter((r) => r.body);
    assert.ok(routes.length >= 15, `${routes.length} routes with a body`);
    let n = 0;
    for (const route of routes) {
      const role = route.access === 'public' || route.access === 'authenticated' ? null : route.access[0];
      const token = role ? tokenOf[role] : route.access === 'authenticated' ? w.bidder.token : null;
      const login = route.path === '/auth/certificate-login' || route.path === '/auth/password-login';
      await fc.assert(
        fc.asyncProperty(arbitraryBody, async (body) => {
          let req = w.t.http[route.method](`/api/v1${fill(route.path)}`).set('Content-Type', 'application/json');
          if (token) req = req.set(bearer(token));
          await refusedWithoutChange(w.t, `${route.method} ${route.path} ${JSON.stringify(body).slice(0, 80)}`, () => req.send(JSON.stringify(body)), {
            // a login that parses but fails is recorded as a refused login, on purpose (EB 49)
            audit: (res) => (login && res.status === 401 ? ['auth.login.refused'] : []),
          });
          n++;
        }),
        { numRuns: 8 },
      );
    }
    assert.ok(n >= 120, `${n} requests`);
  });

  it('when a tender body has one field of the wrong type, then 400 VALIDATION_FAILED naming it, and nothing changes', async function () {
    const valid = tenderBody(w.tenderer.orgId, w.t.clock.now()) as Record<string, unknown>;
    const field = fc.constantFrom(...Object.keys(valid));
    await fc.assert(
      fc.asyncProperty(field.chain((k) => fc.tuple(fc.constant(k), wrongTypeFor(valid[k]))), async ([key, value]) => {
        const res = await refusedWithoutChange(w.t, `tender ${key}=${JSON.stringify(value)}`, () =>
          w.t.http.post('/api/v1/tenders').set(bearer(w.agency.token)).send({ ...valid, [key]: value }), { status: 400, code: 'VALIDATION_FAILED' });
        assert.ok(res.body.error.details.issues.some((i: { path: string }) => i.path.startsWith(`body.${key}`)), `issue names body.${key}`);
      }),
      { numRuns: 20 },
    );
  });

  it('when a bid-upload start has a wrong-typed or out-of-range field, then 400 and no upload session is opened', async function () {
    const valid = { size: 100, sha256: 'a'.repeat(64), signature: 'AAAA' };
    const bad = fc.oneof(
      fc.record({ size: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true, min: 0.1, max: 1e6 }), fc.constant(2 ** 60), fc.string()) }),
      fc.record({ sha256: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 63 }), fc.constant('A'.repeat(64)), fc.constant(`${'a'.repeat(63)}g`), fc.integer()) }),
      fc.record({ signature: fc.oneof(fc.constant('not base64!'), fc.constant('A'.repeat(70_000)), fc.constant(''), fc.boolean()) }),
    );
    await fc.assert(
      fc.asyncProperty(bad, async (patch) => {
        await refusedWithoutChange(w.t, `bid-upload start ${JSON.stringify(patch).slice(0, 80)}`, () =>
          w.t.http.post(`/api/v1/tenders/${w.published.id}/sections/${w.published.sectionId}/bid-uploads`).set(bearer(w.bidder.token)).send({ ...valid, ...patch }), { status: 400 });
      }),
      { numRuns: 15 },
    );
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(w.t));
});
