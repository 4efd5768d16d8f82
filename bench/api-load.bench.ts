/**
 * API load: tender listing and detail at a fixed 500 requests/s for 30 s, while the audit chain keeps growing.
 *
 * Workload: the platform in a child process (bench/support/load-server.ts) with LOAD_TENDERS published tenders
 * (default 200; env). autocannon runs in ANOTHER child (bench/support/load-client.ts) at an overall rate of 500
 * requests/s (LOAD_RATE) for 30 s (LOAD_SECONDS; `--size-mib` is not used) over 50 keep-alive connections, as a
 * bidder: GET /api/v1/tenders (half the requests, 3 pages of the listing) and GET /api/v1/tenders/:id of a random
 * tender (the other half). Throughout, this process makes an audited change every 50 ms: the agency issues a
 * clarification on one of its tenders (one audit record each, more if it moves the deadline). Afterwards the audit
 * chain is verified (AuditService.verify through the server's control port).
 *
 * Baseline, measured in the same run just before: the same rate and duration on GET /api/v1/time (public, no
 * database), on the same server — what the HTTP stack, autocannon and this machine cost on their own.
 *
 * Figures (targets): p99 latency of the tender requests (≤ 50 ms, absolute; ratio to the baseline's p99: info),
 * errors + non-2xx answers (0), achieved rate (≥ 95% of the asked rate), audit records appended during the load
 * (> 0) and the chain verified after it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onExitCleanup } from './support/cleanup';
import type { LoadServerInfo } from './support/load-server';
import { round } from './support/data';
import { startServerProcess, type ServerProcess } from './support/server-process';
import type { BenchOptions, BenchResult } from './support/types';

const P99_TARGET_MS = 50;
const RATE_SHARE_TARGET = 0.95;
const CONNECTIONS = 50;
const AUDIT_EVERY_MS = 50;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface LoadResult {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p99: number; max: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
  '2xx': number;
}

/** One autocannon run in its own process. */
function runLoad(task: { url: string; token: string; paths: string[]; rate: number; durationSeconds: number; connections: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/load-client.ts'], {
      cwd: projectRoot,
      env: { ...process.env, LOAD_TASK: JSON.stringify(task) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const unregister = onExitCleanup(() => child.kill('SIGTERM'));
    let result: LoadResult | undefined;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        result = JSON.parse(line) as LoadResult;
      } catch {
        process.stderr.write(`[load-client] ${line}\n`);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      unregister();
      if (result) resolve(result);
      else reject(new Error(`the load client exited (code ${code}) without a result`));
    });
  });
}

async function auditState(controlPort: number): Promise<{ ok: boolean; checked: number; headSeq: number | null }> {
  const res = await fetch(`http://127.0.0.1:${controlPort}/audit`);
  if (res.status !== 200) throw new Error(`verifying the audit chain answered HTTP ${res.status}`);
  return (await res.json()) as { ok: boolean; checked: number; headSeq: number | null };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const log = opts.log;
  const rate = Number(process.env.LOAD_RATE ?? 500);
  const seconds = Number(process.env.LOAD_SECONDS ?? 30);
  const tenders = Number(process.env.LOAD_TENDERS ?? 200);
  let server: ServerProcess<LoadServerInfo> | undefined;
  try {
    log(`starting the platform with ${tenders} published tenders`);
    server = await startServerProcess<LoadServerInfo>('bench/support/load-server.ts', {
      cwd: projectRoot,
      readyTimeoutMs: 30 * 60_000,
      env: { LOAD_TENDERS: String(tenders) },
    });
    const info = server.info;
    const url = `http://127.0.0.1:${info.port}`;
    const common = { url, token: info.bidderToken, rate, durationSeconds: seconds, connections: CONNECTIONS };

    log(`baseline: ${rate} req/s for ${seconds} s on GET /api/v1/time`);
    const baseline = await runLoad({ ...common, paths: ['/api/v1/time'] });
    log(`baseline p99 ${baseline.latency.p99} ms, ${baseline.requests.total} requests`);

    const paths = [
      ...info.tenderIds.map((id) => `/api/v1/tenders/${id}`),
      // as many listing requests as detail ones, over the first pages
      ...info.tenderIds.map((_, i) => `/api/v1/tenders?page=${(i % 3) + 1}`),
    ];
    const before = await auditState(info.controlPort);
    let auditRequests = 0;
    let auditFailures = 0;
    let stop = false;
    // the third activity: an audited change every AUDIT_EVERY_MS, one at a time
    const writer = (async () => {
      let n = 0;
      while (!stop) {
        const t0 = performance.now();
        const tenderId = info.tenderIds[n % info.tenderIds.length]!;
        const res = await fetch(`${url}/api/v1/tenders/${tenderId}/clarifications`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${info.agencyToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `澄清第${++n}号`, body: '关于工程量清单第3章的说明。', affectsBidPreparation: false }),
        });
        await res.arrayBuffer();
        auditRequests++;
        if (res.status >= 300) auditFailures++;
        await new Promise((r) => setTimeout(r, Math.max(0, AUDIT_EVERY_MS - (performance.now() - t0))));
      }
    })();
    log(`load: ${rate} req/s for ${seconds} s on tender listing and detail, clarifications every ${AUDIT_EVERY_MS} ms`);
    let load: LoadResult;
    try {
      load = await runLoad({ ...common, paths });
    } finally {
      stop = true;
      await writer;
    }
    const after = await auditState(info.controlPort);
    const appended = (after.headSeq ?? 0) - (before.headSeq ?? 0);
    log(
      `load p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, max ${load.latency.max} ms; ${load.requests.total} requests, ` +
        `${load.errors} errors, ${load.non2xx} non-2xx; ${auditRequests} clarifications (${auditFailures} refused), ` +
        `audit head ${before.headSeq} → ${after.headSeq}, chain ${after.ok ? 'verified' : 'BROKEN'} (${after.checked} records)`,
    );

    const achieved = load.requests.total / load.duration;
    const failures = load.errors + load.timeouts + load.non2xx;
    const workload = `${rate} req/s × ${seconds} s, ${CONNECTIONS} connections, ${info.tenderIds.length} tenders${process.env.DATABASE_URL ? ', PostgreSQL' : ', PGlite'}${process.env.REDIS_URL ? ' + Redis' : ''}`;
    return [
      {
        figure: 'tender list/detail p99',
        value: load.latency.p99,
        unit: 'ms',
        baseline: { name: 'GET /api/v1/time p99, same rate', value: baseline.latency.p99, unit: 'ms' },
        ratio: round(load.latency.p99 / Math.max(baseline.latency.p99, 1), 2),
        target: `≤ ${P99_TARGET_MS} ms (ratio info)`,
        pass: load.latency.p99 <= P99_TARGET_MS,
        workload: `${workload}; p50 ${load.latency.p50} ms`,
      },
      {
        figure: 'errors + non-2xx',
        value: failures,
        unit: 'requests',
        baseline: { name: 'GET /api/v1/time', value: baseline.errors + baseline.timeouts + baseline.non2xx, unit: 'requests' },
        target: '0',
        pass: failures === 0,
        workload: `${workload}; ${load.errors} errors, ${load.timeouts} timeouts, ${load.non2xx} non-2xx`,
      },
      {
        figure: 'achieved rate',
        value: round(achieved, 1),
        unit: 'req/s',
        baseline: { name: 'asked rate', value: rate, unit: 'req/s' },
        ratio: round(achieved / rate, 3),
        target: `ratio ≥ ${RATE_SHARE_TARGET}`,
        pass: achieved / rate >= RATE_SHARE_TARGET,
        workload: `${workload}; ${load.requests.total} requests in ${load.duration} s`,
      },
      {
        figure: 'audit records appended, chain verified',
        value: appended,
        unit: 'records',
        target: '> 0 and verified',
        pass: appended > 0 && after.ok && auditFailures === 0,
        workload: `${auditRequests} clarifications during the load (${auditFailures} refused); chain of ${after.checked} records ${after.ok ? 'verified' : 'BROKEN'}`,
      },
    ];
  } finally {
    await server?.stop();
  }
}
