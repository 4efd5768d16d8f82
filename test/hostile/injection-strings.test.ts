/**
 * Injection strings (SQL, markup, script, template, traversal, bidi and combining unicode, NUL, 300 KB of text) in
 * every text field of the main create and update bodies and in the login's. Each request is otherwise one the
 * platform refuses (a deadline too close, a foreign tender, a credit code taken, a wrong password), so each must be
 * refused — as that rule or as invalid input — with nothing changed. A NUL must be refused as input (400), never
 * reach PostgreSQL. And a string that is merely hostile-looking text is data: stored and read back verbatim.
 */
import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { bearer, tenderBody } from '../support/factories';
import { assertStillUp, HOSTILE_STRINGS, refusedWithoutChange, sharedWorld, type World } from './support/world';

type Case = { what: string; field: string; send: (value: string) => PromiseLike<Response>; audit?: (res: Response) => string[] };

describe('hostile: injection strings in every text field', function () {
  let w: World;
  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
  });

  const cases = (): Case[] => {
    const { t, agency, foreignAgency, bidder, foreignBidder, tenderer, operator } = w;
    const soon = () => new Date(t.clock.now().getTime() + 86_400_000).toISOString();
    const tender = (patch: Record<string, unknown>) =>
      t.http.post('/api/v1/tenders').set(bearer(agency.token)).send({ ...tenderBody(tenderer.orgId, t.clock.now()), bidDeadline: soon(), ...patch });
    const takenCode = async () => (await t.ctx.db('organisations').where({ id: foreignBidder.orgId }).first()).credit_code as string;
    const org = async (patch: Record<string, unknown>) =>
      t.http.post('/api/v1/organisations').set(bearer(operator)).send({
        type: 'bidder', name: '陕西某建设有限公司', creditCode: await takenCode(), legalRepresentative: '张三', basicAccountBank: '中国银行', ...patch,
      });
    const refusedLogin = (res: Response) => (res.status === 401 ? ['auth.login.refused'] : []);
    return [
      { what: 'tender name (deadline too close)', field: 'name', send: (v) => tender({ name: v }) },
      { what: 'tender region (deadline too close)', field: 'region', send: (v) => tender({ region: v }) },
      { what: 'tender description (deadline too close)', field: 'description', send: (v) => tender({ description: v }) },
      {
        what: 'section name (deadline too close)', field: 'sections.0.name',
        send: (v) => tender({ sections: [{ name: v, estimatedPriceFen: 100_000_00, depositFen: 1_000_00 }] }),
      },
      { what: 'tender name, foreign agency PATCH', field: 'name', send: (v) => t.http.patch(`/api/v1/tenders/${w.draftId}`).set(bearer(foreignAgency.token)).send({ name: v }) },
      { what: 'tender description, PATCH of a published tender', field: 'description', send: (v) => t.http.patch(`/api/v1/tenders/${w.published.id}`).set(bearer(agency.token)).send({ description: v }) },
      {
        what: 'clarification title, foreign agency', field: 'title',
        send: (v) => t.http.post(`/api/v1/tenders/${w.published.id}/clarifications`).set(bearer(foreignAgency.token)).send({ title: v, body: '答疑', affectsBidPreparation: false }),
      },
      {
        what: 'clarification body, on a draft', field: 'body',
        send: (v) => t.http.post(`/api/v1/tenders/${w.draftId}/clarifications`).set(bearer(agency.token)).send({ title: '澄清', body: v, affectsBidPreparation: false }),
      },
      { what: 'termination reason, foreign agency', field: 'reason', send: (v) => t.http.post(`/api/v1/tenders/${w.published.id}/terminate`).set(bearer(foreignAgency.token)).send({ reason: v }) },
      { what: 'organisation name (credit code taken)', field: 'name', send: (v) => org({ name: v }) },
      { what: 'legal representative (credit code taken)', field: 'legalRepresentative', send: (v) => org({ legalRepresentative: v }) },
      { what: 'basic account bank (credit code taken)', field: 'basicAccountBank', send: (v) => org({ basicAccountBank: v }) },
      { what: 'credit code', field: 'creditCode', send: (v) => org({ creditCode: v }) },
      {
        what: 'user display name, another organisation', field: 'displayName',
        send: (v) => t.http.post(`/api/v1/organisations/${foreignBidder.orgId}/users`).set(bearer(bidder.token)).send({ username: 'intruder', displayName: v, role: 'admin' }),
      },
      {
        what: 'user name, another organisation', field: 'username',
        send: (v) => t.http.post(`/api/v1/organisations/${foreignBidder.orgId}/users`).set(bearer(bidder.token)).send({ username: v, displayName: '入侵者', role: 'admin' }),
      },
      { what: 'password-login user name', field: 'username', send: (v) => t.http.post('/api/v1/auth/password-login').send({ username: v, password: 'wrong-password' }), audit: refusedLogin },
      { what: 'password-login password', field: 'password', send: (v) => t.http.post('/api/v1/auth/password-login').send({ username: 'admin', password: v }), audit: refusedLogin },
      {
        what: 'document file name, foreign agency', field: 'fileName',
        send: (v) => t.http.post(`/api/v1/tenders/${w.draftId}/documents?fileName=${encodeURIComponent(v.slice(0, 1000))}`).set(bearer(foreignAgency.token)).set('Content-Type', 'application/pdf').send(Buffer.from('%PDF-1.4')),
      },
    ];
  };

  it('when each text field carries each injection string in a refused request, then 4xx with a code and nothing changes', async function () {
    this.timeout(120_000);
    let n = 0;
    for (const c of cases()) {
      for (const value of HOSTILE_STRINGS) {
        const label = `${c.what} = ${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? `…(${value.length})` : ''}`;
        const res = await refusedWithoutChange(w.t, label, () => c.send(value), { audit: c.audit });
        if (value.includes('\u0000')) {
          assert.equal(res.status, 400, `${label}: a NUL is invalid input`);
          assert.equal(res.body.error.code, 'VALIDATION_FAILED', label);
        }
        n++;
      }
    }
    assert.ok(n >= 200, `${n} requests`);
  });

  it('when a search or a list filter carries a NUL, then 400 VALIDATION_FAILED (it never reaches the database)', async () => {
    for (const q of ['\u0000', "a\u0000' OR 1=1"]) {
      const res = await refusedWithoutChange(w.t, `GET /tenders?q=${JSON.stringify(q)}`, () => w.t.http.get(`/api/v1/tenders?q=${encodeURIComponent(q)}`).set(bearer(w.agency.token)), { status: 400 });
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
  });

  it('when hostile-looking text is valid data, then it is stored and read back verbatim, and searching for it finds only it', async () => {
    const values = HOSTILE_STRINGS.filter((v) => !v.includes('\u0000') && v.length <= 190);
    const { t, agency, tenderer } = w;
    for (const name of values) {
      const created = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send({ ...tenderBody(tenderer.orgId, t.clock.now()), name: `项目${name}`, description: name });
      assert.equal(created.status, 201, `${JSON.stringify(name)}: ${created.text.slice(0, 200)}`);
      const read = await t.http.get(`/api/v1/tenders/${created.body.id}`).set(bearer(agency.token)).expect(200);
      assert.equal(read.body.name, `项目${name}`.trim());
      assert.equal(read.body.description, name);
    }
    const search = await t.http.get(`/api/v1/tenders?q=${encodeURIComponent("' OR '1'='1' --")}&mine=true`).set(bearer(agency.token)).expect(200);
    const items = search.body.items ?? search.body;
    assert.ok(Array.isArray(items));
    assert.ok(items.every((i: { name: string }) => i.name.includes("' OR '1'='1' --")), 'the search matched text, not SQL');
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(w.t));
});
