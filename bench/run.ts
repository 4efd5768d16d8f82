/**
 * `npm run bench [-- --only NAME] [-- --size-mib N]`: runs every bench/*.bench.ts (or the one named), prints one
 * table of figures against their same-run baselines, writes it as JSON to test-output/bench.json and exits 1 when
 * any figure misses its target (or a benchmark fails).
 *
 *   --only NAME     run only bench/NAME.bench.ts (repeatable, or comma-separated)
 *   --size-mib N    workload size in MiB for every benchmark run (each has its own default)
 *
 * Environment: DATABASE_URL runs the platform under test on a fresh database of that PostgreSQL server instead of
 * in-memory PGlite (as the tests do); BENCH_SERVER_NODE_ARGS passes node options to the server child only (e.g.
 * "--cpu-prof --cpu-prof-dir=test-output/profiles" or "--trace-gc").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runExitCleanups } from './support/cleanup';
import type { BenchModule, BenchResult } from './support/types';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const outputFile = path.resolve(benchDir, '..', 'test-output', 'bench.json');

interface Row extends BenchResult {
  bench: string;
}

function usage(): string {
  return 'usage: npm run bench -- [--only NAME]... [--size-mib N]';
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return x.toFixed(digits);
}

function table(rows: Row[]): string {
  const header = ['bench', 'figure', 'value', 'baseline', 'ratio', 'target', 'result', 'workload'];
  const cells = rows.map((r) => [
    r.bench,
    r.figure,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${fmt(r.baseline.value)} ${r.baseline.unit} (${r.baseline.name})` : '—',
    r.ratio === undefined ? '—' : fmt(r.ratio),
    r.target,
    r.pass ? 'pass' : 'FAIL',
    r.workload,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        only: { type: 'string', multiple: true },
        'size-mib': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage()}`);
    return 2;
  }
  if (args.help) {
    console.log(usage());
    return 0;
  }
  let sizeMiB: number | undefined;
  if (args['size-mib'] !== undefined) {
    sizeMiB = Number(args['size-mib']);
    if (!Number.isFinite(sizeMiB) || sizeMiB <= 0) {
      console.error(`--size-mib must be a positive number, not ${JSON.stringify(args['size-mib'])}\n${usage()}`);
      return 2;
    }
  }

  const available = fs
    .readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
  const only = (args.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((n) => !available.includes(n));
  if (unknown.length > 0) {
    console.error(`no such benchmark: ${unknown.join(', ')} (available: ${available.join(', ')})`);
    return 2;
  }
  const selected = only.length > 0 ? available.filter((n) => only.includes(n)) : available;

  const startedAt = new Date();
  const rows: Row[] = [];
  const failures: Array<{ bench: string; error: string }> = [];
  for (const name of selected) {
    const log = (line: string) => process.stderr.write(`[${name}] ${line}\n`);
    log(sizeMiB === undefined ? 'running (default size)' : `running (${sizeMiB} MiB)`);
    const t0 = performance.now();
    try {
      const mod = (await import(pathToFileURL(path.join(benchDir, `${name}.bench.ts`)).href)) as BenchModule;
      const results = await mod.run({ sizeMiB, log });
      rows.push(...results.map((r) => ({ bench: name, ...r })));
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log(`failed: ${error}`);
      failures.push({ bench: name, error: err instanceof Error ? err.message : String(err) });
      rows.push({ bench: name, figure: 'benchmark run', value: NaN, unit: '', target: 'completes', pass: false, workload: `error: ${failures.at(-1)!.error}` });
    }
    log(`done in ${fmt((performance.now() - t0) / 1000)} s`);
  }

  const pass = rows.every((r) => r.pass);
  console.log(`\nBenchmarks — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${startedAt.toISOString()}`);
  console.log(table(rows));
  console.log(`\n${pass ? 'all figures met their targets' : 'SOME FIGURES MISSED THEIR TARGETS'}`);

  fs.mkdirSync(path.dirname(outputFile), { recursive: true });
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? null, platform: `${os.platform()} ${os.release()}`, node: process.version },
    options: { only: selected, sizeMiB: sizeMiB ?? null },
    pass,
    results: rows.map((r) => ({ ...r, value: Number.isFinite(r.value) ? r.value : null })),
    failures,
  };
  fs.writeFileSync(outputFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${path.relative(process.cwd(), outputFile)}`);
  return pass ? 0 : 1;
}

process.on('exit', runExitCleanups);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
