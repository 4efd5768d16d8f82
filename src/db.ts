/**
 * The database: PostgreSQL through knex/pg when DATABASE_URL is set, otherwise embedded PGlite (real Postgres in
 * WebAssembly) persisted under DATA_DIR. Same migrations, same queries: one code path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import type { Config } from './config';

export type Db = Knex;
export type Trx = Knex.Transaction;
/** A query runner: the database itself or a transaction. Repositories accept either. */
export type Runner = Knex | Knex.Transaction;

// int8 (counts, sequence numbers, amounts in fen) as JS numbers, as PGlite returns them: amounts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export function createDb(config: Pick<Config, 'database'>): Db {
  if (config.database.url) {
    return knexFactory({
      client: 'pg',
      connection: config.database.url,
      pool: { min: 0, max: config.database.poolMax },
    });
  }
  const dir = config.database.embeddedDir;
  const connection = dir === ':memory:' ? {} : { filename: ensureDir(dir) };
  // knex-pglite ships no types for its client class; knex accepts any Client subclass here.
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: 'postgres', connection } as Knex.Config);
}

export function isEmbedded(db: Db): boolean {
  return db.client.config.client !== 'pg';
}

function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** Loads `migrations/*.ts` by import, so the same files run under tsx in dev, tests and production. */
class TsMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(migrationsDir)
      .filter((f) => /^\d{14}_[a-z0-9_]+\.ts$/.test(f))
      .sort();
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    return import(pathToFileURL(path.join(migrationsDir, name)).href);
  }
}

export const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new TsMigrationSource(),
  tableName: 'knex_migrations',
};

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = await db.migrate.latest(migrationConfig);
  return applied as string[];
}

export async function rollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback(migrationConfig, true);
}

/** Postgres error codes the repositories translate into domain errors. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

export function pgErrorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
