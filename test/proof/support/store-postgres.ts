/**
 * A private PostgreSQL for the fault proofs: initdb in a temporary directory, the server on a free loopback port with
 * its socket in that directory, restarted or crashed at will, removed at the end. The shared server on 5432 is never
 * touched. initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import knexFactory from 'knex';
import { freePort } from './store-ports';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** A URL for another database of this server. */
  urlOf(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Restarts the server. 'fast' is an orderly restart (clients are disconnected, the checkpoint written); 'immediate'
   * is a crash (no checkpoint: the next start replays the WAL). `downMs` keeps it stopped that long in between.
   */
  restart(mode: 'fast' | 'immediate', downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/** Runs a server binary, as the postgres OS user when this process is root. */
function pgTool(tool: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const bin = path.join(binDir(), tool);
  const asRoot = process.getuid?.() === 0;
  return asRoot ? run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: 60_000 }) : run(bin, args, { timeout: 60_000 });
}

function osUserIds(name: string): { uid: number; gid: number } | null {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-pg-'));
  if (process.getuid?.() === 0) {
    const ids = osUserIds('postgres');
    if (!ids) throw new Error('running as root but there is no postgres OS user to run the server as');
    fs.chownSync(dir, ids.uid, ids.gid);
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  await pgTool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  // small and quick: this server holds a few test databases and is crashed on purpose
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=32MB -c max_connections=60`;
  const start = () => pgTool('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stopWith = (mode: 'fast' | 'immediate') => pgTool('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  await start();
  let running = true;
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;

  return {
    url: urlOf('postgres'),
    urlOf,
    async createDatabase(name) {
      const admin = knexFactory({ client: 'pg', connection: urlOf('postgres'), pool: { min: 0, max: 1 } });
      try {
        await admin.raw('CREATE DATABASE ??', [name]);
      } finally {
        await admin.destroy();
      }
      return urlOf(name);
    },
    async restart(mode, downMs = 0) {
      await stopWith(mode);
      running = false;
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
      running = true;
    },
    async stop() {
      if (running) await stopWith('immediate').catch(() => undefined);
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
