/** Certificate commands: cert-info, check-cert. */
import { Option, type Command } from 'commander';
import { CERTIFICATE_USAGES, checkCertificate, parseCertificate, PkiError, type CertificateInfo, type CertificateUsage } from '../../pki';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, readTextFile, type CliContext, type CliWriter } from '../context';
import { formatName, formatShanghaiTime, PROBLEM_LABELS, USAGE_LABELS } from '../format';

function printCertificateInfo(w: CliWriter, info: CertificateInfo): void {
  println(w, `主题 / Subject:        ${formatName(info.subject)}`);
  println(w, `签发者 / Issuer:       ${formatName(info.issuer)}`);
  println(w, `序列号 / Serial:       ${info.serialHex}`);
  println(w, `生效时间 / Not before: ${formatShanghaiTime(info.notBefore)}`);
  println(w, `失效时间 / Not after:  ${formatShanghaiTime(info.notAfter)}`);
  println(w, `用途 / Usage:          ${USAGE_LABELS[info.usage]}`);
  println(w, `SHA-256 指纹 / Fingerprint: ${info.fingerprintSha256}`);
}

function asBadInput(e: unknown): never {
  if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `证书无效 / Invalid certificate: ${e.message}`);
  throw e;
}

function parseAt(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new CliExit(EXIT_BAD_INPUT, `时间格式无效 / Invalid time: ${value}`);
  return d;
}

export function registerCertCommands(program: Command, ctx: CliContext): void {
  program
    .command('cert-info')
    .description('显示证书信息 / Show certificate details')
    .requiredOption('--cert <file>', '证书文件 / certificate file (PEM)')
    .action((opts: { cert: string }) => {
      const pem = readTextFile(opts.cert, '证书', 'certificate');
      let info: CertificateInfo;
      try {
        info = parseCertificate(pem);
      } catch (e) {
        asBadInput(e);
      }
      printCertificateInfo(ctx.stdout, info);
    });

  program
    .command('check-cert')
    .description('校验证书是否由 CA 签发、在有效期内、用途正确 / Check issuer, validity and usage of a certificate')
    .requiredOption('--cert <file>', '证书文件 / certificate file (PEM)')
    .requiredOption('--ca <file>', 'CA 证书文件 / CA certificate file (PEM)')
    .addOption(new Option('--usage <usage>', '期望用途 / expected usage').choices([...CERTIFICATE_USAGES]))
    .option('--at <time>', '校验时间 (ISO 8601)，默认当前时间 / time to check at (ISO 8601), default now')
    .action((opts: { cert: string; ca: string; usage?: CertificateUsage; at?: string }) => {
      const certPem = readTextFile(opts.cert, '证书', 'certificate');
      const caPem = readTextFile(opts.ca, 'CA 证书', 'CA certificate');
      const at = opts.at !== undefined ? parseAt(opts.at) : ctx.now();
      let result: ReturnType<typeof checkCertificate>;
      try {
        result = checkCertificate(certPem, caPem, at, opts.usage);
      } catch (e) {
        asBadInput(e);
      }
      if (result.ok) {
        println(ctx.stdout, `证书有效 / Certificate OK (${USAGE_LABELS[result.info.usage]})`);
        return;
      }
      throw new CliExit(EXIT_FAILED, `证书校验失败 / Certificate check failed: ${result.problem} — ${PROBLEM_LABELS[result.problem]}`);
    });
}
