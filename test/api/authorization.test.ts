/**
 * Walks every route in the route table with every role (and anonymously), then checks that another organisation's
 * records answer 404, and that every state-changing request lands in the audit chain under its request id.
 * New routes are picked up automatically: a route whose path parameter has no fixture fails this test.
 */
import assert from 'node:assert/strict';
import { buildRouteTable } from '../../src/app';
import type { RouteDef } from '../../src/shared/http/route';
import type { OrgType } from '../../src/shared/access';
import { createCsr, generateRsaKeyPair, signChallenge } from '../../crypto/pki';
import { createTestApp, runDueJobs, T0, type TestApp } from '../support/app';
import { openBuffer } from '../../crypto/envelope';
import { bearer, createCustodianMembers, createMember, login, operatorToken, sealBid, tenderBody, uniqueCreditCode, uploadDocument, type Member } from '../support/factories';

type Actor = 'anonymous' | OrgType;
const ACTORS: Actor[] = ['anonymous', 'bidder', 'tenderer', 'agency', 'regulator', 'operator'];

function allowed(route: RouteDef, actor: Actor): 'public' | 'unauthenticated' | 'forbidden' | 'allowed' {
  if (route.access === 'public') return 'public';
  if (actor === 'anonymous') return 'unauthenticated';
  if (route.access === 'authenticated') return 'allowed';
  return route.access.includes(actor) ? 'allowed' : 'forbidden';
}

/** A superagent parser: an error answer is read as JSON; a 200 event stream is closed as soon as it starts. */
function hangUpOnStream(res: NodeJS.ReadableStream & { statusCode?: number; destroy(): void }, done: (err: Error | null, body: unknown) => void): void {
  if (res.statusCode === 200) {
    res.destroy();
    done(null, {});
    return;
  }
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.on('end', () => {
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(err as Error, text);
    }
  });
}

describe('authorization: every route, every role, foreign organisations', () => {
  let t: TestApp;
  let agency: Member;
  let foreignAgency: Member;
  let bidder: Member;
  let foreignBidder: Member;
  let tenderer: Member;
  let regulator: Member;
  let draftId: string;
  let publishedId: string;
  let draftDocId: string;
  /** The walk's tender: a draft without documents, so no call in the walk can publish it. */
  let walkTenderId: string;
  let walkSectionId: string;
  const tokens: Partial<Record<Actor, () => Promise<string>>> = {};

  before(async () => {
    t = await createTestApp('authz');
    ({ regulator } = await createCustodianMembers(t));
    agency = await createMember(t, 'agency');
    foreignAgency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
    foreignBidder = await createMember(t, 'bidder');
    tenderer = await createMember(t, 'tenderer');
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    draftId = draft.body.id;
    draftDocId = await uploadDocument(t, agency.token, draftId);
    const walk = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201)).body;
    walkTenderId = walk.id;
    walkSectionId = walk.sections[0].id;
    const pub = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    publishedId = pub.body.id;
    await uploadDocument(t, agency.token, publishedId);
    await t.http.post(`/api/v1/tenders/${publishedId}/publish`).set(bearer(agency.token)).expect(200);
    const fresh = (m: Member) => () => login(t, m.signingKeys, m.signingCertPem);
    Object.assign(tokens, {
      bidder: fresh(bidder),
      tenderer: fresh(tenderer),
      agency: fresh(agency),
      regulator: fresh(regulator),
      operator: () => operatorToken(t),
    });
  });
  after(() => t.close());

  function fill(path: string): string {
    const values: Record<string, string> = {
      tenderId: walkTenderId,
      documentId: draftDocId,
      orgId: bidder.orgId,
      serial: bidder.signingSerial,
      sectionId: walkSectionId,
      // ids of records that do not exist: a caller who passes the gate gets 404, never a 5xx
      uploadId: '00000000-0000-4000-8000-000000000001',
      objectionId: '00000000-0000-4000-8000-000000000003',
      bidId: '00000000-0000-4000-8000-000000000002',
      alertId: '00000000-0000-4000-8000-000000000004',
      refundId: '00000000-0000-4000-8000-000000000005',
      // the first audit event (the bootstrap's): a regulator's or operator's to prove, anyone else's 404
      seq: '1',
      // a year with no published schedule: 404 past the gate
      year: '2031',
    };
    return path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
      assert.ok(values[name], `no fixture for path parameter :${name} — extend this test`);
      return values[name];
    });
  }

  it('when each role calls each route, then the gate answers 401 anonymous, 403 for other roles, and never 5xx', async () => {
    const routes = buildRouteTable(t.ctx).routes;
    assert.ok(routes.length >= 25, `route table has ${routes.length} routes`);
    // logout revokes the token it is called with: walk it last, with tokens of its own
    const ordered = [...routes.filter((r) => r.path !== '/auth/logout'), ...routes.filter((r) => r.path === '/auth/logout')];
    const failures: string[] = [];
    const tokenCache: Partial<Record<Actor, string>> = {};
    for (const route of ordered) {
      for (const actor of ACTORS) {
        const expectation = allowed(route, actor);
        let req = t.http[route.method](`/api/v1${fill(route.path)}`);
        if (actor !== 'anonymous') {
          const token = route.path === '/auth/logout' ? await tokens[actor]!() : (tokenCache[actor] ??= await tokens[actor]!());
          req = req.set(bearer(token));
        }
        if (route.body) req = req.send({});
        // a stream (the live events) never ends by itself: read its status and headers, then hang up
        if (route.produces === 'text/event-stream') req = req.buffer(true).parse(hangUpOnStream as never);
        const res = await req;
        const where = `${route.method.toUpperCase()} ${route.path} as ${actor}: ${res.status} ${res.body?.error?.code ?? ''}`;
        if (res.status >= 500) failures.push(`${where} (server error)`);
        else if (expectation === 'unauthenticated' && res.status !== 401) failures.push(`${where} (expected 401)`);
        else if (expectation === 'forbidden' && res.status !== 403) failures.push(`${where} (expected 403)`);
        else if (expectation === 'allowed' && (res.status === 401 || res.status === 403)) failures.push(`${where} (expected to pass the gate)`);
        if (res.status >= 400) assert.ok(res.body.error?.code, `${where}: error without a code`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('when another agency reaches for a tender it does not run, then every route answers 404 and nothing changes', async () => {
    const token = foreignAgency.token;
    const before = await t.ctx.db('audit_events').where({ tender_id: draftId }).count({ n: '*' });
    await t.http.get(`/api/v1/tenders/${draftId}`).set(bearer(token)).expect(404);
    await t.http.get(`/api/v1/tenders/${draftId}/documents/${draftDocId}`).set(bearer(token)).expect(404);
    await t.http.patch(`/api/v1/tenders/${draftId}`).set(bearer(token)).send({ name: '被篡改的项目名称' }).expect(404);
    await t.http.post(`/api/v1/tenders/${draftId}/publish`).set(bearer(token)).expect(404);
    await t.http.post(`/api/v1/tenders/${draftId}/documents?fileName=a.pdf`).set(bearer(token)).set('Content-Type', 'application/pdf').send(Buffer.from('x')).expect(404);
    await t.http.post(`/api/v1/tenders/${publishedId}/clarifications`).set(bearer(token)).send({ title: '澄清', body: '内容', affectsBidPreparation: false }).expect(404);
    await t.http.post(`/api/v1/tenders/${publishedId}/terminate`).set(bearer(token)).send({ reason: '恶意终止' }).expect(404);
    const after = await t.ctx.db('audit_events').where({ tender_id: draftId }).count({ n: '*' });
    assert.deepEqual(after, before);
    const tender = await t.ctx.db('tenders').where({ id: publishedId }).first();
    assert.equal(tender.status, 'published');
    // and a tenderer other than the tender's own does not see its draft
    const otherTenderer = await createMember(t, 'tenderer');
    await t.http.get(`/api/v1/tenders/${draftId}`).set(bearer(otherTenderer.token)).expect(404);
    await t.http.get(`/api/v1/tenders/${draftId}`).set(bearer(tenderer.token)).expect(200);
  });

  it('when another bidder reaches for a bidder\'s certificates, users or private details, then 404 or the public view only', async () => {
    const token = foreignBidder.token;
    await t.http.get(`/api/v1/certificates/${bidder.signingSerial}`).set(bearer(token)).expect(404);
    await t.http.post(`/api/v1/certificates/${bidder.signingSerial}/revoke`).set(bearer(token)).send({ reason: 'keyCompromise' }).expect(404);
    await t.http.get(`/api/v1/organisations/${bidder.orgId}/users`).set(bearer(token)).expect(404);
    await t.http.post(`/api/v1/organisations/${bidder.orgId}/users`).set(bearer(token)).send({ username: 'intruder', displayName: '入侵者', role: 'admin' }).expect(404);
    const csr = createCsr(generateRsaKeyPair(), { commonName: 'x' });
    await t.http.post('/api/v1/certificates').set(bearer(token)).send({ csrPem: csr, usage: 'signing', userId: bidder.userId }).expect(404);
    const org = await t.http.get(`/api/v1/organisations/${bidder.orgId}`).set(bearer(token)).expect(200);
    assert.equal(org.body.basicAccountNo, undefined, 'the basic account is private');
    assert.equal(org.body.legalRepresentative, undefined);
    const own = await t.http.get(`/api/v1/organisations/${bidder.orgId}`).set(bearer(bidder.token)).expect(200);
    assert.match(own.body.basicAccountNo, /^\d+$/);
    const list = await t.http.get('/api/v1/certificates').set(bearer(token)).expect(200);
    assert.ok(list.body.every((c: { organisationId: string }) => c.organisationId === foreignBidder.orgId));
    const cert = await t.ctx.db('certificates').where({ serial_hex: bidder.signingSerial }).first();
    assert.equal(cert.status, 'valid');
  });

  it('when every state-changing route succeeds, then each request appended an audit event under its request id', async () => {
    const routes = buildRouteTable(t.ctx).routes.filter((r) => r.method !== 'get');
    const covered = new Set<string>();
    const check = async (method: RouteDef['method'], path: string, res: { status: number; headers: Record<string, string> }) => {
      assert.ok(res.status < 300, `${method} ${path} answered ${res.status}`);
      const events = await t.ctx.db('audit_events').where({ request_id: res.headers['x-request-id'] });
      assert.ok(events.length >= 1, `${method} ${path} appended no audit event`);
      covered.add(`${method} ${path}`);
    };
    const ag = await login(t, agency.signingKeys, agency.signingCertPem);
    const draft = await t.http.post('/api/v1/tenders').set(bearer(ag)).send(tenderBody(tenderer.orgId, t.clock.now()));
    await check('post', '/tenders', draft);
    const id = draft.body.id;
    await check('patch', '/tenders/:tenderId', await t.http.patch(`/api/v1/tenders/${id}`).set(bearer(ag)).send({ region: '陕西省咸阳市' }));
    await check('post', '/tenders/:tenderId/documents', await t.http.post(`/api/v1/tenders/${id}/documents?fileName=a.pdf`).set(bearer(ag)).set('Content-Type', 'application/pdf').send(Buffer.from('%PDF')));
    await check('post', '/tenders/:tenderId/publish', await t.http.post(`/api/v1/tenders/${id}/publish`).set(bearer(ag)));
    await check('post', '/tenders/:tenderId/clarifications', await t.http.post(`/api/v1/tenders/${id}/clarifications`).set(bearer(ag)).send({ title: '澄清', body: '答疑', affectsBidPreparation: false }));
    await check('post', '/tenders/:tenderId/terminate', await t.http.post(`/api/v1/tenders/${id}/terminate`).set(bearer(ag)).send({ reason: '招标人决定终止' }));

    const op = await operatorToken(t);
    const org = await t.http.post('/api/v1/organisations').set(bearer(op)).send({ type: 'bidder', name: '陕西秦川建设有限公司', creditCode: uniqueCreditCode() });
    await check('post', '/organisations', org);
    const user = await t.http.post(`/api/v1/organisations/${org.body.id}/users`).set(bearer(op)).send({ username: 'qinchuan', displayName: '秦川', role: 'admin' });
    await check('post', '/organisations/:orgId/users', user);
    const keys = generateRsaKeyPair();
    const enc = generateRsaKeyPair();
    const enrolled = await t.http.post('/api/v1/certificates/enrol').send({
      username: 'qinchuan', enrolmentCode: user.body.enrolmentCode,
      signingCsrPem: createCsr(keys, { commonName: 'q' }), encryptionCsrPem: createCsr(enc, { commonName: 'q' }),
    });
    await check('post', '/certificates/enrol', enrolled);
    const challenge = await t.http.post('/api/v1/auth/challenge');
    assert.equal(challenge.status, 201);
    covered.add('post /auth/challenge'); // hands out a nonce: no business change, recorded when it is answered
    const loggedIn = await t.http.post('/api/v1/auth/certificate-login').send({
      challengeId: challenge.body.challengeId, certificatePem: enrolled.body.signing.certificatePem, signature: signChallenge(keys.privateKeyPem, challenge.body.nonce),
    });
    await check('post', '/auth/certificate-login', loggedIn);
    await check('post', '/auth/password-login', await t.http.post('/api/v1/auth/password-login').send({ username: 'admin', password: 'operator-password-for-tests' }));
    await check('post', '/certificates', await t.http.post('/api/v1/certificates').set(bearer(loggedIn.body.token)).send({ csrPem: createCsr(generateRsaKeyPair(), { commonName: 'q' }), usage: 'encryption' }));
    await check('post', '/certificates/:serial/revoke', await t.http.post(`/api/v1/certificates/${enrolled.body.encryption.serialHex}/revoke`).set(bearer(loggedIn.body.token)).send({ reason: 'superseded' }));
    await check('post', '/calendar/years', await t.http.post('/api/v1/calendar/years').set(bearer(op)).send({
      year: 2031, notice: '国务院办公厅关于2031年部分节假日安排的通知', holidays: [{ from: '2031-01-01', to: '2031-01-01', name: '元旦' }], workdays: [],
    }));
    await check('post', '/dev/clock', await t.http.post('/api/v1/dev/clock').set(bearer(op)).send({ at: t.clock.now().toISOString() }));
    await check('post', '/audit/checkpoints', await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)));
    await check('post', '/auth/renew', await t.http.post('/api/v1/auth/renew').set(bearer(loggedIn.body.token)));
    await check('post', '/auth/logout', await t.http.post('/api/v1/auth/logout').set(bearer(loggedIn.body.token)));

    // sealed bids on the published tender: start, send, withdraw; an abandoned upload; then custody after the deadline
    const bd = await login(t, bidder.signingKeys, bidder.signingCertPem);
    const published = (await t.http.get(`/api/v1/tenders/${publishedId}`).set(bearer(bd))).body;
    const opening = (await t.http.get(`/api/v1/tenders/${publishedId}/opening-key`).set(bearer(bd))).body.certificatePem;
    const sealed = await sealBid(t, { ...bidder, token: bd }, opening, Buffer.from('投标文件'));
    const uploadPath = `/api/v1/tenders/${publishedId}/sections/${published.sections[0].id}/bid-uploads`;
    const start = await t.http.post(uploadPath).set(bearer(bd)).send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature });
    await check('post', '/tenders/:tenderId/sections/:sectionId/bid-uploads', start);
    const sent = await t.http.patch(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(bd)).set('Upload-Offset', '0')
      .set('Content-Type', 'application/offset+octet-stream').send(sealed.envelope);
    await check('patch', '/bid-uploads/:uploadId', sent);
    await check('post', '/bids/:bidId/withdraw', await t.http.post(`/api/v1/bids/${sent.body.submission.bid.id}/withdraw`).set(bearer(bd)));
    const abandoned = await t.http.post(uploadPath).set(bearer(bd)).send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature });
    await check('delete', '/bid-uploads/:uploadId', await t.http.delete(`/api/v1/bid-uploads/${abandoned.body.uploadId}`).set(bearer(bd)));

    t.clock.freeze(new Date(published.bidDeadline));
    await runDueJobs(t);
    const reg = await login(t, regulator.signingKeys, regulator.signingCertPem);
    const fetched = await t.http.get(`/api/v1/tenders/${publishedId}/opening-key/share`).set(bearer(reg)).expect(200);
    const share = await openBuffer(Buffer.from(fetched.body.sealedShare, 'base64'), { privateKeyPem: regulator.encryptionKeys.privateKeyPem, certificatePem: regulator.encryptionCertPem });
    await check('post', '/tenders/:tenderId/opening-key/share', await t.http.post(`/api/v1/tenders/${publishedId}/opening-key/share`).set(bearer(reg)).send({ share: share.toString('base64') }));
    t.clock.freeze(T0);

    // a regulator's step on an alert (raised here by the platform itself, so no organisation is its subject)
    const alert = await t.ctx.services.alerts.recordAndRaise(
      { actor: null, meta: { requestId: 'authz-alert', ip: null, userAgent: null, deviceFingerprint: null } },
      { action: 'test.alert', payload: {} },
      { rule: 'test-authz', severity: 'info', title: '授权测试预警', basis: 'EB 49' },
    );
    const reg2 = await login(t, regulator.signingKeys, regulator.signingCertPem);
    await check('post', '/alerts/:alertId/dispositions', await t.http.post(`/api/v1/alerts/${alert.id}/dispositions`).set(bearer(reg2)).send({ status: 'acknowledged', note: '已签收' }));

    // the opening's steps need a whole opening (three bidders, a window, jobs): test/api/opening.test.ts checks each
    // of them left its audit event; the award's steps need a closed opening: test/api/award.test.ts checks them; the
    // deposit account and the bank's notifications need the bank simulator: test/api/deposits.test.ts checks them
    const award = /^\/tenders\/:tenderId\/sections\/:sectionId\/(evaluation|publicity|award|contract)(\/|$)/;
    const deposits = (path: string) => path === '/tenders/:tenderId/sections/:sectionId/deposit-account' || path === '/bank/notifications';
    const elsewhere = (path: string) => path.startsWith('/tenders/:tenderId/opening/') || path === '/tenders/:tenderId/opening' || award.test(path) || deposits(path);
    const missing = routes.filter((r) => !elsewhere(r.path)).map((r) => `${r.method} ${r.path}`).filter((k) => !covered.has(k));
    assert.deepEqual(missing, [], 'state-changing routes without an audit check here');
  });
});
