/**
 * `npm run migrate` — apply every pending migration to the configured database (DATABASE_URL, or the embedded
 * PGlite database in DATA_DIR/pglite).
 *   npm run migrate                      apply what is pending, print what was applied
 *   npm run migrate -- --status          list applied and pending migrations, change nothing
 *   npm run migrate -- --down-all        roll every migration back (refused in production without --force)
 * With the embedded database, stop the server first: PGlite is a single-process database.
 */
import { Command } from 'commander';
import { loadConfig, type Config } from '../config';
import { createDb, migrateLatest, migrationConfig, rollbackAll, type Db } from '../db';
import { runIfEntryPoint } from './entry';

type Out = (line: string) => void;

interface MigrateOptions {
  downAll?: boolean;
  status?: boolean;
  force?: boolean;
}

function describeTarget(config: Config): string {
  if (config.database.url) {
    const u = new URL(config.database.url);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  }
  return `PGlite (embedded) ${config.database.embeddedDir}`;
}

async function listMigrations(db: Db): Promise<{ applied: string[]; pending: string[] }> {
  const [completed, pending] = (await db.migrate.list(migrationConfig)) as [Array<{ name: string } | string>, string[]];
  return {
    applied: completed.map((m) => (typeof m === 'string' ? m : m.name)),
    pending: pending.map((m) => String(m)),
  };
}

/** Runs one migrate command against `db`; returns the process exit code. */
export async function runMigrate(db: Db, opts: MigrateOptions, out: Out, env: Config['env'] = 'development'): Promise<number> {
  if (opts.downAll && opts.status) {
    out('--down-all 与 --status 不能同时使用 (choose one of --down-all and --status)');
    return 2;
  }
  if (opts.status) {
    const { applied, pending } = await listMigrations(db);
    out(`已应用 (applied): ${applied.length}`);
    for (const name of applied) out(`  ✓ ${name}`);
    out(`待应用 (pending): ${pending.length}`);
    for (const name of pending) out(`  · ${name}`);
    return 0;
  }
  if (opts.downAll) {
    if (env === 'production' && !opts.force) {
      out('生产环境拒绝回滚全部迁移：这会删除全部数据，包括审计链。确需执行请加 --force');
      out('(refused in production: rolling everything back drops all data, the audit chain included; add --force if you mean it)');
      return 2;
    }
    const before = (await listMigrations(db)).applied;
    await rollbackAll(db);
    const after = new Set((await listMigrations(db)).applied);
    const rolledBack = before.filter((name) => !after.has(name)).reverse();
    if (rolledBack.length === 0) out('没有可回滚的迁移 (nothing to roll back)');
    else {
      out(`已回滚 ${rolledBack.length} 个迁移 (rolled back ${rolledBack.length}):`);
      for (const name of rolledBack) out(`  ↓ ${name}`);
    }
    return 0;
  }
  const applied = await migrateLatest(db);
  if (applied.length === 0) out('数据库已是最新，无待应用的迁移 (already up to date)');
  else {
    out(`已应用 ${applied.length} 个迁移 (applied ${applied.length}):`);
    for (const name of applied) out(`  ↑ ${name}`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('migrate')
    .description('数据库迁移 (database migrations): applies pending migrations by default')
    .option('--status', '列出已应用与待应用的迁移 (list applied and pending migrations)')
    .option('--down-all', '回滚全部迁移，删除全部数据 (roll back every migration: drops all data)')
    .option('--force', '生产环境下确认 --down-all (confirm --down-all in production)')
    .addHelpText('after', '\n使用内嵌数据库时请先停止服务器 (with the embedded database, stop the server first).')
    .parse(argv);
  const opts = program.opts<MigrateOptions>();
  const config = loadConfig();
  const out: Out = (line) => console.log(line);
  out(`数据库 (database): ${describeTarget(config)}`);
  const db = createDb(config);
  try {
    return await runMigrate(db, opts, out, config.env);
  } finally {
    await db.destroy();
  }
}

runIfEntryPoint(import.meta.url, main, '迁移失败 (migration failed)');
