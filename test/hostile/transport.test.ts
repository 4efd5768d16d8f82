/**
 * The transport: a real listening server with the production connection limits (shortened), hit with oversized
 * headers (Node's 431), header lines trickled slow-loris style (cut off by headersTimeout), a bid upload that stops
 * sending (cut off by the upload idle timeout, 408, resumable from its stored offset), oversized and deeply nested
 * JSON (413 / 400) and wrong content types (415).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { applyServerLimits } from '../../src/shared/http/server-limits';
import { bearer, sealBid } from '../support/factories';
import { pollUntil } from '../support/poll';
import { assertRefusal, assertStillUp, refusedWithoutChange, sharedWorld, snapshot, type World } from './support/world';

/** A raw request on its own socket; resolves with what the server wrote and whether it closed the connection. */
function rawExchange(port: number, write: (socket: net.Socket) => void, opts: { timeoutMs: number }): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - started });
    }, opts.timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', (err) => (text ? undefined : reject(err)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - started });
    });
    socket.on('connect', () => write(socket));
  });
}

describe('hostile: transport — oversized headers, slow-loris, oversized bodies, wrong content types', function () {
  let w: World;
  let server: http.Server;
  let port: number;
  const HEADERS_TIMEOUT_MS = 1000;

  before(async function () {
    this.timeout(300_000);
    w = await sharedWorld();
    // the production limits, shortened, and checked often so the test need not wait Node's default 30 s
    server = applyServerLimits(http.createServer({ connectionsCheckingInterval: 100 }, w.t.app), { headersTimeoutMs: HEADERS_TIMEOUT_MS, keepAliveTimeoutMs: 500 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('when the headers are larger than the server accepts, then Node answers 431 and nothing changes', async () => {
    for (const size of [20_000, 64_000]) {
      const before = await snapshot(w.t);
      const res = await rawExchange(port, (s) => s.write(`POST /api/v1/tenders HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(size)}\r\nContent-Length: 2\r\n\r\n{}`), { timeoutMs: 5000 });
      assert.match(res.text, /^HTTP\/1\.1 431 /, `got ${res.text.slice(0, 60)}`);
      assert.deepEqual(await snapshot(w.t), before);
    }
    const many = Array.from({ length: 1500 }, (_, i) => `X-H${i}: ${'v'.repeat(10)}`).join('\r\n');
    const res = await rawExchange(port, (s) => s.write(`GET /health HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`), { timeoutMs: 5000 });
    assert.match(res.text, /^HTTP\/1\.1 431 /);
  });

  it('when header lines trickle in slow-loris style, then the connection is cut off after headersTimeout', async function () {
    this.timeout(20_000);
    let trickle: NodeJS.Timeout | undefined;
    const res = await rawExchange(port, (s) => {
      s.write('POST /api/v1/auth/password-login HTTP/1.1\r\nHost: x\r\n');
      trickle = setInterval(() => s.writable && s.write(`X-Slow-${Date.now()}: 1\r\n`), 200);
    }, { timeoutMs: 10_000 });
    clearInterval(trickle);
    assert.ok(res.closed, 'the server closed the connection');
    assert.ok(res.ms < 5000, `closed after ${res.ms} ms`);
    if (res.text) assert.match(res.text, /^HTTP\/1\.1 408 /);
  });

  it('when a bid upload stops sending, then 408 REQUEST_IDLE_TIMEOUT, the upload stays at its stored offset, and it resumes', async function () {
    this.timeout(30_000);
    const { t, bidder } = w;
    const sealed = await sealBid(t, bidder, w.published.openingCertPem, Buffer.alloc(4000, '投标'));
    const start = await t.http.post(`/api/v1/tenders/${w.published.id}/sections/${w.published.sectionId}/bid-uploads`).set(bearer(bidder.token))
      .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature }).expect(201);
    const id = start.body.uploadId;
    const first = sealed.envelope.subarray(0, 1000);
    await t.http.patch(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token)).set('Upload-Offset', '0').set('Content-Type', 'application/offset+octet-stream').send(first).expect(200);

    const before = await snapshot(t);
    const remaining = sealed.envelope.length - 1000;
    const res = await rawExchange(port, (s) => {
      s.write(
        `PATCH /api/v1/bid-uploads/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${bidder.token}\r\n` +
          `Content-Type: application/offset+octet-stream\r\nUpload-Offset: 1000\r\nContent-Length: ${remaining}\r\n\r\n`,
      );
      s.write(sealed.envelope.subarray(1000, 1500)); // then nothing more
    }, { timeoutMs: 10_000 });
    assert.ok(res.closed, 'the server closed the stalled connection');
    assert.match(res.text, /^HTTP\/1\.1 408 /, res.text.slice(0, 80));
    assert.match(res.text, /"code":"REQUEST_IDLE_TIMEOUT"/);
    // nothing of the stalled request was kept: same rows, same files, same audit chain
    assert.deepEqual(await snapshot(t), before);
    const status = (await t.http.get(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token)).expect(200)).body;
    assert.equal(status.offset, 1000);
    assert.equal(status.status, 'open');
    const done = await t.http.patch(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token)).set('Upload-Offset', '1000')
      .set('Content-Type', 'application/offset+octet-stream').send(sealed.envelope.subarray(1000)).expect(200);
    assert.equal(done.body.complete, true);
    assert.match(done.body.submission.receipt.token, /^[A-Za-z0-9+/]+=*$/, 'the resumed upload got its time-stamped receipt');
  });

  it('when clients drop the line in the middle of upload chunks, then the server stays up and the upload stays at its stored offset', async function () {
    this.timeout(30_000);
    const before = await snapshot(w.t);
    const id = w.foreignUploadId;
    const size = w.foreignBid.envelope.length;
    // several at once, some dropped before the server's checks have even run, some after a few bytes
    await Promise.all([0, 1, 50, 500, 0, 1].map((bytes) => rawExchange(port, (s) => {
      s.write(
        `PATCH /api/v1/bid-uploads/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${w.foreignBidder.token}\r\n` +
          `Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${size}\r\n\r\n`,
      );
      if (bytes) s.write(Buffer.alloc(bytes, 1));
      setImmediate(() => s.destroy());
    }, { timeoutMs: 5000 })));
    await assertStillUp(w.t);
    const status = (await w.t.http.get(`/api/v1/bid-uploads/${id}`).set(bearer(w.foreignBidder.token)).expect(200)).body;
    assert.equal(status.offset, 0);
    assert.equal(status.status, 'open');
    // the dropped requests' temporary files go as their reads fail
    await pollUntil('the dropped requests to be cleaned up', async () => (await snapshot(w.t)).blobFiles === before.blobFiles, { timeoutMs: 10_000, intervalMs: 50 });
    assert.deepEqual(await snapshot(w.t), before);
  });

  it('when a JSON body is larger than MAX_JSON_BYTES or nested absurdly deep, then 413 or 400 with a code', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(w.t.ctx.config.maxJsonBytes + 10) });
    await refusedWithoutChange(w.t, 'oversized JSON', () => w.t.http.post('/api/v1/tenders').set(bearer(w.agency.token)).set('Content-Type', 'application/json').send(big), { status: 413, code: 'PAYLOAD_TOO_LARGE' });
    await refusedWithoutChange(w.t, 'oversized login', () => w.t.http.post('/api/v1/auth/password-login').set('Content-Type', 'application/json').send(big), { status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const deep = `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    await refusedWithoutChange(w.t, 'deeply nested JSON', () => w.t.http.post('/api/v1/tenders').set(bearer(w.agency.token)).set('Content-Type', 'application/json').send(deep), { status: [400, 413] });
    const res = await refusedWithoutChange(w.t, 'upload chunk beyond the declared size', () =>
      w.t.http.patch(`/api/v1/bid-uploads/${w.foreignUploadId}`).set(bearer(w.foreignBidder.token)).set('Upload-Offset', '0')
        .set('Content-Type', 'application/offset+octet-stream').send(Buffer.alloc(w.foreignBid.envelope.length + 100_000)), { status: 413 });
    assertRefusal(res, 'upload chunk', { code: 'PAYLOAD_TOO_LARGE' });
  });

  it('when a body arrives with the wrong content type, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const body = JSON.stringify({ username: 'admin', password: 'x' });
    const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', 'application/javascript', 'image/png'];
    for (const type of types) {
      await refusedWithoutChange(w.t, `login as ${type}`, () => w.t.http.post('/api/v1/auth/password-login').set('Content-Type', type).send(body), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      await refusedWithoutChange(w.t, `tender as ${type}`, () => w.t.http.post('/api/v1/tenders').set(bearer(w.agency.token)).set('Content-Type', type).send(body), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    await refusedWithoutChange(w.t, 'JSON with an unsupported encoding', () =>
      w.t.http.post('/api/v1/tenders').set(bearer(w.agency.token)).set('Content-Type', 'application/json').set('Content-Encoding', 'x-unknown').send(body), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    for (const type of ['application/json', 'application/octet-stream', 'text/plain']) {
      await refusedWithoutChange(w.t, `upload chunk as ${type}`, () =>
        w.t.http.patch(`/api/v1/bid-uploads/${w.foreignUploadId}`).set(bearer(w.foreignBidder.token)).set('Upload-Offset', '0').set('Content-Type', type).send('{}'),
      { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  it('when it is over, then the server still answers its health check, over the real socket too', async () => {
    await assertStillUp(w.t);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
  });
});
