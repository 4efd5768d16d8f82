import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { buildApp } from '../../src/app';
import { runAuditVerify } from '../../src/cli/audit-verify';
import { loadConfig, type Config } from '../../src/config';
import { createContext } from '../../src/context';
import { createDb, type Db, type Trx } from '../../src/db';
import { ControllableClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { ADMIN_PASSWORD, createTestApp, T0, type TestApp } from '../support/app';
import { usingRealPostgres } from '../support/env';
import { bearer, createMember, createOrganisation } from '../support/factories';
import { runScript } from '../support/run-script';


/** Some state-changing requests, so the chain has a body to tamper with. Returns the head seq. */
async function buildChain(t: TestApp): Promise<number> {
  const agency = await createMember(t, 'agency');
  await createOrganisation(t, 'bidder');
  await createOrganisation(t, 'regulator');
  await t.http.post('/api/v1/auth/logout').set(bearer(agency.token)).expect(204);
  return headSeq(t.ctx.db);
}

async function headSeq(db: Db): Promise<number> {
  const row = await db('audit_events').max({ seq: 'seq' }).first();
  return Number(row!.seq);
}

async function eventAt(db: Db, seq: number): Promise<{ seq: number; hash: string; prevHash: string; payload: Record<string, unknown> }> {
  const row = await db('audit_events').where({ seq }).first();
  assert.ok(row, `no event at seq ${seq}`);
  return { seq: Number(row.seq), hash: String(row.hash).trim(), prevHash: String(row.prev_hash).trim(), payload: row.payload };
}

/**
 * What an attacker with superuser rights could do: with session_replication_role = replica, ordinary triggers
 * (the append-only one included) do not fire. SET LOCAL ends with the transaction, so the protection is back after.
 */
async function asSuperuser(db: Db, fn: (trx: Trx) => Promise<void>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('SET LOCAL session_replication_role = replica');
    await fn(trx);
  });
}

async function alterPayload(db: Db, seq: number): Promise<void> {
  const before = await eventAt(db, seq);
  await asSuperuser(db, async (trx) => {
    await trx('audit_events').where({ seq }).update({ payload: JSON.stringify({ ...before.payload, forged: '篡改' }) });
  });
}

async function deleteEvent(db: Db, seq: number): Promise<void> {
  await asSuperuser(db, async (trx) => {
    await trx('audit_events').where({ seq }).delete();
  });
}

async function swapEvents(db: Db, a: number, b: number): Promise<void> {
  await asSuperuser(db, async (trx) => {
    await trx('audit_events').where({ seq: a }).update({ seq: -a });
    await trx('audit_events').where({ seq: b }).update({ seq: a });
    await trx('audit_events').where({ seq: -a }).update({ seq: b });
  });
}

async function verify(db: Db) {
  const lines: string[] = [];
  const outcome = await runAuditVerify(db, (line) => lines.push(line));
  return { ...outcome, lines, text: lines.join('\n') };
}

async function assertAppendOnlyAgain(db: Db): Promise<void> {
  await assert.rejects(db('audit_events').where({ seq: 1 }).update({ action: 'forged' }), /append-only/);
}

describe('cli: audit:verify', () => {
  describe('on an untouched chain', () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp('audit-ok');
      await buildChain(t);
    });
    after(() => t.close());

    it('when every event is as written, then it reports the chain intact with its head and exits 0', async () => {
      const head = await eventAt(t.ctx.db, await headSeq(t.ctx.db));
      const { exitCode, result, lines } = await verify(t.ctx.db);
      assert.equal(exitCode, 0);
      assert.equal(result.ok, true);
      assert.equal(result.checked, head.seq);
      assert.equal(result.headSeq, head.seq);
      assert.equal(result.headHash, head.hash);
      assert.equal(
        lines.at(-1),
        `审计链完整 (audit chain intact): ${head.seq} events, head seq ${head.seq}, head hash ${head.hash}`,
      );
      assert.match(lines[0], /已校验 \d+ 条事件/, 'progress is printed after each page');
    });

    it('when --json is asked for, then exactly one JSON object is printed and no progress', async () => {
      const lines: string[] = [];
      const { exitCode } = await runAuditVerify(t.ctx.db, (line) => lines.push(line), { json: true });
      assert.equal(exitCode, 0);
      assert.equal(lines.length, 1);
      const parsed = JSON.parse(lines[0]);
      assert.equal(parsed.ok, true);
      assert.equal(parsed.firstBroken, null);
      assert.equal(parsed.headSeq, await headSeq(t.ctx.db));
    });
  });

  describe('on a chain a superuser tampered with', () => {
    let t: TestApp;
    afterEach(() => t?.close());

    it('when one event\'s payload is altered, then HASH_MISMATCH names exactly that seq and it exits 1', async () => {
      t = await createTestApp('audit-alter');
      const head = await buildChain(t);
      const k = Math.floor(head / 2);
      const original = await eventAt(t.ctx.db, k);
      await alterPayload(t.ctx.db, k);
      await assertAppendOnlyAgain(t.ctx.db);

      const { exitCode, result, lines, text } = await verify(t.ctx.db);
      assert.equal(exitCode, 1);
      assert.equal(result.ok, false);
      assert.equal(result.firstBroken!.seq, k);
      assert.equal(result.firstBroken!.problem, 'HASH_MISMATCH');
      assert.equal(result.firstBroken!.found, original.hash, 'found: the hash stored in the row');
      assert.match(result.firstBroken!.expected, /^[0-9a-f]{64}$/);
      assert.notEqual(result.firstBroken!.expected, original.hash);
      assert.equal(result.checked, k - 1);
      assert.equal(result.headSeq, k - 1, 'the last good event is the one before');
      assert.ok(
        lines.includes(
          `审计链在第 ${k} 条事件处断裂 (chain broken at seq ${k}): HASH_MISMATCH — expected ${result.firstBroken!.expected} found ${original.hash}`,
        ),
        text,
      );
    });

    it('when one event is deleted, then SEQ_GAP names the seq where the missing one was expected and it exits 1', async () => {
      t = await createTestApp('audit-delete');
      const head = await buildChain(t);
      const k = Math.floor(head / 2);
      await deleteEvent(t.ctx.db, k);
      await assertAppendOnlyAgain(t.ctx.db);

      const { exitCode, result, lines, text } = await verify(t.ctx.db);
      assert.equal(exitCode, 1);
      assert.deepEqual(result.firstBroken, { seq: k + 1, problem: 'SEQ_GAP', expected: String(k), found: String(k + 1) });
      assert.equal(result.headSeq, k - 1);
      assert.ok(lines.includes(`审计链在第 ${k + 1} 条事件处断裂 (chain broken at seq ${k + 1}): SEQ_GAP — expected ${k} found ${k + 1}`), text);
    });

    it('when two events swap their seq, then PREV_HASH_MISMATCH names the first of them and it exits 1', async () => {
      t = await createTestApp('audit-swap');
      const head = await buildChain(t);
      const k = Math.floor(head / 2);
      const before = await eventAt(t.ctx.db, k - 1);
      const a = await eventAt(t.ctx.db, k);
      await swapEvents(t.ctx.db, k, k + 1);
      await assertAppendOnlyAgain(t.ctx.db);

      const { exitCode, result, lines, text } = await verify(t.ctx.db);
      assert.equal(exitCode, 1);
      // at position k now sits the event that was k+1: its prev_hash names the old k, not k-1
      assert.deepEqual(result.firstBroken, { seq: k, problem: 'PREV_HASH_MISMATCH', expected: before.hash, found: a.hash });
      assert.ok(
        lines.includes(`审计链在第 ${k} 条事件处断裂 (chain broken at seq ${k}): PREV_HASH_MISMATCH — expected ${before.hash} found ${a.hash}`),
        text,
      );
    });
  });

  describe("the application's own connection", () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp('audit-append-only');
      await buildChain(t);
    });
    after(() => t.close());

    it('when it tries UPDATE, DELETE or TRUNCATE on audit_events, then each is refused as append-only and nothing changes', async () => {
      const count = async () => Number((await t.ctx.db('audit_events').count({ n: '*' }).first())!.n);
      const n = await count();
      const first = await eventAt(t.ctx.db, 1);
      await assert.rejects(t.ctx.db('audit_events').where({ seq: 1 }).update({ payload: JSON.stringify({ forged: true }) }), /append-only \(EB 49\): UPDATE refused/);
      await assert.rejects(t.ctx.db('audit_events').where({ seq: 1 }).delete(), /append-only \(EB 49\): DELETE refused/);
      await assert.rejects(t.ctx.db.raw('TRUNCATE audit_events'), /append-only \(EB 49\): TRUNCATE refused/);
      assert.equal(await count(), n);
      assert.deepEqual(await eventAt(t.ctx.db, 1), first);
      assert.equal((await verify(t.ctx.db)).exitCode, 0);
    });
  });

  describe('the command itself, as a subprocess', () => {
    /** A database the subprocess can reach: the test database on PostgreSQL, or a file-backed PGlite directory. */
    let target: { env: NodeJS.ProcessEnv; db: () => Db; release: (db: Db) => Promise<void>; cleanup: () => Promise<void> };
    let head: number;

    before(async function () {
      this.timeout(120_000);
      const baseEnv = { ...process.env };
      delete baseEnv.DATABASE_URL;
      delete baseEnv.REDIS_URL;
      delete baseEnv.DATA_DIR;
      if (usingRealPostgres()) {
        const t = await createTestApp('audit-cli');
        head = await buildChain(t);
        target = {
          env: { ...baseEnv, DATABASE_URL: t.ctx.config.database.url },
          db: () => t.ctx.db,
          release: async () => undefined,
          cleanup: () => t.close(),
        };
      } else {
        // PGlite in memory is invisible to another process: build a chain in a directory of its own.
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-audit-cli-'));
        const config: Config = loadConfig({
          NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', BLOB_DIR: '',
          ADMIN_PASSWORD, CLOCK: 'controllable', RUN_JOBS_IN_API: 'false',
        });
        const clock = new ControllableClock();
        clock.freeze(T0);
        const ctx = await createContext(config, { clock, logger: createLogger('silent') });
        const app = buildApp(ctx);
        const t: TestApp = { ctx, app, http: supertest(app), clock, blobDir: config.blobDir, close: () => ctx.close() };
        head = await buildChain(t);
        await ctx.close();
        target = {
          env: { ...baseEnv, DATA_DIR: dataDir },
          db: () => createDb(config),
          release: (db) => db.destroy(),
          cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
        };
      }
    });
    after(() => target?.cleanup());

    function runCli(args: string[]) {
      return runScript('src/cli/audit-verify.ts', args, { env: target.env });
    }

    it('when the chain is intact, then `npx tsx src/cli/audit-verify.ts` prints the verdict and exits 0', async function () {
      this.timeout(90_000);
      const { code, stdout, stderr } = await runCli([]);
      assert.equal(code, 0, stdout + stderr);
      assert.match(stdout, new RegExp(`审计链完整 \\(audit chain intact\\): ${head} events, head seq ${head}, head hash [0-9a-f]{64}\\n`));
    });

    it('when an event was altered, then the command names the seq and exits 1 (also with --json)', async function () {
      this.timeout(120_000);
      const k = Math.floor(head / 2);
      const db = target.db();
      try {
        await alterPayload(db, k);
      } finally {
        await target.release(db);
      }
      const text = await runCli([]);
      assert.equal(text.code, 1, text.stdout + text.stderr);
      assert.match(text.stdout, new RegExp(`审计链在第 ${k} 条事件处断裂 \\(chain broken at seq ${k}\\): HASH_MISMATCH — expected [0-9a-f]{64} found [0-9a-f]{64}`));

      const json = await runCli(['--json']);
      assert.equal(json.code, 1, json.stdout + json.stderr);
      const parsed = JSON.parse(json.stdout.trim());
      assert.equal(parsed.ok, false);
      assert.equal(parsed.firstBroken.seq, k);
      assert.equal(parsed.firstBroken.problem, 'HASH_MISMATCH');
    });
  });
});
