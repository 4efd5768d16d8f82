/** encrypt — seal a file (the bid package) into a CMS envelope for the recipient certificates. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { EnvelopeError, encryptFile } from '../../../envelope';
import { PkiError, type CertificateInfo, type CertificateUsage } from '../../../pki';
import { CliExit, EXIT_BAD_INPUT, println, readTextFile, type CliContext } from '../../context';
import { formatName, PROBLEM_LABELS, USAGE_LABELS } from '../../format';
import { normaliseServer } from '../../http';
import { withLoginHint } from '../../progress';
import { accountPaths } from '../account';
import { formatSize } from '../package';
import { certificateProblem, localCa, readCertificate, readDirToken, reasonOf, refuseOverwrite, requireFile, sameFile, timeProblem } from './shared';
import { fetchOpeningCertificate } from './tender';

const RECIPIENT_USAGES: readonly CertificateUsage[] = ['encryption', 'opening'];

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

export function registerEncryptCommand(program: Command, ctx: CliContext): void {
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
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

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
    const token = readDirToken(opts.dir!);
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
