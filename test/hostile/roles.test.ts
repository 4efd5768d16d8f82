/**
 * Tokens of other roles, and no token, on every role-restricted route of the route table: 403 FORBIDDEN or
 * 401 UNAUTHENTICATED, never a 5xx, nothing changed. New routes are picked up from the table.
 */
import assert from 'node:assert/strict';
import { buildRouteTable } from '../../src/app';
import type { OrgType } from '../../src/shared/access';
import { bearer } from '../support/factories';
import { assertStillUp, refusedWithoutChange, sharedWorld, type World } from './support/world';

const ROLES: OrgType[] = ['bidder', 'tenderer', 'agency', 'regulator', 'operator'];

describe('hostile: other roles\' tokens on every role-restricted route', function () {
  let w: World;
  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
  });

  function fill(path: string): string {
    const values: Record<string, string> = {
      tenderId: w.published.id,
      sectionId: w.published.sectionId,
      documentId: w.published.docId,
      orgId: w.foreignBidder.orgId,
      serial: w.foreignBidder.signingSerial,
      uploadId: w.foreignUploadId,
      bidId: '00000000-0000-4000-8000-000000000002',
      objectionId: '00000000-0000-4000-8000-000000000003',
      alertId: '00000000-0000-4000-8000-000000000004',
      refundId: '00000000-0000-4000-8000-000000000005',
      seq: '1',
      year: '2031',
    };
    return path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
      assert.ok(values[name], `no fixture for :${name}`);
      return values[name];
    });
  }

  it('when a role a route does not admit calls it, then 403 FORBIDDEN and nothing changes; anonymous, 401', async function () {
    const tokens: Record<OrgType, string> = {
      bidder: w.bidder.token, tenderer: w.tenderer.token, agency: w.agency.token, regulator: w.regulator.token, operator: w.operator,
    };
    const restricted = buildRouteTable(w.t.ctx).routes.filter((r) => r.access !== 'public');
    let checked = 0;
    for (const route of restricted) {
      const url = `/api/v1${fill(route.path)}`;
      const send = (token?: string) => {
        let req = w.t.http[route.method](url);
        if (token) req = req.set(bearer(token));
        return route.body ? req.send({}) : req;
      };
      await refusedWithoutChange(w.t, `${route.method} ${route.path} anonymous`, () => send(), { status: 401, code: 'UNAUTHENTICATED' });
      checked++;
      if (route.access === 'authenticated') continue;
      for (const role of ROLES.filter((r) => !(route.access as readonly OrgType[]).includes(r))) {
        await refusedWithoutChange(w.t, `${route.method} ${route.path} as ${role}`, () => send(tokens[role]), { status: 403, code: 'FORBIDDEN' });
        checked++;
      }
    }
    assert.ok(checked >= 150, `only ${checked} role refusals checked`);
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(w.t));
});
