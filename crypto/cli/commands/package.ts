/**
 * Bid package commands:
 *   pack   — make the bid package (投标文件包: manifest.json + documents) to be sealed and submitted
 *   unpack — extract and verify a package (to check what a package holds)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  BIDTOOL_VERSION,
  isValidToolSerial,
  loadOrCreateToolSerial,
  maskIdNumber,
  packBid,
  PackageError,
  unpackBid,
  type Manifest,
  type PackFile,
} from '../../package';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, type CliContext } from '../context';
import { formatShanghaiTime } from '../format';

interface PackOptions {
  tender: string;
  section: string;
  tenderCode?: string;
  bidderName: string;
  creditCode: string;
  organisationId?: string;
  priceFen: number;
  durationDays: number;
  quality: string;
  pmName: string;
  pmId: string;
  validityDays: number;
  author: string;
  contactName?: string;
  contactPhone?: string;
  out: string;
  dir?: string;
  toolSerial?: string;
  force?: boolean;
}

export function registerPackageCommands(program: Command, ctx: CliContext): void {
  program
    .command('pack')
    .description('生成投标文件包（清单 manifest.json + 投标文件）/ Make a bid package (manifest.json + the bid documents)')
    .argument('[files...]', '投标文件，包内名称为文件名 / bid documents; each is stored under its base name')
    .requiredOption('--tender <id>', '招标项目 ID / tender id')
    .requiredOption('--section <id>', '标段（包）ID / section id')
    .option('--tender-code <code>', '招标项目编号 / tender code')
    .requiredOption('--bidder-name <name>', '投标人名称 / bidder name')
    .requiredOption('--credit-code <code>', '投标人统一社会信用代码 / bidder unified social credit code')
    .option('--organisation-id <id>', '投标人在平台的机构 ID / bidder organisation id on the platform')
    .requiredOption('--price-fen <n>', '投标总价（分，整数）/ total price in fen (integer)', positiveInteger('--price-fen'))
    .requiredOption('--duration-days <n>', '工期或交货期（日历天）/ duration or delivery time, calendar days', positiveInteger('--duration-days'))
    .requiredOption('--quality <text>', '质量标准，如 合格 / quality standard')
    .requiredOption('--pm-name <name>', '项目负责人姓名 / project manager name')
    .requiredOption('--pm-id <idNumber>', '项目负责人身份证号码 / project manager ID number (18 characters)')
    .requiredOption('--validity-days <n>', '投标有效期（日）/ bid validity, days', positiveInteger('--validity-days'))
    .requiredOption('--author <name>', '编制人 / who compiled the bid')
    .option('--contact-name <name>', '联系人（与 --contact-phone 同用）/ contact person (with --contact-phone)')
    .option('--contact-phone <phone>', '联系电话 / contact phone')
    .requiredOption('--out <file>', '输出的投标包文件 (.zip) / output package file')
    .option('--dir <dir>', '打包整个目录（保留相对路径）/ pack a whole directory tree with relative paths')
    .option('--tool-serial <serial>', '工具序列号（默认读取或创建 ~/.bidtool/serial）/ tool serial (default: ~/.bidtool/serial, created if missing)')
    .option('--force', '覆盖已有的输出文件 / overwrite an existing output file', false)
    .action(async (fileArgs: string[], opts: PackOptions) => {
      const outPath = path.resolve(opts.out);
      const files = collectFiles(fileArgs, opts.dir, outPath);
      if (files.length === 0) {
        throw new CliExit(EXIT_BAD_INPUT, '没有要打包的投标文件（给出文件或 --dir）/ No documents to pack (give files or --dir)');
      }
      if (!opts.force && fs.existsSync(outPath)) {
        throw new CliExit(EXIT_BAD_INPUT, `文件已存在，未覆盖（可用 --force）/ File exists, not overwritten (use --force): ${outPath}`);
      }
      const serial = toolSerial(opts.toolSerial);
      if ((opts.contactName === undefined) !== (opts.contactPhone === undefined)) {
        throw new CliExit(EXIT_BAD_INPUT, '联系人与联系电话须同时给出 / Give --contact-name and --contact-phone together');
      }

      let manifest: Manifest;
      try {
        manifest = await packBid({
          outPath,
          now: ctx.now(),
          files,
          manifest: {
            tenderId: opts.tender,
            sectionId: opts.section,
            ...(opts.tenderCode !== undefined ? { tenderCode: opts.tenderCode } : {}),
            bidder: {
              ...(opts.organisationId !== undefined ? { organisationId: opts.organisationId } : {}),
              name: opts.bidderName,
              creditCode: opts.creditCode.trim().toUpperCase(),
            },
            form: {
              totalPriceFen: opts.priceFen,
              durationDays: opts.durationDays,
              quality: opts.quality,
              projectManager: { name: opts.pmName, idNumber: opts.pmId.trim().toUpperCase() },
              validityDays: opts.validityDays,
            },
            author: opts.author,
            ...(opts.contactName !== undefined ? { contact: { name: opts.contactName, phone: opts.contactPhone! } } : {}),
            tool: { name: 'bidtool', version: program.version() ?? BIDTOOL_VERSION, serial },
          },
        });
      } catch (e) {
        if (e instanceof PackageError) throw new CliExit(EXIT_BAD_INPUT, `投标包生成失败 / Packing failed [${e.code}]: ${e.message}`);
        throw e;
      }

      printSummary(ctx, manifest);
      println(ctx.stdout);
      println(ctx.stdout, `投标包 / Package: ${outPath}`);
      println(ctx.stdout, `投标包 SHA-256 / Package SHA-256: ${await sha256File(outPath)}`);
      println(ctx.stdout, '投标包为明文，提交前须加密封装（EB 26）。/ The package is plaintext: seal (encrypt) it before submitting it (EB 26).');
    });

  program
    .command('unpack')
    .description('解压并校验投标文件包 / Extract and verify a bid package')
    .requiredOption('--in <file>', '投标包文件 (.zip) / package file')
    .requiredOption('--out <dir>', '输出目录（须为空或不存在）/ output directory (empty or not existing)')
    .action(async (opts: { in: string; out: string }) => {
      if (!fs.existsSync(opts.in)) throw new CliExit(EXIT_BAD_INPUT, `无法读取投标包文件 / Cannot read package file: ${opts.in}`);
      let manifest: Manifest;
      try {
        manifest = await unpackBid(opts.in, opts.out);
      } catch (e) {
        if (e instanceof PackageError) throw new CliExit(EXIT_FAILED, `投标包校验未通过 / Package check failed [${e.code}]: ${e.message}`);
        throw e;
      }
      printSummary(ctx, manifest);
      println(ctx.stdout);
      println(ctx.stdout, `已解压到 / Extracted to: ${path.resolve(opts.out)}`);
      println(ctx.stdout, '校验通过：文件与清单一致，SHA-256 全部相符。/ Verified: the files match the manifest and every SHA-256.');
    });
}

// ---------------------------------------------------------------------------
// Display

/** 1234567890 fen → "12,345,678.90". */
export function formatYuan(fen: number): string {
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${fen < 0 ? '-' : ''}${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

/** "1.5 MB (1,572,864 字节 / bytes)" */
export function formatSize(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} 字节 / bytes`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes;
  let unit = '';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit ? `${v.toFixed(1)} ${unit} (${exact})` : exact;
}

export function printSummary(ctx: CliContext, m: Manifest): void {
  const out = (line = '') => println(ctx.stdout, line);
  const f = m.form;
  out(`招标项目 / Tender: ${m.tenderId}${m.tenderCode ? `（项目编号 / code ${m.tenderCode}）` : ''}`);
  out(`标段 / Section: ${m.sectionId}`);
  out(`投标人 / Bidder: ${m.bidder.name}（统一社会信用代码 / credit code ${m.bidder.creditCode}）`);
  out('开标一览表 / Bid form:');
  out(`  投标总价 / Total price: ${formatYuan(f.totalPriceFen)} 元 / yuan`);
  out(`  工期（交货期）/ Duration: ${f.durationDays} 日历天 / calendar days`);
  out(`  质量标准 / Quality: ${f.quality}`);
  out(`  项目负责人 / Project manager: ${f.projectManager.name}（身份证号 / ID ${maskIdNumber(f.projectManager.idNumber)}）`);
  out(`  投标有效期 / Bid validity: ${f.validityDays} 日 / days`);
  const total = m.documents.reduce((s, d) => s + d.size, 0);
  out(`投标文件 / Documents: ${m.documents.length} 个 / files, 共 / total ${formatSize(total)}`);
  for (const d of m.documents) out(`  ${d.path}  ${formatSize(d.size)}`);
  out(`编制人 / Author: ${m.author}`);
  if (m.contact) out(`联系人 / Contact: ${m.contact.name}，${m.contact.phone}`);
  out(`工具 / Tool: ${m.tool.name} ${m.tool.version}，序列号 / serial ${m.tool.serial}`);
  out(`机器码 / Machine code: ${m.machineFingerprint}`);
  out(`生成时间 / Created: ${formatShanghaiTime(new Date(m.createdAt))}`);
}

// ---------------------------------------------------------------------------
// Helpers

function positiveInteger(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${option} 应为正整数 / must be a positive integer`);
    }
    return n;
  };
}

function toolSerial(given: string | undefined): string {
  if (given !== undefined) {
    if (!isValidToolSerial(given)) {
      throw new CliExit(EXIT_BAD_INPUT, '工具序列号格式无效（4–128 位字母、数字、. _ -）/ Invalid tool serial (4–128 letters, digits, . _ -)');
    }
    return given;
  }
  try {
    return loadOrCreateToolSerial();
  } catch (e) {
    throw new CliExit(EXIT_BAD_INPUT, e instanceof Error ? e.message : String(e));
  }
}

/** --dir tree (relative paths) then the file arguments (base names). */
function collectFiles(fileArgs: string[], dir: string | undefined, outPath: string): PackFile[] {
  const files: PackFile[] = [];
  if (dir !== undefined) {
    const root = path.resolve(dir);
    if (!isDirectory(root)) throw new CliExit(EXIT_BAD_INPUT, `目录不存在 / Not a directory: ${root}`);
    const rel = path.relative(root, outPath);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      throw new CliExit(EXIT_BAD_INPUT, `输出文件不能位于 --dir 目录内 / The output file may not be inside --dir: ${outPath}`);
    }
    walk(root, [], files);
  }
  for (const f of fileArgs) {
    const sourcePath = path.resolve(f);
    let st: fs.Stats;
    try {
      st = fs.statSync(sourcePath);
    } catch {
      throw new CliExit(EXIT_BAD_INPUT, `无法读取文件 / Cannot read file: ${f}`);
    }
    if (!st.isFile()) throw new CliExit(EXIT_BAD_INPUT, `不是普通文件 / Not a regular file: ${f}`);
    files.push({ sourcePath, path: path.basename(sourcePath) });
  }
  return files;
}

function walk(root: string, rel: string[], out: PackFile[]): void {
  const here = path.join(root, ...rel);
  const entries = fs.readdirSync(here, { withFileTypes: true });
  // A stable order, whatever the file system lists first.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const parts = [...rel, e.name];
    if (e.isDirectory()) walk(root, parts, out);
    else if (e.isFile()) out.push({ sourcePath: path.join(root, ...parts), path: parts.join('/') });
    else {
      throw new CliExit(EXIT_BAD_INPUT, `不打包符号链接或特殊文件 / Symbolic links and special files are not packed: ${path.join(root, ...parts)}`);
    }
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
