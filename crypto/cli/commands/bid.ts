/**
 * Sealed-bid commands (投标文件加密、签名、递交):
 *   encrypt        — seal a file (the bid package) into a CMS envelope for the tender's opening certificate and
 *                    the bidder's own encryption certificate
 *   decrypt        — open an envelope with one's own encryption key
 *   sign           — detached CMS signature over the envelope with the signing key
 *   submit         — resumable, chunked upload; verifies and saves the time-stamped receipt (回执)
 *   test-decrypt   — proves locally that one's key opens the envelope (and, with the platform, that it will at the opening)
 *   verify-receipt — checks a receipt (RFC 3161 token) against the envelope and the platform CA
 *   unwrap-key     — hands out the envelope's content key, for the decryption window at the opening
 *
 * Keys never leave this machine; the only secret that may ever be printed is
 * the content key, by unwrap-key, when asked to.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import {
  decryptFile,
  decryptStream,
  EnvelopeError,
  encryptFile,
  inspectFile,
  recipientMatchesCertificate,
  unwrapContentKey,
  type EnvelopeInspection,
} from '../../envelope';
import { checkCertificate, normalizeSerialHex, parseCertificate, PkiError, type CertificateInfo, type CertificateUsage } from '../../pki';
import { SignatureError, signDigest, sha256File, verifyDetachedSignature } from '../../signature';
import { RECEIPT_POLICY_OID, TimestampError, verifyTimeStampResponse, type TimeStampInfo } from '../../timestamp';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, readTextFile, writeSecretFile, type CliContext } from '../context';
import { formatName, formatShanghaiTime, PROBLEM_LABELS, USAGE_LABELS } from '../format';
import { apiRequest, normaliseServer } from '../http';
import { backoffDelay, formatMiB, loginHint, readSavedToken, sleep, TransferProgress, withLoginHint } from '../progress';
import { accountPaths } from './account';
import { formatSize } from './package';

const MIB = 1024 * 1024;

/**
 * Seams for tests, carried on the CliContext object: the fetch the upload
 * uses (to make a chunk fail) and the first retry delay.
 */
export interface UploadHooks {
  fetch?: typeof fetch;
  retryDelayMs?: number;
}

export type BidCliContext = CliContext & { uploadHooks?: UploadHooks };

const RECIPIENT_USAGES: readonly CertificateUsage[] = ['encryption', 'opening'];

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

interface EncryptOptions {
  in: string;
  recipient: string[];
  out: string;
  tender?: string;
  server?: string;
  dir?: string;
  ca?: string;
  force?: boolean;
}

interface DecryptOptions {
  in: string;
  key: string;
  cert?: string;
  out: string;
  force?: boolean;
}

interface SignOptions {
  in: string;
  dir: string;
  out?: string;
  force?: boolean;
}

interface SubmitOptions {
  server: string;
  dir: string;
  tender: string;
  section: string;
  in: string;
  chunkMib: number;
  signature?: string;
  retries: number;
}

interface TestDecryptOptions {
  in: string;
  dir: string;
  server?: string;
  tender?: string;
}

interface VerifyReceiptOptions {
  in: string;
  receipt: string;
  ca: string;
}

interface UnwrapKeyOptions {
  in: string;
  dir: string;
  out?: string;
  force?: boolean;
}

export function registerBidCommands(program: Command, ctx: CliContext): void {
  // The issue text spells it "enroll"; the command is registered as "enrol" by the account commands.
  program.commands.find((c) => c.name() === 'enrol')?.alias('enroll');

  program
    .command('encrypt')
    .description('加密投标文件为数字信封（CMS，AES-256-GCM）/ Seal a file into a CMS envelope (AES-256-GCM) for the recipient certificates')
    .requiredOption('--in <file>', '要加密的文件（投标包 .zip）/ file to seal (the bid package)')
    .option('--recipient <cert>', '收件人证书（开标证书或加密证书），可重复 / recipient certificate (opening or encryption), repeatable', collect, [])
    .requiredOption('--out <file>', '输出的数字信封 (.cms) / output envelope')
    .option('--tender <id>', '招标项目 ID：自动取本项目开标证书（需 --server、--dir）/ tender id: fetch its opening certificate (needs --server, --dir)')
    .option('--server <url>', '平台地址 / platform URL')
    .option('--dir <dir>', '密钥目录：同时加密给本单位加密证书 (encryption.cert.pem) / key directory: also seal to its encryption.cert.pem')
    .option('--ca <file>', '平台 CA 证书，用于校验收件人证书（默认 DIR/ca.pem）/ platform CA to check recipients against (default DIR/ca.pem)')
    .option('--force', '覆盖已有的输出文件 / overwrite an existing output file', false)
    .action((opts: EncryptOptions) => encrypt(ctx, opts));

  program
    .command('decrypt')
    .description('用本单位加密私钥解密数字信封 / Open an envelope with your encryption key')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--key <file>', '加密私钥 (encryption.key.pem) / encryption private key')
    .option('--cert <file>', '加密证书，默认为私钥同目录的 encryption.cert.pem / encryption certificate (default: encryption.cert.pem beside the key)')
    .requiredOption('--out <file>', '解密后的文件 / output file')
    .option('--force', '覆盖已有的输出文件 / overwrite an existing output file', false)
    .action((opts: DecryptOptions) => decrypt(ctx, opts));

  program
    .command('sign')
    .description('对数字信封做电子签名（分离式 CMS 签名）/ Sign the envelope (detached CMS signature)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--dir <dir>', '密钥目录 (signing.key.pem, signing.cert.pem) / key directory')
    .option('--out <file>', '签名文件，默认 <in>.p7s / signature file (default <in>.p7s)')
    .option('--force', '覆盖已有的签名文件 / overwrite an existing signature file', false)
    .action((opts: SignOptions) => sign(ctx, opts));

  program
    .command('submit')
    .description('递交投标文件：分块上传、断点续传，校验并保存时间戳回执 / Submit the envelope: chunked, resumable upload; verifies and saves the receipt')
    .requiredOption('--server <url>', '平台地址 / platform URL')
    .requiredOption('--dir <dir>', '密钥与令牌目录 (bidtool login --dir) / directory with keys and the token')
    .requiredOption('--tender <id>', '招标项目 ID / tender id')
    .requiredOption('--section <id>', '标段（包）ID / section id')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .option('--chunk-mib <n>', '每块大小（MiB）/ chunk size in MiB', chunkMib, 8)
    .option('--signature <file>', '已有的签名文件 (.p7s)；缺省时用 DIR 的签名密钥签名 / existing signature (default: sign with DIR’s signing key)')
    .option('--retries <n>', '每块失败后的重试次数 / retries per chunk', nonNegativeInteger('--retries'), 5)
    .addHelpText(
      'after',
      '\n中断后重新运行同一命令即从平台记录的位置续传（进度保存在 <in>.upload.json）。\n' +
        'If interrupted, run the same command again: it resumes from the offset the platform has (state in <in>.upload.json).',
    )
    .action((opts: SubmitOptions) => submit(ctx as BidCliContext, opts));

  program
    .command('test-decrypt')
    .description('解密自检：证明本单位密钥能解开信封（可选：开标时证书仍有效、信封加密给本项目开标证书）/ Prove your key opens the envelope (optionally: also at the opening)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--dir <dir>', '密钥目录 (encryption.key.pem, encryption.cert.pem) / key directory')
    .option('--server <url>', '平台地址（与 --tender 同用）/ platform URL (with --tender)')
    .option('--tender <id>', '招标项目 ID（与 --server 同用）/ tender id (with --server)')
    .action((opts: TestDecryptOptions) => testDecrypt(ctx, opts));

  program
    .command('verify-receipt')
    .description('校验时间戳回执 / Verify a receipt (RFC 3161 time-stamp token)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--receipt <file>', '回执 (.tsr) / receipt')
    .requiredOption('--ca <file>', '平台 CA 证书 (ca.pem) / platform CA certificate')
    .action((opts: VerifyReceiptOptions) => verifyReceipt(ctx, opts));

  program
    .command('unwrap-key')
    .description('解出信封的内容密钥（仅在开标解密时限内使用）/ Unwrap the envelope’s content key (only during the decryption window)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--dir <dir>', '密钥目录 (encryption.key.pem, encryption.cert.pem) / key directory')
    .option('--out <file>', '写入文件（Base64，权限 0600），缺省输出到屏幕 / write it to this file (base64, mode 0600) instead of printing it')
    .option('--force', '覆盖已有的输出文件 / overwrite an existing output file', false)
    .addHelpText(
      'after',
      '\n警告：内容密钥可直接解开投标文件。只能在开标后的解密时限内、按平台要求提交时使用，切勿提前交给任何人。\n' +
        'WARNING: the content key opens the bid. Use it only during the decryption window at the opening, when the platform\n' +
        'asks for it; never hand it to anyone before.',
    )
    .action((opts: UnwrapKeyOptions) => unwrapKey(ctx, opts));
}

// ---------------------------------------------------------------------------
// Option parsers and small helpers
// ---------------------------------------------------------------------------

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function chunkMib(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 1024) {
    throw new InvalidArgumentError('--chunk-mib 应为 0 到 1024 之间的数 / must be a number between 0 and 1024');
  }
  return n;
}

function nonNegativeInteger(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > 100) {
      throw new InvalidArgumentError(`${option} 应为 0–100 的整数 / must be an integer from 0 to 100`);
    }
    return n;
  };
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function requireFile(file: string, zh: string, en: string): void {
  let ok = false;
  try {
    ok = fs.statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new CliExit(EXIT_BAD_INPUT, `无法读取${zh}文件 / Cannot read ${en} file: ${file}`);
}

function refuseOverwrite(file: string, force: boolean | undefined): void {
  if (force !== true && fs.existsSync(file)) {
    throw new CliExit(EXIT_BAD_INPUT, `文件已存在，未覆盖（可用 --force）/ File exists, not overwritten (use --force): ${file}`);
  }
}

function sameFile(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/** Writes via a temp file and a rename, so the target is either old or complete. */
function writeFileAtomic(file: string, data: Buffer | string, mode = 0o644): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, data, { mode });
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

function readCertificate(file: string, zh: string, en: string): { pem: string; info: CertificateInfo } {
  const pem = readTextFile(file, zh, en);
  try {
    return { pem, info: parseCertificate(pem) };
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `${zh}无效 / Invalid ${en}: ${file} (${e.message})`);
    throw e;
  }
}

/** DIR/ca.pem when present, else undefined. */
function localCa(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  const file = accountPaths(dir).ca;
  return fs.existsSync(file) ? readTextFile(file, 'CA 证书', 'CA certificate') : undefined;
}

const ENVELOPE_INPUT_CODES = new Set(['NOT_CMS', 'NOT_AUTH_ENVELOPED', 'UNSUPPORTED_ALGORITHM', 'MALFORMED', 'TRUNCATED', 'TRAILING_DATA']);

const ENVELOPE_LABELS: Record<string, string> = {
  NOT_CMS: '不是 CMS 数字信封 / not a CMS envelope',
  NOT_AUTH_ENVELOPED: '不是 AuthEnvelopedData 数字信封 / not an AuthEnvelopedData envelope',
  UNSUPPORTED_ALGORITHM: '算法不受支持 / unsupported algorithm',
  MALFORMED: '信封格式错误 / malformed envelope',
  TRUNCATED: '信封不完整（被截断）/ truncated envelope',
  TRAILING_DATA: '信封后有多余数据 / data after the envelope',
  NO_MATCHING_RECIPIENT: '信封未加密给该证书 / the envelope is not addressed to this certificate',
  KEY_UNWRAP_FAILED: '私钥无法解开内容密钥 / the private key cannot unwrap the content key',
  TAG_MISMATCH: '认证标签不符：密钥错误或信封被篡改 / authentication tag mismatch: wrong key or tampered envelope',
  SIZE_MISMATCH: '文件大小在读取中改变 / the file changed size while being read',
};

function envelopeLabel(e: EnvelopeError): string {
  return `[${e.code}] ${ENVELOPE_LABELS[e.code] ?? e.message}`;
}

/** Structural check of an envelope file; a file that is not one is bad input (exit 2). */
async function inspectEnvelope(file: string): Promise<EnvelopeInspection> {
  requireFile(file, '数字信封', 'envelope');
  try {
    return await inspectFile(file);
  } catch (e) {
    if (e instanceof EnvelopeError) {
      throw new CliExit(EXIT_BAD_INPUT, `不是有效的数字信封 / Not a valid envelope: ${file} ${envelopeLabel(e)}`);
    }
    throw new CliExit(EXIT_BAD_INPUT, `无法读取数字信封文件 / Cannot read envelope file: ${file} (${reasonOf(e)})`);
  }
}

/** Exit code for an envelope failure: a broken file is bad input, a wrong key or a failed tag is a failed check. */
function envelopeExit(e: EnvelopeError, context: string): CliExit {
  return new CliExit(ENVELOPE_INPUT_CODES.has(e.code) ? EXIT_BAD_INPUT : EXIT_FAILED, `${context}: ${envelopeLabel(e)}`);
}

function addressedTo(inspection: EnvelopeInspection, certificatePem: string): boolean {
  return inspection.recipients.some((r) => recipientMatchesCertificate(r, certificatePem));
}

function readEncryptionKey(dir: string): { privateKeyPem: string; certificatePem: string; info: CertificateInfo } {
  const files = accountPaths(dir);
  const privateKeyPem = readTextFile(files.encryptionKey, '加密私钥', 'encryption key');
  const cert = readCertificate(files.encryptionCert, '加密证书', 'encryption certificate');
  return { privateKeyPem, certificatePem: cert.pem, info: cert.info };
}

interface TenderInfo {
  id: string;
  code?: string;
  name?: string;
  status?: string;
  bidDeadline: Date;
  decryptionWindowMinutes?: number;
  sections: Array<{ id: string; name?: string }>;
}

function unexpected(what: string): CliExit {
  return new CliExit(EXIT_FAILED, `平台返回内容不符合预期 / Unexpected response from the platform: ${what}`);
}

async function fetchTender(server: string, token: string, tenderId: string): Promise<TenderInfo> {
  const body = await apiRequest<unknown>(server, 'GET', `/api/v1/tenders/${encodeURIComponent(tenderId)}`, { token });
  const t = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const deadline = new Date(String(t.bidDeadline));
  if (typeof t.bidDeadline !== 'string' || Number.isNaN(deadline.getTime())) throw unexpected('tender without bidDeadline');
  const sections = Array.isArray(t.sections)
    ? t.sections.filter((s): s is { id: string; name?: string } => typeof s === 'object' && s !== null && typeof (s as { id?: unknown }).id === 'string')
    : [];
  return {
    id: tenderId,
    code: typeof t.code === 'string' ? t.code : undefined,
    name: typeof t.name === 'string' ? t.name : undefined,
    status: typeof t.status === 'string' ? t.status : undefined,
    bidDeadline: deadline,
    decryptionWindowMinutes: typeof t.decryptionWindowMinutes === 'number' ? t.decryptionWindowMinutes : undefined,
    sections,
  };
}

async function fetchOpeningCertificate(server: string, token: string, tenderId: string): Promise<{ pem: string; info: CertificateInfo }> {
  const body = await apiRequest<unknown>(server, 'GET', `/api/v1/tenders/${encodeURIComponent(tenderId)}/opening-key`, { token });
  const pem = typeof body === 'object' && body !== null ? (body as { certificatePem?: unknown }).certificatePem : undefined;
  if (typeof pem !== 'string') throw unexpected('opening key without certificatePem');
  try {
    const info = parseCertificate(pem);
    if (info.usage !== 'opening') throw unexpected('the tender’s opening certificate is not an opening certificate');
    return { pem, info };
  } catch (e) {
    if (e instanceof PkiError) throw unexpected(`opening certificate: ${e.message}`);
    throw e;
  }
}

function tenderTitle(t: TenderInfo): string {
  return [t.code, t.name].filter(Boolean).join(' ') || t.id;
}

// ---------------------------------------------------------------------------
// encrypt
// ---------------------------------------------------------------------------

async function encrypt(ctx: CliContext, opts: EncryptOptions): Promise<void> {
  requireFile(opts.in, '待加密', 'input');
  if (sameFile(opts.in, opts.out)) throw new CliExit(EXIT_BAD_INPUT, '--in 与 --out 不能是同一文件 / --in and --out must differ');
  refuseOverwrite(opts.out, opts.force);
  if (opts.tender !== undefined && (opts.server === undefined || opts.dir === undefined)) {
    throw new CliExit(EXIT_BAD_INPUT, '--tender 需要同时给出 --server 和 --dir / --tender needs --server and --dir');
  }

  const now = ctx.now();
  const caPem = opts.ca !== undefined ? readTextFile(opts.ca, 'CA 证书', 'CA certificate') : localCa(opts.dir);
  const recipients: Array<{ pem: string; info: CertificateInfo; source: string }> = [];

  if (opts.tender !== undefined) {
    const server = normaliseServer(opts.server!);
    const token = readSavedToken(accountPaths(opts.dir!).token);
    const opening = await withLoginHint(server, opts.dir!, () => fetchOpeningCertificate(server, token, opts.tender!));
    recipients.push({ ...opening, source: `招标项目 / tender ${opts.tender} 开标证书 / opening certificate` });
  }
  if (opts.dir !== undefined) {
    const file = accountPaths(opts.dir).encryptionCert;
    recipients.push({ ...readCertificate(file, '加密证书', 'encryption certificate'), source: file });
  }
  for (const file of opts.recipient) {
    recipients.push({ ...readCertificate(file, '收件人证书', 'recipient certificate'), source: file });
  }
  if (recipients.length === 0) {
    throw new CliExit(EXIT_BAD_INPUT, '没有收件人：给出 --recipient，或 --tender 与 --dir / No recipients: give --recipient, or --tender with --dir');
  }

  // Only certificates meant for key transport, valid now and (when the CA is at hand) issued by it.
  for (const r of recipients) {
    if (!RECIPIENT_USAGES.includes(r.info.usage as CertificateUsage)) {
      throw new CliExit(
        EXIT_BAD_INPUT,
        `收件人证书不是加密或开标证书（用途：${USAGE_LABELS[r.info.usage]}）/ Recipient is not an encryption or opening certificate: ${r.source}`,
      );
    }
    const problem = caPem !== undefined ? certificateProblem(r.pem, caPem, now, r.info.usage as CertificateUsage) : timeProblem(r.info, now);
    if (problem !== undefined) {
      throw new CliExit(EXIT_BAD_INPUT, `收件人证书不可用 / Recipient certificate unusable: ${r.source}: ${problem} — ${PROBLEM_LABELS[problem]}`);
    }
  }
  const unique = recipients.filter((r, i) => recipients.findIndex((o) => o.info.fingerprintSha256 === r.info.fingerprintSha256) === i);

  let result: { length: number; sha256: string };
  try {
    result = await encryptFile(opts.in, opts.out, unique.map((r) => r.pem));
  } catch (e) {
    if (e instanceof PkiError || e instanceof RangeError || e instanceof EnvelopeError) {
      throw new CliExit(EXIT_BAD_INPUT, `加密失败 / Encryption failed: ${e.message}`);
    }
    throw new CliExit(EXIT_BAD_INPUT, `加密失败 / Encryption failed: ${reasonOf(e)}`);
  }

  const plainSize = fs.statSync(opts.in).size;
  println(ctx.stdout, `已加密 / Sealed: ${opts.in} → ${opts.out}`);
  println(ctx.stdout, `收件人 / Recipients (${unique.length}):`);
  for (const r of unique) {
    println(ctx.stdout, `  ${USAGE_LABELS[r.info.usage]}  ${formatName(r.info.subject)}  序列号 / serial ${r.info.serialHex}`);
  }
  println(ctx.stdout, `原文大小 / Plaintext size: ${formatSize(plainSize)}`);
  println(ctx.stdout, `信封大小 / Envelope size:  ${formatSize(result.length)}`);
  println(ctx.stdout, `信封 SHA-256 / Envelope SHA-256: ${result.sha256}`);
  if (!unique.some((r) => r.info.usage === 'opening')) {
    println(ctx.stderr, '注意：收件人中没有开标证书，平台不会接收此信封 / Note: no opening certificate among the recipients; the platform will refuse this envelope');
  }
  if (!unique.some((r) => r.info.usage === 'encryption')) {
    println(ctx.stderr, '注意：收件人中没有本单位加密证书，开标时无法远程解密 / Note: no encryption certificate of yours among the recipients; you could not decrypt it at the opening');
  }
  println(ctx.stdout, '下一步：bidtool test-decrypt 自检，然后 bidtool submit 递交 / Next: bidtool test-decrypt, then bidtool submit');
}

function timeProblem(info: CertificateInfo, at: Date): 'NOT_YET_VALID' | 'EXPIRED' | undefined {
  if (at.getTime() < info.notBefore.getTime()) return 'NOT_YET_VALID';
  if (at.getTime() > info.notAfter.getTime()) return 'EXPIRED';
  return undefined;
}

function certificateProblem(pem: string, caPem: string, at: Date, usage: CertificateUsage) {
  try {
    const r = checkCertificate(pem, caPem, at, usage);
    return r.ok ? undefined : r.problem;
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `证书无效 / Invalid certificate: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// decrypt
// ---------------------------------------------------------------------------

async function decrypt(ctx: CliContext, opts: DecryptOptions): Promise<void> {
  requireFile(opts.in, '数字信封', 'envelope');
  if (sameFile(opts.in, opts.out)) throw new CliExit(EXIT_BAD_INPUT, '--in 与 --out 不能是同一文件 / --in and --out must differ');
  refuseOverwrite(opts.out, opts.force);
  const certFile = opts.cert ?? path.join(path.dirname(opts.key), 'encryption.cert.pem');
  const privateKeyPem = readTextFile(opts.key, '私钥', 'private key');
  const certificatePem = readTextFile(certFile, '证书', 'certificate');
  let plaintextLength: number;
  try {
    ({ plaintextLength } = await decryptFile(opts.in, opts.out, { privateKeyPem, certificatePem }));
  } catch (e) {
    if (e instanceof EnvelopeError) throw envelopeExit(e, `解密失败，未写出文件 / Decryption failed, nothing written`);
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥或证书无效 / Invalid key or certificate: ${e.message}`);
    throw new CliExit(EXIT_BAD_INPUT, `解密失败 / Decryption failed: ${reasonOf(e)}`);
  }
  println(ctx.stdout, `已解密，认证标签验证通过 / Decrypted, authentication tag verified: ${opts.out}`);
  println(ctx.stdout, `大小 / Size: ${formatSize(plaintextLength)}`);
}

// ---------------------------------------------------------------------------
// sign
// ---------------------------------------------------------------------------

interface SigningMaterial {
  privateKeyPem: string;
  certificatePem: string;
  info: CertificateInfo;
}

function readSigningKey(ctx: CliContext, dir: string): SigningMaterial {
  const files = accountPaths(dir);
  const privateKeyPem = readTextFile(files.signingKey, '签名私钥', 'signing key');
  const cert = readCertificate(files.signingCert, '签名证书', 'signing certificate');
  const caPem = localCa(dir);
  const problem = caPem !== undefined ? certificateProblem(cert.pem, caPem, ctx.now(), 'signing') : cert.info.usage !== 'signing' ? 'WRONG_USAGE' : timeProblem(cert.info, ctx.now());
  if (problem !== undefined) {
    throw new CliExit(EXIT_BAD_INPUT, `签名证书不可用 / Signing certificate unusable: ${files.signingCert}: ${problem} — ${PROBLEM_LABELS[problem]}`);
  }
  return { privateKeyPem, certificatePem: cert.pem, info: cert.info };
}

function signEnvelopeDigest(ctx: CliContext, key: SigningMaterial, sha256Hex: string): Buffer {
  try {
    return signDigest({ sha256Hex, certificatePem: key.certificatePem, privateKeyPem: key.privateKeyPem, signingTime: ctx.now() });
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `签名私钥或证书无效 / Invalid signing key or certificate: ${e.message}`);
    throw e;
  }
}

async function sign(ctx: CliContext, opts: SignOptions): Promise<void> {
  const out = opts.out ?? `${opts.in}.p7s`;
  refuseOverwrite(out, opts.force);
  const key = readSigningKey(ctx, opts.dir);
  // Only an envelope is signed: signing the plaintext package by mistake is caught here.
  const inspection = await inspectEnvelope(opts.in);
  const signature = signEnvelopeDigest(ctx, key, inspection.sha256);
  verifyDetachedSignature(signature, inspection.sha256);
  writeFileAtomic(out, signature);
  println(ctx.stdout, `已签名 / Signed: ${opts.in}`);
  println(ctx.stdout, `信封 SHA-256 / Envelope SHA-256: ${inspection.sha256}`);
  println(ctx.stdout, `签名证书 / Signing certificate: ${formatName(key.info.subject)}，序列号 / serial ${key.info.serialHex}`);
  println(ctx.stdout, `签名文件 / Signature: ${out}`);
}

// ---------------------------------------------------------------------------
// submit: the platform calls of the upload, with failures told apart
// ---------------------------------------------------------------------------

/** The platform answered with `{ error: { code, message, details } }`. */
class PlatformRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }

  describe(): string {
    return `平台拒绝请求 / Request refused by the platform (HTTP ${this.status}): ${this.code}: ${this.message}`;
  }
}

/** Worth trying again: the network failed, timed out, or the server was unavailable. */
class TransientFailure extends Error {}

/** A problem on this machine while sending (the file changed or could not be read). */
class LocalFailure extends Error {}

const JSON_TIMEOUT_MS = 30_000;
/** No byte taken by the connection for this long: give the chunk up. */
const CHUNK_IDLE_MS = 120_000;
/** After the last byte of the envelope the server assembles and checks it all: allow it time. */
const FINAL_RESPONSE_MS = 30 * 60_000;

interface ChunkAnswer {
  offset: number;
  complete: boolean;
  submission?: unknown;
}

interface SubmissionView {
  bidId: string;
  sectionId?: string;
  receiptSerial: string;
  auditSeq: number | undefined;
  token: Buffer;
  supersededBidId: string | null;
}

class UploadClient {
  constructor(
    private readonly fetchImpl: typeof fetch,
    readonly server: string,
    private readonly token: string,
  ) {}

  private async exchange(method: string, apiPath: string, init: { body?: RequestInit['body']; headers?: Record<string, string>; signal?: AbortSignal; duplex?: boolean }): Promise<{ status: number; type: string; body: Buffer }> {
    const url = this.server + apiPath;
    const headers: Record<string, string> = { Accept: 'application/json, */*;q=0.1', Authorization: `Bearer ${this.token}`, ...init.headers };
    try {
      const requestInit: RequestInit & { duplex?: 'half' } = {
        method,
        headers,
        body: init.body,
        signal: init.signal ?? AbortSignal.timeout(JSON_TIMEOUT_MS),
      };
      if (init.duplex) requestInit.duplex = 'half';
      const res = await this.fetchImpl(url, requestInit);
      const body = Buffer.from(await res.arrayBuffer());
      const type = res.headers.get('content-type') ?? '';
      if (!res.ok) throw this.failure(res.status, res.statusText, type, body);
      return { status: res.status, type, body };
    } catch (e) {
      if (e instanceof PlatformRefusal || e instanceof TransientFailure || e instanceof LocalFailure) throw e;
      const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
      if (cause instanceof LocalFailure) throw cause;
      if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
        throw new TransientFailure(`请求超时 / request timed out`);
      }
      throw new TransientFailure(`无法连接平台 / cannot reach the platform (${cause?.code ?? cause?.message ?? reasonOf(e)})`);
    }
  }

  private failure(status: number, statusText: string, type: string, body: Buffer): Error {
    let parsed: unknown;
    if (/json/i.test(type)) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
    const err = typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
    const transientStatus = status >= 500 || status === 429 || status === 408;
    if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') {
      const { code, message, details } = err as { code: string; message?: unknown; details?: unknown };
      if (transientStatus) return new TransientFailure(`平台暂时不可用 / platform unavailable (HTTP ${status} ${code})`);
      return new PlatformRefusal(status, code, String(message ?? ''), typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {});
    }
    if (transientStatus) return new TransientFailure(`平台暂时不可用 / platform unavailable (HTTP ${status} ${statusText})`);
    return new PlatformRefusal(status, `HTTP_${status}`, statusText || 'unexpected answer', {});
  }

  async json<T>(method: 'GET' | 'POST' | 'DELETE', apiPath: string, body?: unknown): Promise<T> {
    const r = await this.exchange(method, apiPath, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    });
    if (r.status === 204 || r.body.length === 0) return undefined as T;
    try {
      return JSON.parse(r.body.toString('utf8')) as T;
    } catch {
      throw new TransientFailure(`平台返回的 JSON 无法解析 / malformed JSON from the platform`);
    }
  }

  async binary(apiPath: string): Promise<Buffer> {
    return (await this.exchange('GET', apiPath, { headers: { Accept: '*/*' } })).body;
  }

  /** Sends bytes [offset, end) of the open file; `onSent` follows the bytes the connection takes. */
  async patchChunk(uploadId: string, file: fs.promises.FileHandle, offset: number, end: number, size: number, onSent: (position: number) => void): Promise<ChunkAnswer> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new DOMException('chunk timed out', 'TimeoutError')), ms);
    };
    let position = offset;
    const PIECE = 256 * 1024;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          arm(CHUNK_IDLE_MS);
          const n = Math.min(PIECE, end - position);
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await file.read(buf, 0, n, position);
          if (bytesRead !== n) {
            // fetch rejects with this as the cause; exchange() turns it back into a LocalFailure
            throw new LocalFailure('数字信封文件在上传中被改动或截断 / the envelope file changed or was truncated during the upload');
          }
          position += n;
          c.enqueue(buf);
          onSent(position);
          if (position >= end) {
            c.close();
            arm(end >= size ? FINAL_RESPONSE_MS : CHUNK_IDLE_MS);
          }
        },
      },
      { highWaterMark: 0 },
    );
    arm(CHUNK_IDLE_MS);
    try {
      const r = await this.exchange('PATCH', `/api/v1/bid-uploads/${encodeURIComponent(uploadId)}`, {
        body,
        duplex: true,
        signal: controller.signal,
        headers: {
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(end - offset),
        },
      });
      const answer = JSON.parse(r.body.toString('utf8')) as Partial<ChunkAnswer>;
      if (typeof answer.offset !== 'number' || typeof answer.complete !== 'boolean') throw new TransientFailure('unexpected answer to a chunk');
      return answer as ChunkAnswer;
    } catch (e) {
      if (e instanceof SyntaxError) throw new TransientFailure('malformed answer to a chunk');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

interface UploadState {
  version: 1;
  server: string;
  tenderId: string;
  sectionId: string;
  uploadId: string;
  size: number;
  sha256: string;
  startedAt: string;
}

function readState(file: string): UploadState | undefined | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<UploadState>;
    if (
      s.version === 1 &&
      typeof s.uploadId === 'string' &&
      typeof s.server === 'string' &&
      typeof s.tenderId === 'string' &&
      typeof s.sectionId === 'string' &&
      typeof s.size === 'number' &&
      typeof s.sha256 === 'string'
    ) {
      return s as UploadState;
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

function writeState(file: string, state: UploadState): void {
  writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', 0o600);
}

function readSignatureFile(file: string): Buffer {
  requireFile(file, '签名', 'signature');
  const raw = fs.readFileSync(file);
  const text = raw.subarray(0, 64).toString('latin1');
  if (text.startsWith('-----BEGIN')) {
    const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/.exec(raw.toString('latin1'));
    return Buffer.from((m?.[1] ?? '').replace(/\s+/g, ''), 'base64');
  }
  return raw;
}

function parseSubmission(value: unknown): SubmissionView | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as { bid?: { id?: unknown; sectionId?: unknown }; receipt?: { serialHex?: unknown; auditSeq?: unknown; token?: unknown }; supersededBidId?: unknown };
  if (typeof s.bid?.id !== 'string' || typeof s.receipt?.token !== 'string' || typeof s.receipt.serialHex !== 'string') return undefined;
  return {
    bidId: s.bid.id,
    sectionId: typeof s.bid.sectionId === 'string' ? s.bid.sectionId : undefined,
    receiptSerial: s.receipt.serialHex,
    auditSeq: typeof s.receipt.auditSeq === 'number' ? s.receipt.auditSeq : undefined,
    token: Buffer.from(s.receipt.token, 'base64'),
    supersededBidId: typeof s.supersededBidId === 'string' ? s.supersededBidId : null,
  };
}

/** The upload completed but its answer was lost: find the bid by its digest and fetch the receipt. */
async function recoverSubmission(client: UploadClient, tenderId: string, sectionId: string, sha256: string): Promise<SubmissionView> {
  const list = await client.json<unknown>('GET', `/api/v1/bids?tenderId=${encodeURIComponent(tenderId)}`);
  const bids = Array.isArray(list) ? (list as Array<Record<string, unknown>>) : [];
  // the current bid first (the same envelope may have been sent twice), then the latest
  const rank = (b: Record<string, unknown>) => (b.status === 'current' ? 1 : 0);
  const bid = bids
    .filter((b) => b.envelopeSha256 === sha256 && b.sectionId === sectionId)
    .sort((a, b) => rank(b) - rank(a) || String(b.receivedAt).localeCompare(String(a.receivedAt)))[0];
  if (!bid || typeof bid.id !== 'string' || typeof bid.receiptSerial !== 'string') {
    throw new CliExit(EXIT_FAILED, '上传已完成，但平台上找不到对应的投标文件 / The upload is complete but no bid with this digest was found on the platform');
  }
  const token = await client.binary(`/api/v1/bids/${encodeURIComponent(bid.id)}/receipt.tsr`);
  return {
    bidId: bid.id,
    sectionId,
    receiptSerial: bid.receiptSerial,
    auditSeq: typeof bid.auditSeq === 'number' ? bid.auditSeq : undefined,
    token,
    supersededBidId: null,
  };
}

// ---------------------------------------------------------------------------
// submit
// ---------------------------------------------------------------------------

/** Refusals after which the upload cannot continue (the state file is removed); a rejected token is not one of them. */
function endsUpload(r: PlatformRefusal): boolean {
  // HTTP_nnn: not the platform's own answer (a proxy, say); the upload may well be intact
  if (r.code.startsWith('HTTP_')) return false;
  return r.code !== 'TOKEN_INVALID' && r.code !== 'UNAUTHENTICATED' && r.code !== 'UPLOAD_OFFSET_MISMATCH';
}

async function submit(ctx: BidCliContext, opts: SubmitOptions): Promise<void> {
  const server = normaliseServer(opts.server);
  const files = accountPaths(opts.dir);
  const token = readSavedToken(files.token);
  const hooks = ctx.uploadHooks ?? {};
  const client = new UploadClient(hooks.fetch ?? fetch, server, token);
  const stateFile = `${opts.in}.upload.json`;

  const inspection = await inspectEnvelope(opts.in);
  const size = inspection.totalLength;
  const sha256 = inspection.sha256;
  const own = readCertificate(files.encryptionCert, '加密证书', 'encryption certificate');

  // Checks the platform would only make after the last byte: better to fail before uploading gigabytes.
  const tender = await withLoginHint(server, opts.dir, () => fetchTender(server, token, opts.tender));
  if (tender.sections.length > 0 && !tender.sections.some((s) => s.id === opts.section)) {
    const known = tender.sections.map((s) => `  ${s.id}  ${s.name ?? ''}`).join('\n');
    throw new CliExit(EXIT_BAD_INPUT, `该项目没有此标段 / No such section in this tender: ${opts.section}\n本项目标段 / Sections:\n${known}`);
  }
  const opening = await withLoginHint(server, opts.dir, () => fetchOpeningCertificate(server, token, opts.tender));
  if (!addressedTo(inspection, opening.pem)) {
    throw new CliExit(
      EXIT_BAD_INPUT,
      '信封未加密给本项目的开标证书，平台不会接收；请用 bidtool encrypt --tender 重新加密 / ' +
        'The envelope is not addressed to this tender’s opening certificate; the platform would refuse it. Re-seal with bidtool encrypt --tender',
    );
  }
  if (!addressedTo(inspection, own.pem)) {
    throw new CliExit(
      EXIT_BAD_INPUT,
      `信封未加密给本单位加密证书 (${files.encryptionCert})，开标时无法解密 / ` +
        'The envelope is not addressed to your encryption certificate; you could not decrypt it at the opening',
    );
  }

  println(ctx.stdout, `招标项目 / Tender: ${tenderTitle(tender)}`);
  println(ctx.stdout, `投标截止 / Bid deadline: ${formatShanghaiTime(tender.bidDeadline)}（以平台服务器时间为准 / the platform’s clock decides）`);
  println(ctx.stdout, `信封 / Envelope: ${opts.in}  ${formatSize(size)}`);
  println(ctx.stdout, `信封 SHA-256 / Envelope SHA-256: ${sha256}`);

  try {
    const submission = await runUpload(ctx, client, opts, { size, sha256, stateFile, hooks });
    await finishSubmission(ctx, client, opts, { sha256, stateFile, submission });
  } catch (e) {
    if (e instanceof PlatformRefusal) {
      if (e.code === 'TOKEN_INVALID' || e.code === 'UNAUTHENTICATED') {
        throw new CliExit(EXIT_BAD_INPUT, `${e.describe()}\n${loginHint(server, opts.dir)}\n登录后重新运行本命令即可续传 / Then run this command again to resume.`);
      }
      if (endsUpload(e)) fs.rmSync(stateFile, { force: true });
      const hint = e.status === 413 && e.code !== 'BID_TOO_LARGE' ? '\n请求过大，可用更小的 --chunk-mib 重新运行 / Request too large: run again with a smaller --chunk-mib' : '';
      throw new CliExit(EXIT_BAD_INPUT, e.describe() + hint);
    }
    if (e instanceof TransientFailure) {
      const next = fs.existsSync(stateFile)
        ? '进度已保存，重新运行同一命令即可续传 / Progress is saved: run the same command again to resume.'
        : '请稍后重新运行同一命令 / Run the same command again later.';
      throw new CliExit(EXIT_FAILED, `${e.message}\n${next}`);
    }
    if (e instanceof LocalFailure) throw new CliExit(EXIT_BAD_INPUT, e.message);
    throw e;
  }
}

async function runUpload(
  ctx: BidCliContext,
  client: UploadClient,
  opts: SubmitOptions,
  job: { size: number; sha256: string; stateFile: string; hooks: UploadHooks },
): Promise<SubmissionView> {
  const { size, sha256, stateFile } = job;
  let uploadId: string | undefined;
  let offset = 0;

  const state = readState(stateFile);
  if (state === 'unreadable') {
    println(ctx.stderr, `续传状态文件无法读取，将重新开始上传 / The resume state file is unreadable; starting a new upload: ${stateFile}`);
  } else if (state !== undefined) {
    if (state.server !== client.server || state.tenderId !== opts.tender || state.sectionId !== opts.section) {
      throw new CliExit(
        EXIT_BAD_INPUT,
        `续传状态属于另一个平台、项目或标段；如确需重新上传请删除该文件 / The resume state belongs to another server, tender or section; ` +
          `delete it to start over: ${stateFile}`,
      );
    }
    if (state.sha256 !== sha256 || state.size !== size) {
      println(ctx.stderr, '信封已改变，放弃之前未完成的上传并重新开始 / The envelope has changed: abandoning the unfinished upload and starting anew');
      await client.json('DELETE', `/api/v1/bid-uploads/${encodeURIComponent(state.uploadId)}`).catch(() => undefined);
      fs.rmSync(stateFile, { force: true });
    } else {
      try {
        const st = await client.json<ChunkAnswer>('GET', `/api/v1/bid-uploads/${encodeURIComponent(state.uploadId)}`);
        if (st.complete) {
          println(ctx.stderr, '上次上传已完成，取回回执 / The previous upload had completed: fetching the receipt');
          return await recoverSubmission(client, opts.tender, opts.section, sha256);
        }
        uploadId = state.uploadId;
        offset = st.offset;
        println(ctx.stderr, `续传 / Resuming upload ${uploadId} at ${formatMiB(offset)}/${formatMiB(size)} MiB (offset ${offset})`);
        if (opts.signature !== undefined) println(ctx.stderr, '续传沿用开始上传时的签名，忽略 --signature / Resuming keeps the signature given at the start; --signature is ignored');
      } catch (e) {
        if (!(e instanceof PlatformRefusal) || e.code === 'TOKEN_INVALID' || e.code === 'UNAUTHENTICATED') throw e;
        println(ctx.stderr, `之前的上传不可续传（${e.code}），重新开始 / The earlier upload cannot be resumed (${e.code}); starting anew`);
        fs.rmSync(stateFile, { force: true });
      }
    }
  }

  if (uploadId === undefined) {
    const signature = signatureFor(ctx, opts, sha256);
    const started = await client.json<{ uploadId?: unknown; offset?: unknown }>(
      'POST',
      `/api/v1/tenders/${encodeURIComponent(opts.tender)}/sections/${encodeURIComponent(opts.section)}/bid-uploads`,
      { size, sha256, signature: signature.toString('base64') },
    );
    if (typeof started?.uploadId !== 'string') throw unexpected('upload without uploadId');
    uploadId = started.uploadId;
    offset = typeof started.offset === 'number' ? started.offset : 0;
    writeState(stateFile, {
      version: 1,
      server: client.server,
      tenderId: opts.tender,
      sectionId: opts.section,
      uploadId,
      size,
      sha256,
      startedAt: ctx.now().toISOString(),
    });
    println(ctx.stderr, `开始上传 / Upload started: ${uploadId}（进度保存在 / progress kept in ${stateFile}）`);
  }

  const chunk = Math.max(64 * 1024, Math.round(opts.chunkMib * MIB));
  const baseDelay = job.hooks.retryDelayMs ?? 1000;
  const progress = new TransferProgress(ctx.stderr, size, '上传 / Upload');
  const file = await fs.promises.open(opts.in, 'r');
  const id = uploadId;
  const serverOffset = async (): Promise<ChunkAnswer> => client.json<ChunkAnswer>('GET', `/api/v1/bid-uploads/${encodeURIComponent(id)}`);
  try {
    progress.start(offset);
    let failures = 0;
    let mismatches = 0;
    for (;;) {
      if (offset >= size) {
        // every byte is there but no answer said so: ask
        const st = await serverOffset();
        if (st.complete) {
          progress.finish();
          return await recoverSubmission(client, opts.tender, opts.section, sha256);
        }
        throw new PlatformRefusal(409, 'UPLOAD_NOT_OPEN', '上传已结束但未生成投标文件，请重新递交 (the upload ended without a bid; submit again)', {});
      }
      const end = Math.min(size, offset + chunk);
      try {
        const answer = await client.patchChunk(id, file, offset, end, size, (p) => progress.update(p));
        failures = 0;
        mismatches = 0;
        offset = answer.offset;
        progress.update(offset);
        if (answer.complete) {
          progress.finish();
          return parseSubmission(answer.submission) ?? (await recoverSubmission(client, opts.tender, opts.section, sha256));
        }
      } catch (e) {
        if (e instanceof PlatformRefusal && e.code === 'UPLOAD_OFFSET_MISMATCH' && typeof e.details.offset === 'number' && ++mismatches <= 5) {
          offset = e.details.offset;
          progress.note(`平台记录的位置为 ${offset}，从该处继续 / The platform has ${offset} bytes: continuing from there`);
          progress.update(offset);
          continue;
        }
        if (!(e instanceof TransientFailure)) {
          progress.finish();
          throw e;
        }
        failures++;
        if (failures > opts.retries) {
          progress.finish();
          throw new TransientFailure(`上传中断（已重试 ${opts.retries} 次）/ Upload interrupted after ${opts.retries} retries: ${e.message}`);
        }
        const delay = backoffDelay(baseDelay, failures);
        progress.note(`发送失败，${(delay / 1000).toFixed(1)} 秒后重试（${failures}/${opts.retries}）/ Sending failed, retrying in ${(delay / 1000).toFixed(1)} s (${failures}/${opts.retries}): ${e.message}`);
        await sleep(delay);
        try {
          const st = await serverOffset();
          if (st.complete) {
            progress.finish();
            return await recoverSubmission(client, opts.tender, opts.section, sha256);
          }
          offset = st.offset;
          progress.update(offset);
        } catch (e2) {
          if (!(e2 instanceof TransientFailure)) {
            progress.finish();
            throw e2;
          }
          // keep the offset we had; a wrong one is corrected by UPLOAD_OFFSET_MISMATCH
        }
      }
    }
  } finally {
    await file.close();
  }
}

function signatureFor(ctx: CliContext, opts: SubmitOptions, sha256: string): Buffer {
  if (opts.signature !== undefined) {
    const der = readSignatureFile(opts.signature);
    try {
      verifyDetachedSignature(der, sha256);
    } catch (e) {
      if (e instanceof SignatureError) {
        throw new CliExit(EXIT_BAD_INPUT, `签名与该信封不符 / The signature does not match this envelope [${e.code}]: ${opts.signature}`);
      }
      throw e;
    }
    return der;
  }
  return signEnvelopeDigest(ctx, readSigningKey(ctx, opts.dir), sha256);
}

async function platformCa(client: UploadClient, dir: string): Promise<{ pem: string; source: string }> {
  const local = localCa(dir);
  if (local !== undefined) return { pem: local, source: accountPaths(dir).ca };
  const fetched = await client.binary('/api/v1/pki/ca-certificate');
  return { pem: fetched.toString('utf8'), source: `${client.server}/api/v1/pki/ca-certificate` };
}

function sameSerial(a: string, b: string): boolean {
  try {
    return normalizeSerialHex(a) === normalizeSerialHex(b);
  } catch {
    return a.toLowerCase() === b.toLowerCase();
  }
}

async function finishSubmission(
  ctx: CliContext,
  client: UploadClient,
  opts: SubmitOptions,
  job: { sha256: string; stateFile: string; submission: SubmissionView },
): Promise<void> {
  const { submission: s, sha256 } = job;
  const tsrFile = `${opts.in}.tsr`;
  const pdfFile = `${opts.in}.回执.pdf`;
  // The receipt is evidence whatever the check below finds: keep it.
  writeFileAtomic(tsrFile, s.token);
  fs.rmSync(job.stateFile, { force: true });

  let info: TimeStampInfo | undefined;
  let problem: string | undefined;
  let caSource = '';
  try {
    const ca = await platformCa(client, opts.dir);
    caSource = ca.source;
    info = verifyTimeStampResponse(s.token, { sha256Hex: sha256, caCertificatePem: ca.pem });
    if (!sameSerial(info.serialHex, s.receiptSerial)) problem = `回执序列号不符 / receipt serial differs (${info.serialHex} ≠ ${s.receiptSerial})`;
  } catch (e) {
    if (e instanceof TimestampError) problem = `[${e.code}] ${e.message}`;
    else if (e instanceof PlatformRefusal || e instanceof TransientFailure) problem = `无法取得平台 CA 证书 / cannot get the platform CA: ${e.message}`;
    else if (e instanceof PkiError) problem = `CA 证书无效 / invalid CA certificate: ${e.message}`;
    else throw e;
  }

  let pdfNote: string;
  try {
    writeFileAtomic(pdfFile, await client.binary(`/api/v1/bids/${encodeURIComponent(s.bidId)}/receipt.pdf`));
    pdfNote = pdfFile;
  } catch (e) {
    if (!(e instanceof PlatformRefusal || e instanceof TransientFailure)) throw e;
    pdfNote = `未能下载，可稍后在平台下载 / not downloaded, get it from the platform later (${e instanceof PlatformRefusal ? e.code : e.message})`;
  }

  println(ctx.stdout, '投标文件已递交 / Bid submitted');
  println(ctx.stdout, `  投标文件 ID / Bid id:          ${s.bidId}`);
  println(ctx.stdout, `  回执序列号 / Receipt serial:   ${info?.serialHex ?? s.receiptSerial}`);
  if (info) println(ctx.stdout, `  接收时间 / Received at:       ${formatShanghaiTime(info.genTime)}`);
  if (s.auditSeq !== undefined) println(ctx.stdout, `  审计序号 / Audit sequence:     ${s.auditSeq}`);
  if (s.supersededBidId) println(ctx.stdout, `  替换了之前递交的 / Supersedes bid: ${s.supersededBidId}`);
  println(ctx.stdout, `  时间戳回执 / Receipt (RFC 3161): ${tsrFile}`);
  println(ctx.stdout, `  回执 PDF / Receipt PDF:        ${pdfNote}`);
  if (problem !== undefined) {
    throw new CliExit(
      EXIT_FAILED,
      `回执校验未通过 / Receipt check FAILED: ${problem}\n` +
        `平台已接收该投标文件 (${s.bidId})，请保留上述文件并联系交易中心 / The platform did receive the bid; keep the files above and contact the trading centre.`,
    );
  }
  println(ctx.stdout, `  回执校验 / Receipt check:      通过 / OK（与信封 SHA-256 一致，时间戳证书由平台 CA 签发 / matches the envelope SHA-256; TSA certificate issued by the platform CA: ${caSource}）`);
}

// ---------------------------------------------------------------------------
// test-decrypt
// ---------------------------------------------------------------------------

interface CheckLine {
  ok: boolean;
  text: string;
}

async function testDecrypt(ctx: CliContext, opts: TestDecryptOptions): Promise<void> {
  if ((opts.server === undefined) !== (opts.tender === undefined)) {
    throw new CliExit(EXIT_BAD_INPUT, '--server 与 --tender 须同时给出 / --server and --tender go together');
  }
  requireFile(opts.in, '数字信封', 'envelope');
  const key = readEncryptionKey(opts.dir);
  const caPem = localCa(opts.dir);
  const checks: CheckLine[] = [];
  const check = (ok: boolean, text: string) => {
    checks.push({ ok, text });
    println(ctx.stdout, `  ${ok ? '✓' : '✗'} ${text}`);
  };
  println(ctx.stdout, `解密自检 / Decryption self-test: ${opts.in}`);

  let inspection: EnvelopeInspection | undefined;
  try {
    inspection = await inspectFile(opts.in);
    check(true, `信封结构完整（${inspection.recipients.length} 个收件人，${formatSize(inspection.totalLength)}）/ Envelope structure is valid`);
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw new CliExit(EXIT_BAD_INPUT, `无法读取数字信封文件 / Cannot read envelope file: ${reasonOf(e)}`);
    check(false, `信封结构 / Envelope structure: ${envelopeLabel(e)}`);
  }

  if (caPem !== undefined) {
    const problem = certificateProblem(key.certificatePem, caPem, ctx.now(), 'encryption');
    check(
      problem === undefined,
      problem === undefined
        ? `加密证书由平台 CA 签发且当前有效（序列号 ${key.info.serialHex}）/ Encryption certificate issued by the platform CA and valid now`
        : `加密证书 / Encryption certificate: ${problem} — ${PROBLEM_LABELS[problem]}`,
    );
  } else {
    const problem = key.info.usage !== 'encryption' ? 'WRONG_USAGE' : timeProblem(key.info, ctx.now());
    check(
      problem === undefined,
      problem === undefined
        ? `加密证书当前有效（序列号 ${key.info.serialHex}，未找到 ca.pem，未校验签发者）/ Encryption certificate valid now (no ca.pem: issuer not checked)`
        : `加密证书 / Encryption certificate: ${problem} — ${PROBLEM_LABELS[problem]}`,
    );
  }

  if (inspection) {
    const mine = addressedTo(inspection, key.certificatePem);
    check(mine, mine ? '信封加密给了本单位加密证书 / The envelope is addressed to your encryption certificate' : `信封未加密给本单位加密证书 / The envelope is NOT addressed to your encryption certificate`);

    let contentKey: Buffer | undefined;
    try {
      contentKey = unwrapContentKey(inspection, key);
      check(true, '私钥解开了内容密钥 / Your private key unwraps the content key');
    } catch (e) {
      if (e instanceof EnvelopeError) check(false, `解开内容密钥 / Unwrapping the content key: ${envelopeLabel(e)}`);
      else if (e instanceof PkiError) check(false, `私钥与证书 / Key and certificate: ${e.message}`);
      else throw e;
    }
    if (contentKey) {
      try {
        const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
        const { plaintextLength } = await decryptStream(fs.createReadStream(opts.in), sink, { contentKey });
        check(true, `全文解密成功，GCM 认证标签验证通过（明文 ${formatSize(plaintextLength)}，已丢弃）/ Whole envelope decrypted, GCM tag verified (plaintext discarded)`);
      } catch (e) {
        if (!(e instanceof EnvelopeError)) throw e;
        check(false, `全文解密 / Full decryption: ${envelopeLabel(e)}`);
      } finally {
        contentKey.fill(0);
      }
    }
  }

  if (opts.server !== undefined && opts.tender !== undefined) {
    const server = normaliseServer(opts.server);
    const token = readSavedToken(accountPaths(opts.dir).token);
    const tender = await withLoginHint(server, opts.dir, () => fetchTender(server, token, opts.tender!));
    const opensAt = tender.bidDeadline;
    const windowEnd = new Date(opensAt.getTime() + (tender.decryptionWindowMinutes ?? 0) * 60_000);
    const problem = [opensAt, windowEnd]
      .map((at) => (caPem !== undefined ? certificateProblem(key.certificatePem, caPem, at, 'encryption') : timeProblem(key.info, at)))
      .find((p) => p !== undefined);
    const window = tender.decryptionWindowMinutes ? `，解密时限 ${tender.decryptionWindowMinutes} 分钟 / decryption window ${tender.decryptionWindowMinutes} min` : '';
    check(
      problem === undefined,
      problem === undefined
        ? `开标时加密证书仍有效（开标 ${formatShanghaiTime(opensAt)}${window}；证书至 ${formatShanghaiTime(key.info.notAfter)}）/ The encryption certificate is valid at the opening`
        : `开标时加密证书无效 / The encryption certificate is NOT valid at the opening (${formatShanghaiTime(opensAt)}): ${problem} — ${PROBLEM_LABELS[problem]}`,
    );
    const opening = await withLoginHint(server, opts.dir, () => fetchOpeningCertificate(server, token, opts.tender!));
    if (inspection) {
      const forTender = addressedTo(inspection, opening.pem);
      check(
        forTender,
        forTender
          ? `信封加密给了本项目开标证书（${tenderTitle(tender)}）/ The envelope is addressed to the tender’s opening certificate`
          : `信封未加密给本项目开标证书（${tenderTitle(tender)}），平台不会接收 / The envelope is NOT addressed to the tender’s opening certificate`,
      );
    }
  }

  const failed = checks.filter((c) => !c.ok).length;
  if (failed > 0) throw new CliExit(EXIT_FAILED, `自检未通过：${failed} 项失败 / Self-test FAILED: ${failed} check(s) failed`);
  println(ctx.stdout, '自检通过 / Self-test passed');
}

// ---------------------------------------------------------------------------
// verify-receipt
// ---------------------------------------------------------------------------

async function verifyReceipt(ctx: CliContext, opts: VerifyReceiptOptions): Promise<void> {
  requireFile(opts.in, '数字信封', 'envelope');
  requireFile(opts.receipt, '回执', 'receipt');
  const caPem = readTextFile(opts.ca, 'CA 证书', 'CA certificate');
  const sha256 = await sha256File(opts.in);
  let info: TimeStampInfo;
  try {
    info = verifyTimeStampResponse(fs.readFileSync(opts.receipt), { sha256Hex: sha256, caCertificatePem: caPem });
  } catch (e) {
    if (e instanceof TimestampError) throw new CliExit(EXIT_FAILED, `回执校验未通过 / Receipt check FAILED [${e.code}]: ${e.message}`);
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `CA 证书无效 / Invalid CA certificate: ${e.message}`);
    throw e;
  }
  const tsa = info.tsaCertificatePem ? parseCertificate(info.tsaCertificatePem) : undefined;
  println(ctx.stdout, '回执校验通过 / Receipt verified');
  println(ctx.stdout, `  时间 / Time:            ${formatShanghaiTime(info.genTime)}`);
  println(ctx.stdout, `  序列号 / Serial:        ${info.serialHex}`);
  println(ctx.stdout, `  策略 / Policy:          ${info.policyOid}${info.policyOid === RECEIPT_POLICY_OID ? '（投标文件接收回执 / bid-envelope receipt policy v1）' : ''}`);
  println(ctx.stdout, `  信封 SHA-256 / Envelope SHA-256: ${info.sha256Hex}`);
  if (tsa) println(ctx.stdout, `  时间戳机构 / TSA:       ${formatName(tsa.subject)}（序列号 / serial ${tsa.serialHex}）`);
}

// ---------------------------------------------------------------------------
// unwrap-key
// ---------------------------------------------------------------------------

async function unwrapKey(ctx: CliContext, opts: UnwrapKeyOptions): Promise<void> {
  if (opts.out !== undefined) refuseOverwrite(opts.out, opts.force);
  const key = readEncryptionKey(opts.dir);
  const inspection = await inspectEnvelope(opts.in);
  let contentKey: Buffer;
  try {
    contentKey = unwrapContentKey(inspection, key);
  } catch (e) {
    if (e instanceof EnvelopeError) throw envelopeExit(e, '无法解出内容密钥 / Cannot unwrap the content key');
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥或证书无效 / Invalid key or certificate: ${e.message}`);
    throw e;
  }
  const b64 = contentKey.toString('base64');
  contentKey.fill(0);
  println(ctx.stderr, '警告：内容密钥可解开投标文件，只能在开标解密时限内交给平台 / WARNING: the content key opens the bid; hand it over only during the decryption window');
  if (opts.out !== undefined) {
    writeSecretFile(opts.out, b64 + '\n', opts.force === true);
    println(ctx.stdout, `内容密钥已写入（权限 0600）/ Content key written (mode 0600): ${opts.out}`);
    return;
  }
  println(ctx.stdout, b64);
}
