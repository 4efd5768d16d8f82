/**
 * Runs a benchmark server in a child process, so its memory and CPU are its own (and it gets a core of its own),
 * and reads the one JSON line it prints when it is ready. The child stops when its stdin closes, which also happens
 * when this process dies.
 *
 * BENCH_SERVER_NODE_ARGS adds node options to the child only, for investigating a figure, e.g.
 * `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=test-output/profiles" npm run bench` (the profile is written
 * when the child exits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { onExitCleanup } from './cleanup';

export interface ServerProcess<T> {
  child: ChildProcess;
  pid: number;
  info: T;
  /** Closes the child's stdin and waits for it to exit; SIGTERM, then SIGKILL, if it takes too long. */
  stop(): Promise<void>;
}

export async function startServerProcess<T>(
  script: string,
  opts: { cwd: string; readyTimeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<ServerProcess<T>> {
  const extraArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...extraArgs, '--import', 'tsx', script], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // if this process leaves abruptly, the child still shuts down cleanly (and removes its temp directories)
  const unregister = onExitCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const exited = once(child, 'exit').then(
    () => unregister(),
    () => unregister(), // 'error' (the child could not be spawned): reported by the ready wait below
  );

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    const waitExit = (ms: number) =>
      Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref())]);
    if (await waitExit(20_000)) return;
    child.kill('SIGTERM');
    if (await waitExit(5_000)) return;
    child.kill('SIGKILL');
    await exited;
  };

  try {
    const info = await new Promise<T>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      const timer = setTimeout(
        () => reject(new Error(`${script} printed no ready line within ${opts.readyTimeoutMs ?? 120_000} ms`)),
        opts.readyTimeoutMs ?? 120_000,
      );
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`${script} exited before it was ready (code ${code}, signal ${signal})`));
      child.once('exit', onExit);
      child.once('error', reject);
      let ready = false;
      lines.on('line', (line) => {
        let parsed: unknown;
        try {
          parsed = ready ? undefined : JSON.parse(line);
        } catch {
          // not the ready line: diagnostics (e.g. --trace-gc) go to stderr
        }
        if (ready || parsed === null || typeof parsed !== 'object') {
          process.stderr.write(`[server] ${line}\n`);
          return;
        }
        ready = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(parsed as T);
      });
    });
    return { child, pid: child.pid!, info, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
