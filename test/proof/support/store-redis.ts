/**
 * A private Redis for the fault proofs: `redis-server` as a child on a free loopback port, with no persistence, so a
 * restart (kill and start again on the same port) is also a flush — it comes back empty, as a Redis without AOF or
 * snapshots does after a crash. The shared Redis on 6379 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { Redis } from 'ioredis';
import { freePort } from './store-ports';

const START_TIMEOUT_MS = 15_000;

export interface PrivateRedis {
  readonly url: string;
  /** Kills the server (SIGKILL) and starts it again, empty, on the same port; `downMs` keeps it down that long. */
  restart(downMs?: number): Promise<void>;
  /** FLUSHALL on the running server: every key gone while clients stay connected. */
  flushAll(): Promise<void>;
  /** How many keys the server holds. */
  dbSize(): Promise<number>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => c.once('exit', () => resolve()));
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  async function spawnServer(): Promise<void> {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(c);
    c.once('exit', () => children.delete(c));
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms:\n${output.join('\n')}`)), START_TIMEOUT_MS);
      readline.createInterface({ input: c.stdout! }).on('line', (line) => {
        output.push(line);
        if (output.length > 50) output.shift();
        if (/Ready to accept connections/.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${signal ?? code}) before it was ready:\n${output.join('\n')}`));
      });
    });
    child = c;
  }

  async function kill(): Promise<void> {
    const c = child;
    child = null;
    if (!c) return;
    c.kill('SIGKILL');
    await exited(c);
  }

  async function command<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  await spawnServer();
  return {
    url,
    async restart(downMs = 0) {
      await kill();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await spawnServer();
    },
    flushAll: () => command(async (r) => void (await r.flushall())),
    dbSize: () => command((r) => r.dbsize()),
    stop: kill,
  };
}
