/**
 * `npm run test:smoke` — the embedded default, end to end, as a person runs it: `npx tsx src/server.ts` with a fresh
 * DATA_DIR and no DATABASE_URL/REDIS_URL; health, admin login, register an organisation; stop it (SIGTERM) and start
 * it again on the same DATA_DIR; the organisation is still there. Prints `smoke: N passed, N failed` and
 * exits non-zero on any failure. Children are killed whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withCheckChar } from '../../src/identity/credit-code';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN_PASSWORD = `smoke-${crypto.randomBytes(9).toString('base64url')}`;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-smoke-'));
/** Process groups of the servers started here (npx → sh → tsx → node share one group, led by npx). */
const groups = new Set<number>();

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signals the whole group by its id: `npm exec` does not pass SIGTERM on to the server (it dies and leaves tsx and
 * the server orphaned), so the server itself must get the signal.
 */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function killChildren(): void {
  for (const pgid of groups) if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  groups.clear();
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface Server {
  child: ChildProcess;
  pgid: number;
  log: string[];
}

function startServer(port: number): Server {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PASSWORD,
    LOG_LEVEL: 'info',
    CLOCK: 'system',
  };
  // the embedded default: no PostgreSQL, no Redis, whatever the calling shell has
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.BLOB_DIR;
  const child = spawn('npx', ['tsx', 'src/server.ts'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start npx');
  groups.add(child.pid);
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, pgid: child.pid, log };
}

/** SIGTERM to the group, then wait until every process of it is gone; the server must have shut down cleanly. */
async function stopServer(server: Server): Promise<void> {
  signalGroup(server.pgid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (groupAlive(server.pgid)) {
    if (Date.now() > deadline) {
      signalGroup(server.pgid, 'SIGKILL');
      groups.delete(server.pgid);
      throw new Error(`server still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM (killed)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  groups.delete(server.pgid);
  const lines = server.log.join('').split('\n');
  const from = lines.findIndex((l) => l.includes('"msg":"shutting down"'));
  if (from < 0) throw new Error('the server did not log its shutdown');
  // after the shutdown began: no error-level log line, no uncaught error printed
  const errors = lines.slice(from).filter((l) => /"level":(50|60)/.test(l) || /Unhandled|Error:/.test(l));
  if (errors.length) throw new Error(`errors while stopping: ${errors.slice(0, 3).join(' | ')}`);
}

async function waitForHealth(base: string, server: Server): Promise<any> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (!groupAlive(server.pgid)) throw new Error('the server exited before it answered');
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.json();
      if (res.status === 200) return body;
      last = `HTTP ${res.status} ${JSON.stringify(body)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`/health not 200 within ${START_TIMEOUT_MS / 1000} s (last: ${last})`);
}

async function api(base: string, method: string, route: string, opts: { token?: string; json?: unknown; expect: number }) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== opts.expect) throw new Error(`${method} ${route}: HTTP ${res.status} (expected ${opts.expect}) ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

let passed = 0;
let failed = 0;
async function check<T>(name: string, fn: () => Promise<T>, server?: Server): Promise<T> {
  const started = Date.now();
  try {
    const value = await fn();
    passed += 1;
    console.log(`  ✓ ${name} (${Date.now() - started} ms)`);
    return value;
  } catch (err) {
    failed += 1;
    console.log(`  ✗ ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (server) console.log(`--- server output (last lines) ---\n${server.log.join('').split('\n').slice(-40).join('\n')}\n---`);
    throw new Reported();
  }
}

/** A failure `check` has already counted and printed. */
class Reported extends Error {}

async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const orgName = `冒烟测试建设工程有限公司${crypto.randomInt(1000, 9999)}`;
  const creditCode = withCheckChar(`91610100MA6${String(crypto.randomInt(0, 1e6)).padStart(6, '0')}`);
  console.log(`smoke test of the embedded default (DATA_DIR=${dataDir}, PORT=${port})`);

  let server = startServer(port);
  await check('first start: /health 200 on PGlite and in-process jobs', async () => {
    const health = await waitForHealth(base, server);
    if (!String(health.checks?.db?.kind).includes('pglite')) throw new Error(`expected the embedded database, got ${JSON.stringify(health.checks?.db)}`);
    if (health.checks?.queue?.kind !== 'in-process') throw new Error(`expected in-process jobs, got ${JSON.stringify(health.checks?.queue)}`);
  }, server);
  const token = await check('admin logs in with ADMIN_PASSWORD', async () => {
    const login = await api(base, 'POST', '/api/v1/auth/password-login', { json: { username: 'admin', password: ADMIN_PASSWORD }, expect: 200 });
    return login.token as string;
  }, server);
  const orgId = await check('register an organisation', async () => {
    const org = await api(base, 'POST', '/api/v1/organisations', {
      token,
      json: { type: 'bidder', name: orgName, creditCode, legalRepresentative: '王建军', basicAccountBank: '中国建设银行西安分行', basicAccountNo: '61050110000012345678' },
      expect: 201,
    });
    return org.id as string;
  }, server);
  await check('stop on SIGTERM: the server shuts down cleanly', () => stopServer(server), server);

  server = startServer(port);
  await check('restart on the same DATA_DIR: /health 200', () => waitForHealth(base, server), server);
  await check('the organisation is still there after the restart', async () => {
    const login = await api(base, 'POST', '/api/v1/auth/password-login', { json: { username: 'admin', password: ADMIN_PASSWORD }, expect: 200 });
    const org = await api(base, 'GET', `/api/v1/organisations/${orgId}`, { token: login.token, expect: 200 });
    if (org.name !== orgName || org.creditCode !== creditCode) throw new Error(`found ${JSON.stringify(org)}`);
    const list = await api(base, 'GET', `/api/v1/organisations?q=${encodeURIComponent(orgName)}`, { token: login.token, expect: 200 });
    if (!Array.isArray(list) || list.length !== 1) throw new Error(`search found ${JSON.stringify(list)}`);
  }, server);
  await check('stop again on SIGTERM', () => stopServer(server), server);
}

main()
  .catch((err) => {
    if (err instanceof Reported) return;
    failed += 1;
    console.log(`  ✗ ${err instanceof Error ? err.message : String(err)}`);
  })
  .finally(() => {
    killChildren();
    // exactly `<word>: N passed, N failed`, the summary line CI parses
    console.log(`smoke: ${passed} passed, ${failed} failed`);
    if (failed === 0) fs.rmSync(dataDir, { recursive: true, force: true });
    else console.log(`data kept for inspection: ${dataDir}`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  });
