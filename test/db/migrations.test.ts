import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { migrateLatest, pgErrorCode, rollbackAll, type Db } from '../../src/db';
import { withCheckChar } from '../../src/identity/credit-code';
import { createFreshDatabase } from '../support/env';

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** Every table the migrations create. */
const PLATFORM_TABLES = [
  'organisations',
  'users',
  'certificates',
  'platform_keys',
  'login_challenges',
  'revoked_tokens',
  'audit_events',
  'audit_checkpoints',
  'tenders',
  'sections',
  'tender_documents',
  'clarifications',
  'tender_custodians',
  'outbox',
  'opening_keys',
  'opening_key_shares',
  'bid_uploads',
  'bids',
  'live_events',
  'openings',
  'opening_sign_ins',
  'bid_decryptions',
  'opening_confirmations',
  'opening_objections',
  'evaluations',
  'candidates',
  'publicities',
  'publicity_objections',
  'awards',
  'contracts',
  'alerts',
  'alert_dispositions',
  'monitoring_cursors',
  'deposit_accounts',
  'deposit_credits',
  'bank_notification_nonces',
  'deposit_releases',
  'refunds',
  'calendar_years',
  'calendar_days',
].sort();

/** knex's own bookkeeping, which survives a full rollback. */
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];

async function publicTables(db: Db): Promise<string[]> {
  const rows: Array<{ table_name: string }> = await db('information_schema.tables')
    .select('table_name')
    .where({ table_schema: 'public', table_type: 'BASE TABLE' });
  return rows.map((r) => r.table_name).sort();
}

async function auditTriggers(db: Db): Promise<string[]> {
  const { rows } = await db.raw(`
    SELECT t.tgname FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname = 'audit_events' AND NOT t.tgisinternal
     ORDER BY t.tgname`);
  return (rows as Array<{ tgname: string }>).map((r) => r.tgname);
}

async function functionExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await db.raw(
    `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname = ?`,
    [name],
  );
  return rows.length > 0;
}

async function sequenceExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await db.raw(`SELECT 1 FROM pg_class WHERE relkind = 'S' AND relname = ?`, [name]);
  return rows.length > 0;
}

function migrationFiles(): string[] {
  return fs.readdirSync(MIGRATIONS_DIR).sort();
}

describe('db: migrations', function () {
  describe('on a fresh database', function () {
    let db: Db;

    before(async function () {
      ({ db } = await createFreshDatabase('migrations'));
    });
    after(async function () {
      await db?.destroy();
    });

    it('when every migration is applied, then every platform table exists and knex records each file', async function () {
      const applied = await migrateLatest(db);
      assert.deepEqual(applied, migrationFiles(), 'every file in migrations/ is applied, in name order');
      assert.deepEqual(await publicTables(db), [...KNEX_TABLES, ...PLATFORM_TABLES].sort());
      const recorded: Array<{ name: string }> = await db('knex_migrations').select('name').orderBy('id');
      assert.deepEqual(recorded.map((r) => r.name), migrationFiles());
      assert.ok(await sequenceExists(db, 'tender_code_seq'), 'the tender code sequence exists');
    });

    it('when the migrations are applied, then audit_events carries its append-only triggers and they refuse UPDATE, DELETE and TRUNCATE', async function () {
      assert.deepEqual(await auditTriggers(db), ['audit_events_no_truncate', 'audit_events_no_update_delete']);
      assert.ok(await functionExists(db, 'audit_events_append_only'));

      await db('audit_events').insert({
        seq: 1,
        occurred_at: new Date('2026-11-23T01:00:00Z'),
        action: 'test.migrations',
        prev_hash: '0'.repeat(64),
        hash: 'a'.repeat(64),
      });
      for (const attempt of [
        () => db('audit_events').where({ seq: 1 }).update({ action: 'forged' }),
        () => db('audit_events').where({ seq: 1 }).delete(),
        () => db.raw('TRUNCATE audit_events'),
      ]) {
        await assert.rejects(attempt(), (err: unknown) => {
          assert.equal(pgErrorCode(err), '42501', 'insufficient_privilege');
          assert.match(String((err as Error).message), /append-only/);
          return true;
        });
      }
      const [row] = await db('audit_events').where({ seq: 1 });
      assert.equal(row.action, 'test.migrations', 'the row is unchanged');
    });

    it('when every migration is rolled back, then only knex bookkeeping remains: no table, trigger function or sequence', async function () {
      await rollbackAll(db);
      assert.deepEqual(await publicTables(db), KNEX_TABLES);
      const [{ n }] = await db('knex_migrations').count({ n: '*' });
      assert.equal(Number(n), 0, 'no migration is recorded as applied');
      assert.equal(await functionExists(db, 'audit_events_append_only'), false);
      assert.equal(await sequenceExists(db, 'tender_code_seq'), false);
    });

    it('when the migrations are applied again after a full rollback, then the tables are back and rows can be written', async function () {
      const applied = await migrateLatest(db);
      assert.deepEqual(applied, migrationFiles());
      assert.deepEqual(await publicTables(db), [...KNEX_TABLES, ...PLATFORM_TABLES].sort());
      assert.deepEqual(await auditTriggers(db), ['audit_events_no_truncate', 'audit_events_no_update_delete']);

      const creditCode = withCheckChar('91610100MA6U00001');
      const [org] = await db('organisations')
        .insert({ type: 'agency', name: '迁移测试招标代理有限公司', credit_code: creditCode })
        .returning(['id', 'status', 'created_at']);
      assert.match(org.id, /^[0-9a-f-]{36}$/, 'a uuid from gen_random_uuid()');
      assert.equal(org.status, 'active', 'the default status');
      assert.ok(org.created_at instanceof Date);
      const [{ nextval }] = (await db.raw(`SELECT nextval('tender_code_seq') AS nextval`)).rows;
      assert.equal(Number(nextval), 1, 'the sequence was recreated from its start');

      // the constraints came back too
      await assert.rejects(
        db('organisations').insert({ type: 'agency', name: '重复', credit_code: creditCode }),
        (err: unknown) => pgErrorCode(err) === '23505',
      );
      await assert.rejects(
        db('organisations').insert({ type: 'pirate', name: '非法类型', credit_code: withCheckChar('91610100MA6U00002') }),
        (err: unknown) => pgErrorCode(err) === '23514',
      );
    });
  });

  describe('the migration files', function () {
    it('when listed, then every file is named YYYYMMDDHHMMSS_snake_case.ts with a real timestamp, none twice', function () {
      const files = migrationFiles();
      assert.ok(files.length >= 4, `expected the migrations, found ${files.join(', ')}`);
      const stamps = new Set<string>();
      for (const file of files) {
        const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})_([a-z0-9]+(?:_[a-z0-9]+)*)\.ts$/.exec(file);
        assert.ok(m, `${file} is not named YYYYMMDDHHMMSS_snake_case.ts (it would be skipped silently)`);
        const [, y, mo, d, h, mi, s] = m.map(Number);
        const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
        assert.ok(
          at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d &&
            at.getUTCHours() === h && at.getUTCMinutes() === mi && at.getUTCSeconds() === s,
          `${file} does not start with a real date and time`,
        );
        const stamp = file.slice(0, 14);
        assert.ok(!stamps.has(stamp), `two migrations share the timestamp ${stamp}`);
        stamps.add(stamp);
      }
    });

    it('when imported, then every migration exports both up and down', async function () {
      for (const file of migrationFiles()) {
        const mod = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as Record<string, unknown>;
        assert.equal(typeof mod.up, 'function', `${file} exports up`);
        assert.equal(typeof mod.down, 'function', `${file} exports down`);
      }
    });
  });
});
