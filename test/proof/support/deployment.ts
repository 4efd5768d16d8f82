/**
 * A deployment as an operator runs one: API processes (`src/server.ts`, RUN_JOBS_IN_API=false) and worker processes
 * (`src/worker.ts`) as real child processes, configured through the environment only, on one fresh PostgreSQL
 * database, one Redis prefix and one blob directory. Processes can be SIGKILLed and started again on the same
 * settings (an API keeps its port, so the proxy in front finds it again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ADMIN_PASSWORD } from '../../support/app';
import { repoRoot } from '../../support/run-script';
import { createMigratedDatabase, redisPrefix, testBaseConfig } from '../../support/env';
import { pollUntil } from '../../support/poll';
import type { Db } from '../../../src/db';

export type Role = 'api' | 'worker';

export interface PlatformProcess {
  name: string;
  role: Role;
  port: number | null;
  child: ChildProcess;
  /** How many times this process was started (1 = never restarted). */
  starts: number;
  /** The last lines it wrote, shown when something fails. */
  tail: string[];
}

export interface Deployment {
  db: Db;
  prefix: string;
  blobDir: string;
  apis: PlatformProcess[];
  workers: PlatformProcess[];
  apiUrl(i: number): string;
  kill(p: PlatformProcess): Promise<void>;
  restart(p: PlatformProcess): Promise<void>;
  stop(): Promise<void>;
}

const READY_MS = 120_000;

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** Two APIs and two workers by default. Needs DATABASE_URL and REDIS_URL (the proof runs on real services). */
export async function startDeployment(label: string, opts: { apis?: number; workers?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Deployment> {
  const base = testBaseConfig();
  if (!base.database.url || !base.redis.url) throw new Error('the scale-out proof needs DATABASE_URL and REDIS_URL');
  // migrated once here, as `npm run migrate` before a rollout; the processes then start without racing on it
  const { config, db } = await createMigratedDatabase(label);
  const prefix = redisPrefix(label);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `gz-proof-${label}-`));
  const blobDir = path.join(dataDir, 'blobs');
  fs.mkdirSync(blobDir);
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    CLOCK: 'controllable',
    DATABASE_URL: config.database.url,
    DATABASE_POOL_MAX: '6',
    REDIS_URL: base.redis.url,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    BLOB_DIR: blobDir,
    ADMIN_PASSWORD,
    RUN_JOBS_IN_API: 'false',
    OUTBOX_POLL_MS: '200',
    OUTBOX_SWEEP_SECONDS: '5',
    // a session lives through the opening's half-hour steps; the deadline's 30-day jump still needs a new login
    TOKEN_TTL_SECONDS: '7200',
    // the proof's single operator registers every organisation and user: more logins per account than a person makes
    LOGIN_LIMIT_PER_ACCOUNT: '100000',
    UPLOAD_LIMIT_PER_BIDDER: '100000',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };

  const procs: PlatformProcess[] = [];
  const apis: PlatformProcess[] = [];
  const workers: PlatformProcess[] = [];
  for (let i = 0; i < (opts.apis ?? 2); i++) apis.push({ name: `api-${i + 1}`, role: 'api', port: await freePort(), child: null!, starts: 0, tail: [] });
  for (let i = 0; i < (opts.workers ?? 2); i++) workers.push({ name: `worker-${i + 1}`, role: 'worker', port: null, child: null!, starts: 0, tail: [] });
  procs.push(...apis, ...workers);

  const launch = async (p: PlatformProcess) => {
    const script = p.role === 'api' ? 'src/server.ts' : 'src/worker.ts';
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      // the worker says it started at info level; the APIs are asked over HTTP
      env: { ...process.env, ...env, ...(p.port ? { PORT: String(p.port) } : {}), ...(p.role === 'worker' ? { LOG_LEVEL: 'info' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.child = child;
    p.starts += 1;
    let workerStarted = false;
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (line.includes('"worker started"')) workerStarted = true;
        p.tail.push(line);
        if (p.tail.length > 50) p.tail.shift();
      });
    }
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    await pollUntil(`${p.name} to be ready`, async () => {
      if (exited()) throw new Error(`${p.name} exited at start (code ${child.exitCode}):\n${p.tail.join('\n')}`);
      if (p.role === 'worker') return workerStarted;
      try {
        const res = await fetch(`http://127.0.0.1:${p.port}/health`);
        return res.status === 200;
      } catch {
        return false;
      }
    }, { timeoutMs: READY_MS, intervalMs: 100 });
  };

  const kill = async (p: PlatformProcess) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    const gone = once(p.child, 'exit');
    p.child.kill('SIGKILL');
    await gone;
  };

  try {
    // the first API creates the operator; then the others, in parallel
    await launch(apis[0]!);
    await Promise.all(procs.slice(1).map(launch));
  } catch (err) {
    await Promise.all(procs.filter((p) => p.child).map(kill));
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    db,
    prefix,
    blobDir,
    apis,
    workers,
    apiUrl: (i) => `http://127.0.0.1:${apis[i]!.port}`,
    kill,
    async restart(p) {
      await kill(p);
      await launch(p);
    },
    async stop() {
      await Promise.all(
        procs.map(async (p) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return;
          const gone = once(p.child, 'exit');
          p.child.kill('SIGTERM');
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
          await gone;
          clearTimeout(timer);
        }),
      );
      await db.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
