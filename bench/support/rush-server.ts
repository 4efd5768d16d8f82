/**
 * The platform for the deadline-rush benchmark, in a process of its own: `node --import tsx bench/support/rush-server.ts`.
 *
 * Like bench-server.ts, but the world has RUSH_BIDDERS bidders (default 300), each its own organisation with its own
 * certificates and token, and the platform clock RUNS (a ControllableClock that is never frozen), so the bid deadline
 * really passes while bids are arriving:
 * - the tender is published at T0 with its deadline D = T0 + 30 days (the legal minimum period is met);
 * - the clock is then set to D − 2 h, and the bidders are registered, enrolled and logged in (tokens live 24 h here,
 *   so none expires during the run);
 * - `POST /rush?leadMs=N` on a separate loopback control port sets the clock to D − N, so the deadline falls N ms of
 *   real time later; it answers the deadline as wall-clock epoch ms, which the client (same machine) compares with;
 *   `GET /patches` there lists each upload PATCH as the server saw it (last body byte read, answer sent).
 * The outbox dispatcher does not run (as in the tests), so nothing seals the tender at D: the upload's own deadline
 * check (EB 27, judged when the last byte has arrived) is what refuses late bids.
 *
 * The bidders' keys, certificates and tokens go to the file RUSH_WORLD_FILE (a benchmark world on this machine only);
 * the ready line on stdout is small. Runs on PGlite or, with DATABASE_URL/REDIS_URL, on PostgreSQL and Redis.
 * Stops (removing its database and blob directory) when stdin closes, or on SIGTERM/SIGINT.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createCsr, type KeyPairPem } from '../../crypto/pki';
import { ControllableClock, HOUR_MS } from '../../src/shared/clock';
import { ADMIN_PASSWORD, startTestApp, T0, type TestApp } from '../../test/support/app';
import { createMigratedDatabase, dropCreatedDatabases, redisPrefix } from '../../test/support/env';
import { bearer, createCustodianMembers, createMember, login, operatorToken, tenderBody, uniqueCreditCode, uploadDocument } from '../../test/support/factories';
import { stopWithParent } from './child-lifecycle';

export interface RushBidder {
  token: string;
  signingKeyPem: string;
  signingCertificatePem: string;
  encryptionCertificatePem: string;
}

/** What RUSH_WORLD_FILE holds. */
export interface RushWorld {
  port: number;
  tenderId: string;
  sectionId: string;
  openingCertificatePem: string;
  /** Platform time when the world was made: the signing time bidders claim (after their certificates' start). */
  platformTime: string;
  bidders: RushBidder[];
}

/** The ready line. */
export interface RushServerInfo {
  pid: number;
  port: number;
  controlPort: number;
  blobDir: string;
  tenderId: string;
  bidders: number;
}

/** GET /patches on the control port: every PATCH of an upload as the server saw it (epoch ms; 0 = body not read to its end). */
export interface ServerPatch {
  uploadId: string;
  status: number;
  lastByteMs: number;
  answerMs: number;
}

/** The control port's answer to POST /rush. */
export interface RushStart {
  deadlineEpochMs: number;
  bidDeadline: string;
}

process.env.BID_MAX_BYTES ||= String(64 * 1024 ** 3);

const generateKeyPair = promisify(crypto.generateKeyPair);

/** RSA-2048 off the main thread (libuv's pool), so both cores make keys while the loop serves the enrolments. */
async function rsaKeyPair(): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey as unknown as string, publicKeyPem: publicKey as unknown as string };
}

/**
 * One bidder as people make one: the operator registers the organisation and a user, the user enrols two CSRs with
 * the one-time code and logs in by certificate. As createMember, with one operator token for all and keys made
 * asynchronously (the cheap path: the cost is the keys).
 */
async function createBidder(t: TestApp, opToken: string, n: number): Promise<RushBidder> {
  const org = await t.http
    .post('/api/v1/organisations')
    .set(bearer(opToken))
    .send({
      type: 'bidder',
      name: `冲刺测试建设集团有限公司${n}`,
      creditCode: uniqueCreditCode(),
      legalRepresentative: `李某${n}`,
      basicAccountBank: '中国建设银行西安分行',
      basicAccountNo: `6100${crypto.randomInt(1e9, 9e9)}`,
    })
    .expect(201);
  const username = `rush${n}${crypto.randomBytes(3).toString('hex')}`;
  const user = await t.http
    .post(`/api/v1/organisations/${org.body.id}/users`)
    .set(bearer(opToken))
    .send({ username, displayName: `投标人${n}`, role: 'admin' })
    .expect(201);
  const [signingKeys, encryptionKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  const enrolled = await t.http
    .post('/api/v1/certificates/enrol')
    .send({
      username,
      enrolmentCode: user.body.enrolmentCode,
      signingCsrPem: createCsr(signingKeys, { commonName: username }),
      encryptionCsrPem: createCsr(encryptionKeys, { commonName: username }),
    })
    .expect(201);
  const signingCertificatePem = enrolled.body.signing.certificatePem as string;
  return {
    token: await login(t, signingKeys, signingCertificatePem),
    signingKeyPem: signingKeys.privateKeyPem,
    signingCertificatePem,
    encryptionCertificatePem: enrolled.body.encryption.certificatePem,
  };
}

async function main(): Promise<void> {
  const count = Number(process.env.RUSH_BIDDERS ?? 300);
  const worldFile = process.env.RUSH_WORLD_FILE;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`RUSH_BIDDERS must be a positive integer, not ${process.env.RUSH_BIDDERS}`);
  if (!worldFile) throw new Error('RUSH_WORLD_FILE must name the file for the world');
  const progress = (line: string) => process.stderr.write(`[rush-server] ${line}\n`);

  // as createTestApp, but with a running clock and day-long tokens
  const { config: migrated, db } = await createMigratedDatabase('rush');
  await db.destroy();
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-blobs-rush-'));
  const config = {
    ...migrated,
    blobDir,
    adminPassword: ADMIN_PASSWORD,
    tokenTtlSeconds: 86_400,
    redis: { ...migrated.redis, prefix: redisPrefix('rush') },
  };
  const clock = new ControllableClock(T0);
  const t = await startTestApp(config, clock);

  let server: http.Server | undefined;
  let control: http.Server | undefined;
  stopWithParent(async () => {
    control?.close();
    server?.closeAllConnections();
    server?.close();
    await t.close();
    await dropCreatedDatabases();
  });

  await createCustodianMembers(t);
  const agency = await createMember(t, 'agency');
  const tenderer = await createMember(t, 'tenderer');
  const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, clock.now())).expect(201);
  await uploadDocument(t, agency.token, draft.body.id);
  const tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  const deadline = new Date(tender.bidDeadline as string);

  // forward to two hours before the deadline: the bidders' certificates and tokens start here
  clock.set(new Date(deadline.getTime() - 2 * HOUR_MS));
  const opToken = await operatorToken(t);
  const bidders: RushBidder[] = new Array(count);
  const t0 = performance.now();
  let next = 0;
  let made = 0;
  // a few at a time: key generation runs on the thread pool while the loop serves the other bidders' requests
  await Promise.all(
    Array.from({ length: Math.min(4, count) }, async () => {
      while (next < count) {
        const n = next++;
        bidders[n] = await createBidder(t, opToken, n);
        if (++made % 25 === 0 || made === count) progress(`${made}/${count} bidders enrolled (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }),
  );
  const opening = await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(bidders[0]!.token)).expect(200);

  // the server's own view of each PATCH: when its body's last byte was read, when the answer left. The client's
  // "last byte sent" is earlier by what the loopback socket buffers still held (megabytes per connection).
  const patches: ServerPatch[] = [];
  // this listener first: express rewrites req.url while it routes
  server = http.createServer();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const m = req.method === 'PATCH' ? /^\/api\/v1\/bid-uploads\/([0-9a-f-]{36})$/.exec(req.url ?? '') : null;
    if (!m) return;
    let lastByteMs = 0;
    req.once('end', () => (lastByteMs = performance.timeOrigin + performance.now()));
    res.once('finish', () => patches.push({ uploadId: m[1]!, status: res.statusCode, lastByteMs, answerMs: performance.timeOrigin + performance.now() }));
  });
  server.on('request', t.app);
  server.listen(0, '127.0.0.1');
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  // 300 bidders connect within moments of each other
  server.maxConnections = Infinity;
  await once(server, 'listening');

  control = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/patches') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(patches));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://control');
    const leadMs = Number(url.searchParams.get('leadMs'));
    if (req.method !== 'POST' || url.pathname !== '/rush' || !Number.isFinite(leadMs) || leadMs <= 0) {
      res.writeHead(404).end();
      return;
    }
    // the clock only moves forward here: it was set two hours before the deadline
    clock.set(new Date(deadline.getTime() - leadMs));
    const answer: RushStart = { deadlineEpochMs: Date.now() + leadMs, bidDeadline: deadline.toISOString() };
    progress(`rush started: the deadline passes in ${leadMs} ms`);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  });
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');

  const world: RushWorld = {
    port: (server.address() as AddressInfo).port,
    tenderId: tender.id,
    sectionId: tender.sections[0].id,
    openingCertificatePem: opening.body.certificatePem,
    platformTime: clock.now().toISOString(),
    bidders,
  };
  fs.writeFileSync(worldFile, JSON.stringify(world), { mode: 0o600 });
  const info: RushServerInfo = {
    pid: process.pid,
    port: world.port,
    controlPort: (control.address() as AddressInfo).port,
    blobDir,
    tenderId: tender.id,
    bidders: count,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
