/**
 * `npm run audit:verify` — walks the whole audit chain of the configured database (DATABASE_URL, or the embedded
 * PGlite database in DATA_DIR) and either confirms it is intact or names the first row that breaks it.
 * Exit codes: 0 intact, 1 broken, 2 could not verify (no database, not migrated, bad configuration).
 * It only reads: it never migrates, bootstraps or writes. With the embedded database, stop the server first
 * (PGlite is a single-process database).
 *
 * Offline, without any database:
 *   --export DIR|FILE   an export (`npm run audit:export` directory, or the NDJSON of GET /audit/export): the chain,
 *                       the signed checkpoints, their roots and certificates; every problem named with its place
 *   --proof FILE        a saved inclusion proof (GET /audit/events/:seq/proof), with --ca the platform root
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { loadConfig, type Config } from '../config';
import { createDb, type Db } from '../db';
import { verifyChain, type ChainProblem, type VerifyResult } from '../monitoring/audit.service';
import { verifyInclusionProofDocument, type ProofVerifyResult } from '../../crypto/audit-proof';
import { eventBytesOfRecord } from '../monitoring/export-format';
import { PROBLEM_KIND_LABELS } from '../monitoring/export-problems';
import { ExportVerifier, type ExportVerifyResult } from '../monitoring/export-verify';
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

/** The lines of a file as bytes (no newline), read a chunk at a time: events are hashed as the UTF-8 they are. */
async function* linesOfFile(file: string): AsyncGenerator<Buffer> {
  let rest: Buffer | null = null;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      yield data.subarray(start, nl);
      start = nl + 1;
    }
    rest = start < data.length ? data.subarray(start) : null;
  }
  if (rest) yield rest;
}

/** Verifies an export directory, or an export stream file, reading the events a line at a time. */
export async function verifyExportAt(where: string): Promise<ExportVerifyResult> {
  if (fs.statSync(where).isDirectory()) {
    const read = (name: string) => fs.readFileSync(`${where}/${name}`, 'utf8');
    const v = new ExportVerifier({ checkpoints: read('checkpoints.json'), caPem: read('certificates/ca.pem'), signerPem: read('certificates/signer.pem') });
    for await (const line of linesOfFile(`${where}/events.ndjson`)) v.lineBytes(line);
    return v.finish();
  }
  // the NDJSON stream: header, certificates and checkpoints come before the first event
  const certs: Record<string, string> = {};
  const checkpoints: unknown[] = [];
  let v: ExportVerifier | null = null;
  const start = () => (v ??= new ExportVerifier({ checkpoints, caPem: certs.ca ?? '', signerPem: certs.signer ?? '' }));
  for await (const bytes of linesOfFile(where)) {
    const event = eventBytesOfRecord(bytes);
    if (event !== null) {
      start().lineBytes(event);
      continue;
    }
    const line = bytes.toString('utf8');
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as { record?: string; name?: string; pem?: string; checkpoint?: unknown };
    if (v) throw new Error(`a ${record.record ?? 'non-event'} record after the events began`);
    if (record.record === 'certificate' && record.name && record.pem) certs[record.name] = record.pem;
    else if (record.record === 'checkpoint') checkpoints.push(record.checkpoint);
  }
  return start().finish();
}

/** Prints an export's verification; exit code 0 intact, 1 problems found. */
export async function runExportVerify(where: string, out: Out, opts: { json?: boolean } = {}): Promise<{ exitCode: 0 | 1; result: ExportVerifyResult }> {
  const started = Date.now();
  const result = await verifyExportAt(where);
  const exitCode = result.ok ? 0 : 1;
  if (opts.json) {
    out(JSON.stringify({ ...result, elapsedMs: Date.now() - started }));
    return { exitCode, result };
  }
  out(`根证书指纹 (CA SHA-256 fingerprint, compare with the platform's published one): ${result.caFingerprintSha256 ?? '-'}`);
  out(`事件 ${result.events} 条，最后为第 ${result.headSeq ?? '-'} 条 (events read: ${result.events}, head seq ${result.headSeq ?? '-'} ${result.headHash ?? ''})`);
  for (const p of result.problems) {
    const where = [p.seq !== undefined ? `seq ${p.seq}` : null, p.line !== undefined ? `line ${p.line}` : null, p.checkpoint !== undefined ? `checkpoint ${p.checkpoint}` : null]
      .filter(Boolean)
      .join(', ');
    out(`  ✗ ${p.kind} [${where || '-'}] ${PROBLEM_KIND_LABELS[p.kind]}`);
    out(`      ${p.detail}`);
  }
  if (result.omittedProblems) out(`  … 另有 ${result.omittedProblems} 处问题未列出 (${result.omittedProblems} more not listed)`);
  out(result.message);
  return { exitCode, result };
}

/** Prints a saved inclusion proof's verification; exit code 0 valid, 1 not. */
export function runProofVerify(file: string, out: Out, opts: { json?: boolean; caPem?: string } = {}): { exitCode: 0 | 1; result: ProofVerifyResult } {
  const result = verifyInclusionProofDocument(JSON.parse(fs.readFileSync(file, 'utf8')), opts.caPem);
  const exitCode = result.ok ? 0 : 1;
  if (opts.json) {
    out(JSON.stringify(result));
    return { exitCode, result };
  }
  out(`根证书指纹 (CA SHA-256 fingerprint): ${result.caFingerprintSha256 ?? '-'}${result.ca === 'given' ? '' : ' — 取自证明文件本身，请与平台公布的核对 (taken from the proof file itself: compare it with the published one, or pass --ca)'}`);
  for (const p of result.problems) out(`  ✗ ${p}`);
  out(result.message);
  return { exitCode, result };
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('audit-verify')
    .description('校验审计链，指出第一处断裂 (verify the audit chain; names the first broken row)')
    .option('--json', '以 JSON 输出结果 (print the result as JSON)')
    .option('--export <path>', '离线校验导出目录或 NDJSON 文件，无需数据库 (verify an export directory or NDJSON file offline)')
    .option('--proof <file>', '校验保存的包含证明 (verify a saved inclusion proof)')
    .option('--ca <file>', '平台根证书，用于 --proof (the platform root certificate, for --proof)')
    .addHelpText('after', '\n退出码 (exit codes): 0 完整 intact, 1 断裂 broken, 2 无法校验 could not verify.\n使用内嵌数据库时请先停止服务器 (with the embedded database, stop the server first).')
    .parse(argv);
  const opts = program.opts<{ json?: boolean; export?: string; proof?: string; ca?: string }>();
  const out: Out = (line) => console.log(line);
  if (opts.export) {
    if (!fs.existsSync(opts.export)) {
      console.error(`找不到导出 (no export at ${opts.export})`);
      return 2;
    }
    return (await runExportVerify(opts.export, out, { json: opts.json })).exitCode;
  }
  if (opts.proof) return runProofVerify(opts.proof, out, { json: opts.json, caPem: opts.ca ? fs.readFileSync(opts.ca, 'utf8') : undefined }).exitCode;
  const config = loadConfig();
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
