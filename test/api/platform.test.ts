import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import supertest from 'supertest';
import { buildRouteTable, VERSION } from '../../src/app';
import { errorHandler, notFoundHandler } from '../../src/shared/http/error-handler';
import { requestContext } from '../../src/shared/http/request-context';
import { API_BASE, RouteTable } from '../../src/shared/http/route';
import { createTestApp, T0, type TestApp } from '../support/app';
import { usingRealPostgres, usingRedis } from '../support/env';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertErrorShape(body: unknown, code: string): { code: string; message: string; details: Record<string, unknown> } {
  assert.ok(body && typeof body === 'object', 'a JSON body');
  assert.deepEqual(Object.keys(body), ['error']);
  const error = (body as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'details', 'message']);
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.ok(error.details && typeof error.details === 'object' && !Array.isArray(error.details), 'details is an object');
  return error;
}

describe('platform: health, metrics, request ids, errors, OpenAPI, time', function () {
  let t: TestApp;

  before(async function () {
    t = await createTestApp('platform');
  });
  after(async function () {
    await t?.close();
  });

  describe('/health', function () {
    it('when every dependency answers, then 200 with db, queue, events and storage ok and the kinds of this mode', async function () {
      const res = await t.http.get('/health').expect(200).expect('Content-Type', /application\/json/);
      assert.equal(res.body.status, 'ok');
      assert.equal(res.body.version, VERSION);
      assert.equal(res.body.time, T0.toISOString(), 'platform time, from the frozen clock');
      assert.deepEqual(res.body.checks, {
        db: { status: 'ok', kind: usingRealPostgres() ? 'postgresql' : 'pglite (embedded)' },
        queue: { status: 'ok', kind: usingRedis() ? 'bullmq (redis)' : 'in-process' },
        events: { status: 'ok', kind: usingRedis() ? 'redis pub/sub' : 'in-process' },
        storage: { status: 'ok', kind: 'local directory' },
      });
    });
  });

  describe('/metrics', function () {
    it('when a request was served, then /metrics is Prometheus text with its latency under the route pattern', async function () {
      await t.http.get('/api/v1/time').expect(200);
      const res = await t.http.get('/metrics').expect(200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      const text = res.text;
      assert.match(text, /^# HELP gz_http_request_duration_seconds /m);
      assert.match(text, /^# TYPE gz_http_request_duration_seconds histogram$/m);
      const count = /^gz_http_request_duration_seconds_count\{([^}]*)\} (\d+)$/m;
      const lines = text.split('\n').filter((l) => count.test(l) && l.includes('route="/api/v1/time"'));
      assert.equal(lines.length, 1, `one series for GET /api/v1/time, got:\n${lines.join('\n')}`);
      assert.match(lines[0], /method="GET"/);
      assert.match(lines[0], /status="200"/);
      assert.ok(Number(count.exec(lines[0])![2]) >= 1);
      assert.match(text, /^gz_process_cpu_user_seconds_total /m, 'process defaults, prefixed gz_');
    });
  });

  describe('X-Request-Id', function () {
    it('when a well-formed X-Request-Id is sent, then the same id is echoed', async function () {
      const id = 'client-req.0001_abc';
      const res = await t.http.get('/api/v1/time').set('X-Request-Id', id).expect(200);
      assert.equal(res.headers['x-request-id'], id);
    });

    it('when no X-Request-Id is sent, then a fresh uuid is given', async function () {
      const a = await t.http.get('/api/v1/time').expect(200);
      const b = await t.http.get('/api/v1/time').expect(200);
      assert.match(String(a.headers['x-request-id']), UUID);
      assert.match(String(b.headers['x-request-id']), UUID);
      assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    });

    for (const [label, bad] of [
      ['too short', 'abc'],
      ['with a space', 'bad request id'],
      ['with markup', '<script>alert(1)</script>'],
      ['too long', 'x'.repeat(65)],
    ] as const) {
      it(`when the X-Request-Id is malformed (${label}), then it is replaced by a uuid`, async function () {
        const res = await t.http.get('/api/v1/time').set('X-Request-Id', bad).expect(200);
        assert.notEqual(res.headers['x-request-id'], bad);
        assert.match(String(res.headers['x-request-id']), UUID);
      });
    }

    it('when a request is refused, then the error response carries the request id too', async function () {
      const id = 'refused-request-42';
      const res = await t.http.get('/api/v1/no-such-thing').set('X-Request-Id', id).expect(404);
      assert.equal(res.headers['x-request-id'], id);
    });
  });

  describe('error responses', function () {
    it('when a route does not exist, under the API or outside it, then 404 ROUTE_NOT_FOUND in the error shape', async function () {
      for (const [method, url] of [
        ['get', '/api/v1/no-such-route'],
        ['post', '/api/v1/tenders/x/y/z'],
        ['get', '/no-such-page'],
        ['delete', '/health'],
      ] as const) {
        const res = await t.http[method](url).expect(404).expect('Content-Type', /application\/json/);
        assertErrorShape(res.body, 'ROUTE_NOT_FOUND');
      }
    });

    it('when a JSON body is larger than MAX_JSON_BYTES, then 413 PAYLOAD_TOO_LARGE', async function () {
      const limit = t.ctx.config.maxJsonBytes;
      const body = JSON.stringify({ username: 'admin', password: 'p'.repeat(limit) });
      assert.ok(Buffer.byteLength(body) > limit);
      const res = await t.http
        .post('/api/v1/auth/password-login')
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(413);
      assertErrorShape(res.body, 'PAYLOAD_TOO_LARGE');
    });

    it('when a JSON body just under MAX_JSON_BYTES arrives, then it is parsed and reaches validation', async function () {
      const body = JSON.stringify({ username: 'admin', password: 'p'.repeat(t.ctx.config.maxJsonBytes - 100) });
      assert.ok(Buffer.byteLength(body) <= t.ctx.config.maxJsonBytes);
      const res = await t.http.post('/api/v1/auth/password-login').set('Content-Type', 'application/json').send(body).expect(400);
      const error = assertErrorShape(res.body, 'VALIDATION_FAILED');
      assert.deepEqual(
        (error.details.issues as Array<{ path: string }>).map((i) => i.path),
        ['body.password'],
        'the body was parsed: only the over-long password is refused',
      );
    });

    it('when the JSON body is malformed, then 400 MALFORMED_JSON', async function () {
      const res = await t.http
        .post('/api/v1/auth/password-login')
        .set('Content-Type', 'application/json')
        .send('{"username": "admin", "password": ')
        .expect(400);
      assertErrorShape(res.body, 'MALFORMED_JSON');
    });

    it('when a JSON body is not an object or array (strict parsing), then 400 MALFORMED_JSON', async function () {
      const res = await t.http
        .post('/api/v1/auth/password-login')
        .set('Content-Type', 'application/json')
        .send('"just a string"')
        .expect(400);
      assertErrorShape(res.body, 'MALFORMED_JSON');
    });
  });

  describe('/api/v1/openapi.json', function () {
    type Operation = { requestBody?: { content?: Record<string, unknown> }; responses?: Record<string, unknown> };
    let doc: { openapi: string; info: { version: string }; paths: Record<string, Record<string, Operation>> };

    before(async function () {
      const res = await t.http.get('/api/v1/openapi.json').expect(200).expect('Content-Type', /application\/json/);
      doc = res.body;
    });

    it('when fetched, then it is an OpenAPI 3 document of this version', function () {
      assert.match(doc.openapi, /^3\.\d+\.\d+$/);
      assert.equal(doc.info.version, VERSION);
      assert.ok(doc.paths && typeof doc.paths === 'object');
    });

    it('when compared with the route table, then every route is described with its method, and routes with a body have a requestBody', function () {
      const routes = buildRouteTable(t.ctx).routes;
      assert.ok(routes.length > 10, 'the route table is not empty');
      const missing: string[] = [];
      for (const route of routes) {
        const p = API_BASE + route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const op = doc.paths[p]?.[route.method];
        if (!op) {
          missing.push(`${route.method.toUpperCase()} ${p}`);
          continue;
        }
        if (route.body) {
          assert.ok(op.requestBody?.content?.['application/json'], `${route.method.toUpperCase()} ${p} has a JSON requestBody`);
        }
        if (route.rawBody) {
          assert.ok(op.requestBody?.content?.['application/octet-stream'], `${route.method.toUpperCase()} ${p} has a raw requestBody`);
        }
        if (!route.body && !route.rawBody) {
          assert.equal(op.requestBody, undefined, `${route.method.toUpperCase()} ${p} has no requestBody`);
        }
        assert.ok(op.responses?.default, `${route.method.toUpperCase()} ${p} documents the error response`);
      }
      assert.deepEqual(missing, [], 'routes missing from the OpenAPI document');
    });

    it('when compared with the route table, then the document describes no route the table lacks', function () {
      const declared = new Set(
        buildRouteTable(t.ctx).routes.map((r) => `${r.method} ${API_BASE}${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
      );
      const methods = new Set(['get', 'post', 'put', 'patch', 'delete']);
      const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.keys(ops).filter((m) => methods.has(m)).map((m) => `${m} ${p}`),
      );
      assert.deepEqual(documented.filter((d) => !declared.has(d)), []);
    });
  });

  describe('/api/v1/time', function () {
    it('when asked, then it answers the frozen platform time, in UTC and in Asia/Shanghai', async function () {
      const res = await t.http.get('/api/v1/time').expect(200);
      assert.deepEqual(res.body, { now: T0.toISOString(), local: '2026-11-23 09:00', timeZone: 'Asia/Shanghai' });
    });

    it('when the platform clock moves, then the time follows it', async function () {
      t.clock.freeze(new Date('2026-11-23T16:30:00Z'));
      try {
        const res = await t.http.get('/api/v1/time').expect(200);
        assert.equal(res.body.now, '2026-11-23T16:30:00.000Z');
        assert.equal(res.body.local, '2026-11-24 00:30', 'already the next day in Shanghai');
      } finally {
        t.clock.freeze(T0);
      }
    });
  });

  describe('an unexpected error inside a handler', function () {
    const SECRET = 'db password is hunter2-secret';
    let logged: string[];
    let http: ReturnType<typeof supertest>;

    before(function () {
      logged = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          logged.push(String(chunk));
          done();
        },
      });
      const logger = pino({ level: 'error' }, sink);
      const routes = new RouteTable();
      routes.add({
        method: 'get', path: '/boom', tag: 'test', access: 'public', summary: 'throws',
        handler: async () => {
          throw new Error(SECRET);
        },
      });
      routes.add({
        method: 'post', path: '/boom-sync', tag: 'test', access: 'public', summary: 'throws a non-Error',
        handler: () => {
          throw { message: SECRET, stack: SECRET };
        },
      });
      const app = express();
      app.use(requestContext);
      const router = express.Router();
      router.use(express.json());
      routes.mount(router);
      app.use(API_BASE, router);
      app.use(notFoundHandler);
      app.use(errorHandler(logger));
      http = supertest(app);
    });

    it('when a handler throws, then 500 INTERNAL_ERROR without the message, and the error is logged with the request id', async function () {
      const id = 'boom-request-0001';
      const res = await http.get('/api/v1/boom').set('X-Request-Id', id).expect(500);
      const error = assertErrorShape(res.body, 'INTERNAL_ERROR');
      assert.equal(error.details.requestId, id, 'the id lets support find the log line');
      assert.equal(res.headers['x-request-id'], id);
      assert.ok(!res.text.includes('hunter2'), 'nothing of the internal message leaks');
      assert.ok(!res.text.includes('Error:'), 'no stack leaks');
      const line = logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === id);
      assert.ok(line, 'the error was logged');
      assert.equal(line.msg, 'unhandled error');
      assert.match(JSON.stringify(line.err), /hunter2/, 'the log keeps the real message');
    });

    it('when a handler throws something that is not an Error, then the same 500 without leaking it', async function () {
      const res = await http.post('/api/v1/boom-sync').expect(500);
      assertErrorShape(res.body, 'INTERNAL_ERROR');
      assert.ok(!res.text.includes('hunter2'));
    });
  });
});
