/** sign — detached CMS signature over the envelope with DIR's signing key. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { PkiError, type CertificateInfo } from '../../../pki';
import { signDigest, verifyDetachedSignature } from '../../../signature';
import { CliExit, EXIT_BAD_INPUT, println, readTextFile, type CliContext } from '../../context';
import { formatName, PROBLEM_LABELS } from '../../format';
import { accountPaths } from '../account';
import { certificateProblem, inspectEnvelope, localCa, readCertificate, refuseOverwrite, requireFile, timeProblem, writeFileAtomic } from './shared';

interface SignOptions {
  in: string;
  dir: string;
  out?: string;
  force?: boolean;
}

export function registerSignCommand(program: Command, ctx: CliContext): void {
  program
    .command('sign')
    .description('对数字信封做电子签名（分离式 CMS 签名）/ Sign the envelope (detached CMS signature)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--dir <dir>', '密钥目录 (signing.key.pem, signing.cert.pem) / key directory')
    .option('--out <file>', '签名文件，默认 <in>.p7s / signature file (default <in>.p7s)')
    .option('--force', '覆盖已有的签名文件 / overwrite an existing signature file', false)
    .action((opts: SignOptions) => sign(ctx, opts));
}

interface SigningMaterial {
  privateKeyPem: string;
  certificatePem: string;
  info: CertificateInfo;
}

export function readSigningKey(ctx: CliContext, dir: string): SigningMaterial {
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

export function signEnvelopeDigest(ctx: CliContext, key: SigningMaterial, sha256Hex: string): Buffer {
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

export function readSignatureFile(file: string): Buffer {
  requireFile(file, '签名', 'signature');
  const raw = fs.readFileSync(file);
  const text = raw.subarray(0, 64).toString('latin1');
  if (text.startsWith('-----BEGIN')) {
    const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/.exec(raw.toString('latin1'));
    return Buffer.from((m?.[1] ?? '').replace(/\s+/g, ''), 'base64');
  }
  return raw;
}
