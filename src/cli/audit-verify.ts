/**
 * `npm run audit:verify` — walks the whole audit chain of the configured database (DATABASE_URL, or the embedded
 * PGlite database in DATA_DIR) and either confirms it is intact or names the first row that breaks it.
 * Exit codes: 0 intact, 1 broken, 2 could not verify (no database, not migrated, bad configuration).
 * It only reads: it never migrates, bootstraps or writes. With the embedded database, stop the server first
 * (PGlite is a single-process database).
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { loadConfig, type Config } from '../config';
import { createDb, type Db } from '../db';
import { verifyChain, type ChainProblem, type VerifyResult } from '../monitoring/audit.service';
import { runIfEntryPoint } from './entry';

export type Out = (line: string) => void;

export interface AuditVerifyOptions {
  /** Print one JSON object instead of text. */
  json?: boolean;
  /** Where page-by-page progress goes (default: `out` in text mode, nowhere in JSON mode). */
  progress?: Out;
}

export interface AuditVerifyOutcome {
  exitCode: 0 | 1;
  result: VerifyResult;
}

export const PROBLEM_LABELS: Record<ChainProblem, string> = {
  SEQ_GAP: '序号不连续：有事件被删除或插入 (sequence gap: an event was deleted or inserted)',
  PREV_HASH_MISMATCH: '前序哈希不符：事件被重排或替换 (previous-hash mismatch: events reordered or replaced)',
  HASH_MISMATCH: '内容哈希不符：事件内容被篡改 (hash mismatch: the event was altered)',
};

/** The one-line verdict a person reads. */
export function verdictLine(result: VerifyResult): string {
  if (result.ok) {
    return `审计链完整 (audit chain intact): ${result.checked} events, head seq ${result.headSeq ?? '-'}, head hash ${result.headHash ?? '-'}`;
  }
  const b = result.firstBroken!;
  return `审计链在第 ${b.seq} 条事件处断裂 (chain broken at seq ${b.seq}): ${b.problem} — expected ${b.expected} found ${b.found}`;
}

/** Verifies the chain in `db` and reports on `out`. Tests call it in-process; the CLI below wraps it. */
export async function runAuditVerify(db: Db, out: Out, opts: AuditVerifyOptions = {}): Promise<AuditVerifyOutcome> {
  const progress = opts.progress ?? (opts.json ? undefined : out);
  const started = Date.now();
  const result = await verifyChain(db, (checked) => {
    if (checked > 0) progress?.(`  已校验 ${checked} 条事件… (checked ${checked} events)`);
  });
  const exitCode = result.ok ? 0 : 1;
  if (opts.json) {
    out(JSON.stringify({ ...result, firstBroken: result.firstBroken ?? null, elapsedMs: Date.now() - started }));
    return { exitCode, result };
  }
  out(verdictLine(result));
  if (!result.ok) {
    const b = result.firstBroken!;
    out(`  问题 (problem): ${PROBLEM_LABELS[b.problem]}`);
    out(`  在此之前校验通过 ${result.checked} 条，最后一条完好的事件为第 ${result.headSeq ?? '-'} 条 (${result.checked} events verified before it; last good seq ${result.headSeq ?? '-'})`);
  }
  return { exitCode, result };
}

function describeTarget(config: Config): string {
  if (config.database.url) {
    const u = new URL(config.database.url);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  }
  return `PGlite (embedded) ${config.database.embeddedDir}`;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('audit-verify')
    .description('校验审计链，指出第一处断裂 (verify the audit chain; names the first broken row)')
    .option('--json', '以 JSON 输出结果 (print the result as JSON)')
    .addHelpText('after', '\n退出码 (exit codes): 0 完整 intact, 1 断裂 broken, 2 无法校验 could not verify.\n使用内嵌数据库时请先停止服务器 (with the embedded database, stop the server first).')
    .parse(argv);
  const opts = program.opts<{ json?: boolean }>();
  const config = loadConfig();
  const out: Out = (line) => console.log(line);
  const info: Out = (line) => (opts.json ? console.error(line) : console.log(line));

  if (!config.database.url && !fs.existsSync(config.database.embeddedDir)) {
    console.error(`找不到内嵌数据库 (no embedded database at ${config.database.embeddedDir}); set DATA_DIR or DATABASE_URL`);
    return 2;
  }
  info(`数据库 (database): ${describeTarget(config)}`);
  const db = createDb(config);
  try {
    if (!(await db.schema.hasTable('audit_events'))) {
      console.error('数据库尚未迁移，没有 audit_events 表；请先运行 npm run migrate (no audit_events table: run npm run migrate)');
      return 2;
    }
    const { exitCode } = await runAuditVerify(db, out, { json: opts.json, progress: opts.json ? info : undefined });
    return exitCode;
  } finally {
    await db.destroy();
  }
}

runIfEntryPoint(import.meta.url, main, '无法校验 (could not verify)', 2);
