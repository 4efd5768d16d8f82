/**
 * Path parameters that are not ids (generated strings, traversal, broken percent escapes), other organisations'
 * ids, and path traversal in uploaded file names and in the asset and receipt paths: 400 or 404 with a code,
 * nothing changed, no file outside the blob store touched.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRouteTable } from '../../src/app';
import type { OrgType } from '../../src/shared/access';
import { bearer } from '../support/factories';
import { assertStillUp, refusedWithoutChange, sharedWorld, type World } from './support/world';

const TRAVERSAL = [
  '..', '../..', '../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2f', '....//....//', '..\\..\\windows\\win.ini',
  '%252e%252e%252f', '%c0%ae%c0%ae/', 'uploads/../bids', '/etc/passwd', 'C:\\boot.ini', '%00', 'a%00.pdf',
];

describe('hostile: path parameters, foreign ids and path traversal', function () {
  let w: World;
  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
  });

  it('when a route\'s path parameter is a generated non-id, then 400 or 404 with a code and nothing changes', async function () {
    this.timeout(120_000);
    const tokenOf: Record<OrgType, string> = {
      bidder: w.bidder.token, tenderer: w.tenderer.token, agency: w.agency.token, regulator: w.regulator.token, operator: w.operator,
    };
    const routes = buildRouteTable(w.t.ctx).routes.filter((r) => r.path.includes(':') && r.produces !== 'text/event-stream');
    const junk = fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.constantFrom(...TRAVERSAL),
      fc.uuid().map((u) => `${u}x`),
      fc.integer().map(String),
      fc.constant('x'.repeat(5000)),
    );
    let n = 0;
    for (const route of routes) {
      const role = route.access === 'public' || route.access === 'authenticated' ? 'bidder' : route.access[0];
      await fc.assert(
        fc.asyncProperty(junk, async (value) => {
          // traversal strings go raw (their escapes are the point); the rest encoded, as a client library would
          const segment = TRAVERSAL.includes(value) ? value.replaceAll('/', '%2f') : encodeURIComponent(value);
          const url = `/api/v1${route.path.replace(/:([A-Za-z0-9_]+)/g, segment)}`;
          let req = w.t.http[route.method](url).set(bearer(tokenOf[role]));
          if (route.body) req = req.send({});
          await refusedWithoutChange(w.t, `${route.method} ${url.slice(0, 120)}`, () => req, { status: [400, 404] });
          n++;
        }),
        { numRuns: 3 },
      );
    }
    assert.ok(n >= 100, `${n} requests`);
  });

  it('when a path holds a broken percent escape, then 400 (not a 500 from decoding)', async () => {
    for (const url of ['/api/v1/tenders/%E0%A4%A', '/api/v1/bids/%', '/api/v1/organisations/%ZZ/users', '/hall/%E0%A4%A', '/assets/%']) {
      await refusedWithoutChange(w.t, url, () => w.t.http.get(url).set(bearer(w.agency.token)), { status: [400, 404] });
    }
  });

  it('when another organisation\'s tenders, uploads, bids, users, certificates and deposits are reached for, then 404 and nothing changes', async () => {
    const { t, foreignAgency, bidder, foreignBidder } = w;
    const fb = w.foreignBid;
    const calls: Array<[string, () => PromiseLike<import('supertest').Response>]> = [
      ['foreign agency reads the draft', () => t.http.get(`/api/v1/tenders/${w.draftId}`).set(bearer(foreignAgency.token))],
      ['foreign agency edits the draft', () => t.http.patch(`/api/v1/tenders/${w.draftId}`).set(bearer(foreignAgency.token)).send({ name: '被篡改的名称' })],
      ['foreign agency publishes the draft', () => t.http.post(`/api/v1/tenders/${w.draftId}/publish`).set(bearer(foreignAgency.token))],
      ['foreign agency reads its document', () => t.http.get(`/api/v1/tenders/${w.draftId}/documents/${w.draftDocId}`).set(bearer(foreignAgency.token))],
      ['foreign agency terminates', () => t.http.post(`/api/v1/tenders/${w.published.id}/terminate`).set(bearer(foreignAgency.token)).send({ reason: '恶意终止项目' })],
      ['foreign agency reads the deposits', () => t.http.get(`/api/v1/tenders/${w.published.id}/deposits`).set(bearer(foreignAgency.token))],
      ['bidder reads another\'s upload', () => t.http.get(`/api/v1/bid-uploads/${w.foreignUploadId}`).set(bearer(bidder.token))],
      ['bidder sends bytes into another\'s upload', () => t.http.patch(`/api/v1/bid-uploads/${w.foreignUploadId}`).set(bearer(bidder.token)).set('Upload-Offset', '0').set('Content-Type', 'application/offset+octet-stream').send(Buffer.from('x'))],
      ['bidder aborts another\'s upload', () => t.http.delete(`/api/v1/bid-uploads/${w.foreignUploadId}`).set(bearer(bidder.token))],
      ['bidder reads another\'s bid', () => t.http.get(`/api/v1/bids/${fb.bidId}`).set(bearer(bidder.token))],
      ['bidder fetches another\'s receipt token', () => t.http.get(`/api/v1/bids/${fb.bidId}/receipt.tsr`).set(bearer(bidder.token))],
      ['bidder fetches another\'s receipt PDF', () => t.http.get(`/api/v1/bids/${fb.bidId}/receipt.pdf`).set(bearer(bidder.token))],
      ['bidder withdraws another\'s bid', () => t.http.post(`/api/v1/bids/${fb.bidId}/withdraw`).set(bearer(bidder.token))],
      ['bidder lists another organisation\'s users', () => t.http.get(`/api/v1/organisations/${foreignBidder.orgId}/users`).set(bearer(bidder.token))],
      ['bidder adds a user to another organisation', () => t.http.post(`/api/v1/organisations/${foreignBidder.orgId}/users`).set(bearer(bidder.token)).send({ username: 'mole', displayName: '内鬼', role: 'admin' })],
      ['bidder reads another\'s certificate', () => t.http.get(`/api/v1/certificates/${foreignBidder.signingSerial}`).set(bearer(bidder.token))],
      ['bidder revokes another\'s certificate', () => t.http.post(`/api/v1/certificates/${foreignBidder.signingSerial}/revoke`).set(bearer(bidder.token)).send({ reason: 'keyCompromise' })],
      ['bidder fetches a refund voucher not its own', () => t.http.get('/api/v1/refunds/00000000-0000-4000-8000-000000000005/voucher.pdf').set(bearer(bidder.token))],
    ];
    for (const [what, send] of calls) await refusedWithoutChange(t, what, send, { status: 404 });
  });

  it('when a document\'s file name climbs out of its directory, then 400 FILE_NAME_INVALID and no blob is written', async () => {
    const names = ['../../../etc/passwd', '..\\..\\boot.ini', 'a/../../b.pdf', '/etc/shadow', '..', '.', ' 招标文件.pdf', 'a\u0001.pdf', 'sub/dir.pdf', 'x\\y.pdf'];
    for (const name of names) {
      await refusedWithoutChange(w.t, `fileName ${JSON.stringify(name)}`, () =>
        w.t.http.post(`/api/v1/tenders/${w.draftId}/documents?fileName=${encodeURIComponent(name)}`).set(bearer(w.agency.token)).set('Content-Type', 'application/pdf').send(Buffer.from('%PDF-1.4 x')),
      { status: 400, code: 'FILE_NAME_INVALID' });
    }
  });

  it('when an asset or receipt path climbs out of its directory, then 404 and nothing is read', async () => {
    const urls = [
      '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e%2fapp.ts', '/assets/..%5c..%5cpackage.json', '/assets/app.css%00.js', '/assets/../../package.json',
      '/assets/hall.js%2f..%2f..%2f..%2fetc%2fpasswd', `/api/v1/bids/..%2f..%2f${w.foreignBid.bidId}/receipt.pdf`, '/api/v1/tenders/..%2fbids/documents/x',
      '/hall/..%2f..%2fetc%2fpasswd', '/api/v1/opendata/ocds/tenders/..%2f..%2fpackage.json',
    ];
    for (const url of urls) {
      const res = await refusedWithoutChange(w.t, url, () => w.t.http.get(url).set(bearer(w.bidder.token)), { status: [400, 404] });
      assert.doesNotMatch(res.text, /"dependencies"|root:x:0/, `${url} leaked a file`);
    }
  });

  it('when it is over, then the server still answers its health check', () => assertStillUp(w.t));
});
