/**
 * `npm run audit:export -- --out DIR` — writes the regulator's export of the audit log from the configured database
 * (DATABASE_URL, or the embedded PGlite database in DATA_DIR): events.ndjson, checkpoints.json, certificates/ca.pem
 * and signer.pem, manifest.json. Check it anywhere, without a database: `npm run audit:verify -- --export DIR`.
 * It only reads the database. The directory must not exist yet or be empty: an export is never written over.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config';
import { createDb, type Db } from '../db';
import { eventLines, exportCertificates, exportCheckpoints, exportHead } from '../monitoring/audit-export';
import { EXPORT_FORMAT } from '../monitoring/export-format';
import { runIfEntryPoint } from './entry';

export interface AuditExportSummary {
  dir: string;
  events: number;
  checkpoints: number;
  headSeq: number;
}

async function writeLines(file: string, lines: AsyncIterable<string>): Promise<number> {
  const stream = fs.createWriteStream(file, { encoding: 'utf8' });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (!stream.write(`${line}\n`)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    }
  } finally {
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  return n;
}

/** Writes the export of `db` into `dir` (created). Tests call it in-process; the CLI below wraps it. */
export async function writeAuditExport(db: Db, dir: string, opts: { platformName: string; now: Date }): Promise<AuditExportSummary> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: an export is never written over another`);
  await fsp.mkdir(path.join(dir, 'certificates'), { recursive: true });
  const headSeq = await exportHead(db);
  const certs = await exportCertificates(db);
  const checkpoints = [];
  for await (const c of exportCheckpoints(db, headSeq)) checkpoints.push(c);
  await fsp.writeFile(path.join(dir, 'certificates', 'ca.pem'), certs.ca);
  await fsp.writeFile(path.join(dir, 'certificates', 'signer.pem'), certs.signer);
  await fsp.writeFile(path.join(dir, 'checkpoints.json'), `${JSON.stringify(checkpoints, null, 2)}\n`);
  const events = await writeLines(path.join(dir, 'events.ndjson'), eventLines(db, headSeq));
  const manifest = { format: EXPORT_FORMAT, platform: opts.platformName, exportedAt: opts.now.toISOString(), headSeq, events, checkpoints: checkpoints.length };
  await fsp.writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, events, checkpoints: checkpoints.length, headSeq };
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('audit-export')
    .description('导出交易日志供离线校验 (export the audit log for offline verification)')
    .requiredOption('--out <dir>', '导出目录（须不存在或为空） (output directory: new or empty)')
    .parse(argv);
  const { out } = program.opts<{ out: string }>();
  const config = loadConfig();
  if (!config.database.url && !fs.existsSync(config.database.embeddedDir)) {
    console.error(`找不到内嵌数据库 (no embedded database at ${config.database.embeddedDir}); set DATA_DIR or DATABASE_URL`);
    return 2;
  }
  const db = createDb(config);
  try {
    if (!(await db.schema.hasTable('audit_checkpoints'))) {
      console.error('数据库尚未迁移 (not migrated): run npm run migrate');
      return 2;
    }
    const s = await writeAuditExport(db, path.resolve(out), { platformName: config.platformName, now: new Date() });
    console.log(`已导出 ${s.events} 条事件、${s.checkpoints} 个签名检查点到 ${s.dir} (exported ${s.events} events and ${s.checkpoints} signed checkpoints)`);
    console.log(`校验 (verify): npm run audit:verify -- --export ${out}`);
    return 0;
  } finally {
    await db.destroy();
  }
}

runIfEntryPoint(import.meta.url, main, '导出失败 (export failed)', 2);
