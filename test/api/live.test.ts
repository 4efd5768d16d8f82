import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import { createEventBus } from '../../src/shared/events';
import { liveRepository } from '../../src/live/live.repository';
import { LiveEvents, type LiveEvent } from '../../src/live/live.service';
import { redactAccessToken } from '../../src/live/live.routes';
import { createTestApp, type TestApp } from '../support/app';
import { usingRealPostgres, usingRedis } from '../support/env';
import { bearer, createCustodianMembers, createMember, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';
import { createSecondInstance } from '../support/second-instance';

// ---- a listening server and a small SSE client ------------------------------------------------------------------

interface Server {
  url: string;
  close(): Promise<void>;
}

async function listen(app: Express): Promise<Server> {
  const server = http.createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

interface Frame {
  seq: number;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream as a browser's EventSource would (fields id, event, data, retry; comments). */
class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  private req: http.ClientRequest | undefined;
  private waiters: Array<() => void> = [];
  private ended = false;

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    await new Promise<void>((resolve, reject) => {
      client.req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        if (client.status !== 200) {
          res.on('data', (chunk: string) => (client.body += chunk));
          res.on('end', () => resolve());
          return;
        }
        let pending = '';
        let message: SseMessage = { id: undefined, event: 'message', data: '' };
        let hasData = false;
        res.on('data', (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.search(/\r?\n/)) >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(pending[nl] === '\r' ? nl + 2 : nl + 1);
            if (line === '') {
              if (hasData) client.messages.push(message);
              message = { id: undefined, event: 'message', data: '' };
              hasData = false;
              client.wake();
              continue;
            }
            if (line.startsWith(':')) {
              client.comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') message.id = value;
            else if (field === 'event') message.event = value;
            else if (field === 'data') {
              message.data = hasData ? `${message.data}\n${value}` : value;
              hasData = true;
            } else if (field === 'retry') client.retry = Number(value);
          }
        });
        res.on('end', () => {
          client.ended = true;
          client.wake();
        });
        res.on('error', () => undefined);
        resolve();
      });
      client.req.on('error', reject);
    });
    return client;
  }

  get frames(): Frame[] {
    return this.messages.map((m) => JSON.parse(m.data) as Frame);
  }

  get seqs(): number[] {
    return this.messages.map((m) => Number(m.id));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get json(): { error: { code: string } } {
    return JSON.parse(this.body);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `n` events arrived (fails after `ms`). */
  async waitFor(n: number, ms = 10_000): Promise<SseMessage[]> {
    const deadline = Date.now() + ms;
    while (this.messages.length < n) {
      if (this.ended) throw new Error(`stream ended after ${this.messages.length} of ${n} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.messages.length} of ${n} events: ${this.seqs.join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages;
  }

  close(): void {
    this.req?.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// -----------------------------------------------------------------------------------------------------------------

describe(`live events of openings: SSE, replay, fan-out (${usingRedis() ? 'Redis pub/sub' : 'in-process events'})`, () => {
  let t: TestApp;
  let server: Server;
  let agency: Member;
  let bidder: Member;
  let tendererOrgId: string;
  const clients: SseClient[] = [];

  async function publishedTender(): Promise<string> {
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tendererOrgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200);
    return d.body.id;
  }

  /** What other parts of the platform may already have recorded for the tender: the tests count from here. */
  const latest = (tenderId: string) => liveRepository.latestSeq(t.ctx.db, tenderId);

  /** Records and announces, as a service does: the event in the business transaction, the poke after the commit. */
  async function emit(tenderId: string, type: string, data: Record<string, unknown>, live: LiveEvents = t.ctx.services.live): Promise<LiveEvent> {
    const event = await t.ctx.db.transaction((trx) => live.record(trx, tenderId, type, data));
    await live.announce(tenderId);
    return event;
  }

  async function watch(path: string, headers: Record<string, string> = {}, base = server.url): Promise<SseClient> {
    const c = await SseClient.connect(`${base}/api/v1${path}`, headers);
    clients.push(c);
    return c;
  }

  const events = (tenderId: string, query = '') => `/tenders/${tenderId}/events${query}`;

  before(async () => {
    t = await createTestApp('live');
    await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
    tendererOrgId = (await createMember(t, 'tenderer')).orgId;
    server = await listen(t.app);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await server?.close();
    await t?.close();
  });

  it('when a viewer connects, then it gets an event stream: SSE headers, a retry hint, events as id/event/data frames in order', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const viewer = await watch(events(tenderId, `?lastEventId=${base}`), bearer(bidder.token));
    assert.equal(viewer.status, 200);
    assert.match(String(viewer.headers['content-type']), /^text\/event-stream/);
    assert.equal(viewer.headers['cache-control'], 'no-cache');
    assert.equal(viewer.headers['x-accel-buffering'], 'no');

    await emit(tenderId, 'opening.state', { from: 'scheduled', to: 'sealed', at: new Date('2026-12-23T01:00:00Z') });
    await emit(tenderId, 'opening.signin', { bidderOrgId: bidder.orgId, signedIn: 1 });
    // two events committed in one transaction, then one poke
    await t.ctx.db.transaction(async (trx) => {
      await t.ctx.services.live.record(trx, tenderId, 'opening.state', { from: 'sealed', to: 'decrypting', windowMinutes: 30 });
      await t.ctx.services.live.record(trx, tenderId, 'opening.progress', { decrypted: 0, total: 3, 说明: '解密中' });
    });
    await t.ctx.services.live.announce(tenderId);

    await viewer.waitFor(4);
    assert.equal(viewer.retry, 3000);
    assert.deepEqual(viewer.seqs, [base + 1, base + 2, base + 3, base + 4]);
    assert.deepEqual(viewer.messages.map((m) => m.event), ['opening.state', 'opening.signin', 'opening.state', 'opening.progress']);
    assert.deepEqual(viewer.frames[0], {
      seq: base + 1,
      type: 'opening.state',
      occurredAt: t.clock.now().toISOString(),
      data: { from: 'scheduled', to: 'sealed', at: '2026-12-23T01:00:00.000Z' },
    });
    assert.deepEqual(viewer.frames[3].data, { decrypted: 0, total: 3, 说明: '解密中' });
    await sleep(50);
    assert.equal(viewer.messages.length, 4, 'each event once');
  });

  it('when an event is recorded in a transaction that rolls back, then no viewer ever receives it and its seq is not skipped', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const viewer = await watch(events(tenderId, `?lastEventId=${base}`), bearer(agency.token));
    await until('the viewer is live', () => t.ctx.services.live.viewerCount >= 1);

    await assert.rejects(
      t.ctx.db.transaction(async (trx) => {
        await t.ctx.services.live.record(trx, tenderId, 'opening.state', { to: 'failed', rolledBack: true });
        throw new Error('the business change failed');
      }),
      /business change failed/,
    );
    await t.ctx.services.live.announce(tenderId); // even a poke (a buggy caller) delivers nothing uncommitted
    await emit(tenderId, 'opening.state', { to: 'signing-in' });

    await viewer.waitFor(1);
    await sleep(50);
    assert.deepEqual(viewer.seqs, [base + 1], 'the committed event took the seq the rolled-back one had');
    assert.deepEqual(viewer.frames[0].data, { to: 'signing-in' });
    const rows = await t.ctx.db('live_events').where({ tender_id: tenderId }).andWhere('seq', '>', base);
    assert.equal(rows.length, 1);
    // and a late joiner replaying from the database sees the same
    const late = await watch(events(tenderId, `?lastEventId=${base}`), bearer(agency.token));
    await late.waitFor(1);
    assert.deepEqual(late.frames.map((f) => f.data), [{ to: 'signing-in' }]);
  });

  it('when a viewer reconnects with Last-Event-ID, then it gets exactly the events it missed and then live ones: no gap, no duplicate', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const first = await watch(events(tenderId, `?lastEventId=${base}`), bearer(bidder.token));
    await emit(tenderId, 'opening.state', { n: 1 });
    await emit(tenderId, 'opening.state', { n: 2 });
    await first.waitFor(2);
    first.close();
    await until('the viewer left', () => t.ctx.services.live.viewerCount === 0);

    await emit(tenderId, 'opening.state', { n: 3 });
    await emit(tenderId, 'opening.state', { n: 4 });
    // the browser reconnects to the same URL (with its original ?lastEventId) and sends the newer Last-Event-ID header
    const again = await watch(events(tenderId, `?lastEventId=${base}`), { ...bearer(bidder.token), 'Last-Event-ID': String(first.seqs[1]) });
    await again.waitFor(2);
    await emit(tenderId, 'opening.state', { n: 5 });
    await again.waitFor(3);
    await sleep(50);
    assert.deepEqual(again.seqs, [base + 3, base + 4, base + 5]);
    assert.deepEqual(again.frames.map((f) => f.data.n), [3, 4, 5]);

    // the query parameter alone works too (a page opened with the last id it showed)
    const byQuery = await watch(events(tenderId, `?lastEventId=${base + 4}`), bearer(bidder.token));
    await byQuery.waitFor(1);
    assert.deepEqual(byQuery.seqs, [base + 5]);
    // a Last-Event-ID from the future does not hide what comes next
    const future = await watch(events(tenderId), { ...bearer(bidder.token), 'Last-Event-ID': String(base + 999) });
    await until('the viewers are live', () => t.ctx.services.live.viewerCount === 3);
    await emit(tenderId, 'opening.state', { n: 6 });
    await future.waitFor(1);
    assert.deepEqual(future.seqs, [base + 6]);
    // a malformed one is refused
    const bad = await watch(events(tenderId), { ...bearer(bidder.token), 'Last-Event-ID': 'abc' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'VALIDATION_FAILED');
  });

  it('when viewers join while events are being recorded, then each gets every event after its Last-Event-ID exactly once, in order', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const total = 30;
    let committed = 0;
    const writer = (async () => {
      for (let i = 1; i <= total; i++) {
        await emit(tenderId, 'opening.progress', { decrypted: i, total });
        committed = i;
        if (i % 3 === 0) await sleep(1);
      }
    })();
    const joiners: Array<{ from: number; client: SseClient }> = [];
    for (let k = 0; k < 8; k++) {
      // a viewer can only have seen what was committed: it joins after an id that exists
      await until(`event ${k * 3} committed`, () => committed >= k * 3);
      const from = base + Math.min(total, k * 3);
      joiners.push({ from, client: await watch(events(tenderId), { ...bearer(bidder.token), 'Last-Event-ID': String(from) }) });
      await sleep(2);
    }
    await writer;
    for (const { from, client } of joiners) {
      await client.waitFor(base + total - from);
      const expected = Array.from({ length: base + total - from }, (_, i) => from + i + 1);
      assert.deepEqual(client.seqs, expected, `joined after ${from}`);
    }
    await sleep(50);
    for (const { from, client } of joiners) assert.equal(client.messages.length, base + total - from, 'no duplicate afterwards');
  });

  it('when an event arrives while a joining viewer is still replaying, then the hand-over to live delivery has no gap and no duplicate', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const hub = new LiveEvents(t.ctx.db, t.clock, t.ctx.events, { pollMs: 60_000 });
    const original = liveRepository.after;
    try {
      const early: LiveEvent[] = [];
      await hub.subscribe(tenderId, base, (e) => early.push(e));
      await emit(tenderId, 'opening.state', { n: 1 }, hub);
      await until('the early viewer has event 1', () => early.length === 1);

      // hold the joiner's replay read (after `base`) once it has read its rows
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let held!: () => void;
      const holding = new Promise<void>((r) => (held = r));
      let armed = true;
      liveRepository.after = async (...args: Parameters<typeof original>) => {
        const rows = await original(...args);
        if (armed && args[2] === base) {
          armed = false;
          held();
          await gate;
        }
        return rows;
      };
      const late: LiveEvent[] = [];
      const joining = hub.subscribe(tenderId, base, (e) => late.push(e));
      await holding; // the joiner has read [1] and waits
      await emit(tenderId, 'opening.state', { n: 2 }, hub); // the hub reads 2 for the early viewer meanwhile
      await until('the early viewer has event 2', () => early.length === 2);
      release();
      await joining;
      await emit(tenderId, 'opening.state', { n: 3 }, hub);
      await until('both have event 3', () => early.length === 3 && late.length === 3);
      await sleep(30);
      assert.deepEqual(late.map((e) => e.seq), [base + 1, base + 2, base + 3]);
      assert.deepEqual(early.map((e) => e.seq), [base + 1, base + 2, base + 3]);
    } finally {
      liveRepository.after = original;
      await hub.close();
    }
  });

  it('when the viewer may not see the tender, then 404; without a token, 401; ?access_token= works for EventSource and a bad one is 401', async () => {
    const draft = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tendererOrgId, t.clock.now())).expect(201)).body.id;
    const foreignAgency = await createMember(t, 'agency');
    for (const member of [foreignAgency, bidder]) {
      const refused = await watch(events(draft), bearer(member.token));
      assert.equal(refused.status, 404, `${member.orgType} of another organisation`);
      assert.equal(refused.json.error.code, 'NOT_FOUND');
      const byQuery = await watch(events(draft, `?access_token=${member.token}`));
      assert.equal(byQuery.status, 404);
    }
    const missing = await watch(events('00000000-0000-4000-8000-000000000009'), bearer(agency.token));
    assert.equal(missing.status, 404);

    const anonymous = await watch(events(draft));
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.error.code, 'UNAUTHENTICATED');
    const badQuery = await watch(events(draft, '?access_token=not.a.token'));
    assert.equal(badQuery.status, 401);
    assert.equal(badQuery.json.error.code, 'TOKEN_INVALID');
    const badHeader = await watch(events(draft), bearer('not.a.token'));
    assert.equal(badHeader.status, 401);
    assert.equal(
      redactAccessToken(`/api/v1${events(draft, `?lastEventId=3&access_token=${agency.token}`)}`),
      `/api/v1${events(draft, '?lastEventId=3&access_token=[redacted]')}`,
    );

    // the draft's own agency watches it with the token in the query, as a browser's EventSource would
    const base = await latest(draft);
    const own = await watch(events(draft, `?access_token=${agency.token}&lastEventId=${base}`));
    assert.equal(own.status, 200);
    await emit(draft, 'opening.state', { to: 'scheduled' });
    await own.waitFor(1);
    assert.deepEqual(own.frames[0].data, { to: 'scheduled' });
  });

  it('when the viewer’s login token expires, then the stream says so and ends instead of sending the next event; a new token watches again', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const viewer = await watch(events(tenderId, `?lastEventId=${base}`), bearer(bidder.token));
    await emit(tenderId, 'opening.state', { n: 1 });
    await viewer.waitFor(1);
    t.clock.freeze(new Date(t.clock.now().getTime() + t.ctx.config.tokenTtlSeconds * 1000));
    await emit(tenderId, 'opening.state', { n: 2 });
    await viewer.waitFor(2);
    await until('the stream to end', () => viewer.isEnded);
    assert.deepEqual(viewer.messages.map((m) => m.event), ['opening.state', 'token-expired']);
    // the hall signs in again and reconnects from its last id: nothing is lost
    await refresh(t, bidder, agency);
    const again = await watch(events(tenderId), { ...bearer(bidder.token), 'Last-Event-ID': String(base + 1) });
    await again.waitFor(1);
    assert.deepEqual(again.frames.map((f) => f.data), [{ n: 2 }]);
  });

  it('when many transactions record events for one tender at once, then seqs are 1, 2, 3… without gap or duplicate and a viewer gets them in order', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const viewer = await watch(events(tenderId, `?lastEventId=${base}`), bearer(bidder.token));
    const n = 20;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.ctx.db.transaction(async (trx) => {
          await t.ctx.services.live.record(trx, tenderId, 'opening.signin', { i });
          await trx.raw('SELECT pg_sleep(0.005)'); // hold the lock a little, so the others queue behind it
        }).then(() => t.ctx.services.live.announce(tenderId)),
      ),
    );
    const rows = await t.ctx.db('live_events').where({ tender_id: tenderId }).andWhere('seq', '>', base).orderBy('seq');
    assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: n }, (_, i) => base + i + 1));
    assert.deepEqual(new Set(rows.map((r) => r.data.i)).size, n);
    await viewer.waitFor(n);
    await sleep(50);
    assert.deepEqual(viewer.seqs, rows.map((r) => r.seq));
  });

  it('when recorded data carries a key, a share, bid content or non-JSON values, then record refuses it and nothing is stored', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const live = t.ctx.services.live;
    const refused: Array<[string, Record<string, unknown>]> = [
      ['a content key', { bidId: 'b1', contentKey: 'AAAA' }],
      ['a nested share', { custodian: { share: 'c2VjcmV0' } }],
      ['a private key', { items: [{ privateKeyPem: '-----BEGIN PRIVATE KEY-----' }] }],
      ['a token', { token: 'eyJ...' }],
      ['bytes', { blob: Buffer.from('投标文件') }],
      ['a bigint', { priceFen: 10n }],
      ['a long text', { note: 'x'.repeat(5_000) }],
      ['not a number', { ratio: Number.NaN }],
    ];
    for (const [what, data] of refused) {
      await assert.rejects(t.ctx.db.transaction((trx) => live.record(trx, tenderId, 'opening.test', data)), /live event/, what);
    }
    await assert.rejects(t.ctx.db.transaction((trx) => live.record(trx, tenderId, 'Bad Type\n', {})), /live event type/);
    assert.equal(await latest(tenderId), base);
  });

  it('when two viewers watch one tender on different API instances (or, embedded, on one instance and a second hub), then both see what the other instance announced', async function () {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    if (usingRedis() && usingRealPostgres()) {
      // instance B: its own context and app on the same database and Redis prefix
      const b = await createSecondInstance(t);
      const serverB = await listen(b.app);
      try {
        const onA = await watch(events(tenderId, `?lastEventId=${base}`), bearer(bidder.token));
        const onB = await watch(events(tenderId, `?access_token=${agency.token}&lastEventId=${base}`), {}, serverB.url);
        assert.equal(onB.status, 200);
        await until('both viewers are live', () => t.ctx.services.live.viewerCount === 1 && b.ctx.services.live.viewerCount === 1);
        // recorded and announced through instance A: B reads the rows from PostgreSQL on A's poke
        await emit(tenderId, 'opening.state', { to: 'decrypting' });
        // and through instance B, seen on A
        await b.ctx.db.transaction((trx) => b.ctx.services.live.record(trx, tenderId, 'opening.progress', { decrypted: 1, total: 3 }));
        await b.ctx.services.live.announce(tenderId);
        await onA.waitFor(2);
        await onB.waitFor(2);
        for (const viewer of [onA, onB]) {
          assert.deepEqual(viewer.seqs, [base + 1, base + 2]);
          assert.deepEqual(viewer.messages.map((m) => m.event), ['opening.state', 'opening.progress']);
        }
      } finally {
        for (const c of clients.splice(0)) c.close();
        await serverB.close();
        await b.close();
      }
      return;
    }
    // embedded: one instance. Two viewers (header token, query token) on it, and a second hub — a LiveEvents over a
    // second in-process bus with the same prefix and the same database, as another instance's would be
    const otherBus = createEventBus(t.ctx.config);
    const otherHub = new LiveEvents(t.ctx.db, t.clock, otherBus);
    try {
      const one = await watch(events(tenderId, `?lastEventId=${base}`), bearer(bidder.token));
      const two = await watch(events(tenderId, `?access_token=${agency.token}&lastEventId=${base}`));
      const onOther: LiveEvent[] = [];
      const stop = await otherHub.subscribe(tenderId, base, (e) => onOther.push(e));
      await until('both viewers are live', () => t.ctx.services.live.viewerCount === 2);
      await emit(tenderId, 'opening.state', { to: 'decrypting' });
      await emit(tenderId, 'opening.progress', { decrypted: 1, total: 3 }, otherHub);
      await one.waitFor(2);
      await two.waitFor(2);
      await until('the second hub has both', () => onOther.length === 2);
      for (const seqs of [one.seqs, two.seqs, onOther.map((e) => e.seq)]) assert.deepEqual(seqs, [base + 1, base + 2]);
      await stop();
    } finally {
      await otherHub.close();
      await otherBus.close();
    }
  });

  it('when a poke is lost, then the safety poll still delivers the committed event', async () => {
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const hub = new LiveEvents(t.ctx.db, t.clock, t.ctx.events, { pollMs: 50 });
    try {
      const got: LiveEvent[] = [];
      let ended = 0;
      await hub.subscribe(tenderId, base, (e) => got.push(e), () => ended++);
      // committed, never announced
      await t.ctx.db.transaction((trx) => hub.record(trx, tenderId, 'opening.state', { to: 'announcing' }));
      await until('the poll found it', () => got.length === 1, 5_000);
      assert.equal(got[0].seq, base + 1);
      // and when the instance shuts down, its viewers are told (their streams end; browsers reconnect elsewhere)
      await hub.close();
      assert.equal(ended, 1);
    } finally {
      await hub.close();
    }
  });

  it('when 200 viewers watch one tender on one instance, then all receive an event and the instance reads it from the database once', async function () {
    this.timeout(120_000);
    const tenderId = await publishedTender();
    const base = await latest(tenderId);
    const viewers: SseClient[] = [];
    for (let i = 0; i < 200; i++) viewers.push(await watch(events(tenderId, `?lastEventId=${base}`), bearer(i % 2 ? bidder.token : agency.token)));
    assert.ok(viewers.every((v) => v.status === 200));
    await until('200 viewers are live', () => t.ctx.services.live.viewerCount === 200, 60_000);

    const original = liveRepository.after;
    const reads: number[] = [];
    liveRepository.after = async (...args: Parameters<typeof original>) => {
      const rows = await original(...args);
      reads.push(rows.length);
      return rows;
    };
    try {
      await emit(tenderId, 'opening.state', { to: 'announcing' });
      await Promise.all(viewers.map((v) => v.waitFor(1, 30_000)));
    } finally {
      liveRepository.after = original;
    }
    assert.ok(viewers.every((v) => v.seqs.length === 1 && v.seqs[0] === base + 1));
    // one read found the event for all 200; at most one more empty read (the safety poll ticking in between)
    assert.equal(reads.filter((n) => n > 0).length, 1, `reads: ${JSON.stringify(reads)}`);
    assert.ok(reads.length <= 2, `reads: ${JSON.stringify(reads)}`);

    for (const v of viewers) v.close();
    await until('the viewers left and the hub closed', () => t.ctx.services.live.viewerCount === 0);
  });
});
