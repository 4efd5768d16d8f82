/**
 * What the sealed-bid commands share: DIR's key files and token, the platform CA, input-file checks,
 * envelope error mapping and certificate checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnvelopeError, inspectFile, recipientMatchesCertificate, type EnvelopeInspection } from '../../../envelope';
import { checkCertificate, parseCertificate, PkiError, type CertificateInfo, type CertificateUsage } from '../../../pki';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, readTextFile, type CliContext } from '../../context';
import { readSavedToken } from '../../progress';
import { accountPaths } from '../account';

/**
 * Seams for tests, carried on the CliContext object: the fetch the upload
 * uses (to make a chunk fail) and the first retry delay.
 */
export interface UploadHooks {
  fetch?: typeof fetch;
  retryDelayMs?: number;
}

export type BidCliContext = CliContext & { uploadHooks?: UploadHooks };

export function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function requireFile(file: string, zh: string, en: string): void {
  let ok = false;
  try {
    ok = fs.statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new CliExit(EXIT_BAD_INPUT, `无法读取${zh}文件 / Cannot read ${en} file: ${file}`);
}

export function refuseOverwrite(file: string, force: boolean | undefined): void {
  if (force !== true && fs.existsSync(file)) {
    throw new CliExit(EXIT_BAD_INPUT, `文件已存在，未覆盖（可用 --force）/ File exists, not overwritten (use --force): ${file}`);
  }
}

export function sameFile(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/** Writes via a temp file and a rename, so the target is either old or complete. */
export function writeFileAtomic(file: string, data: Buffer | string, mode = 0o644): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, data, { mode });
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

export function readCertificate(file: string, zh: string, en: string): { pem: string; info: CertificateInfo } {
  const pem = readTextFile(file, zh, en);
  try {
    return { pem, info: parseCertificate(pem) };
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `${zh}无效 / Invalid ${en}: ${file} (${e.message})`);
    throw e;
  }
}

/** The saved login token of DIR (DIR/token). */
export function readDirToken(dir: string): string {
  return readSavedToken(accountPaths(dir).token);
}

/** The private key and certificate of DIR, as text, key first. */
export function readKeyPems(dir: string, kind: 'encryption' | 'signing'): { privateKeyPem: string; certificatePem: string } {
  const files = accountPaths(dir);
  if (kind === 'encryption') {
    const privateKeyPem = readTextFile(files.encryptionKey, '加密私钥', 'encryption key');
    return { privateKeyPem, certificatePem: readTextFile(files.encryptionCert, '加密证书', 'encryption certificate') };
  }
  const privateKeyPem = readTextFile(files.signingKey, '签名私钥', 'signing key');
  return { privateKeyPem, certificatePem: readTextFile(files.signingCert, '签名证书', 'signing certificate') };
}

/** DIR/ca.pem when present, else undefined. */
export function localCa(dir: string | undefined): string | undefined {
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

export function envelopeLabel(e: EnvelopeError): string {
  return `[${e.code}] ${ENVELOPE_LABELS[e.code] ?? e.message}`;
}

/** Structural check of an envelope file; a file that is not one is bad input (exit 2). */
export async function inspectEnvelope(file: string): Promise<EnvelopeInspection> {
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
export function envelopeExit(e: EnvelopeError, context: string): CliExit {
  return new CliExit(ENVELOPE_INPUT_CODES.has(e.code) ? EXIT_BAD_INPUT : EXIT_FAILED, `${context}: ${envelopeLabel(e)}`);
}

export function addressedTo(inspection: EnvelopeInspection, certificatePem: string): boolean {
  return inspection.recipients.some((r) => recipientMatchesCertificate(r, certificatePem));
}

export function readEncryptionKey(dir: string): { privateKeyPem: string; certificatePem: string; info: CertificateInfo } {
  const files = accountPaths(dir);
  const privateKeyPem = readTextFile(files.encryptionKey, '加密私钥', 'encryption key');
  const cert = readCertificate(files.encryptionCert, '加密证书', 'encryption certificate');
  return { privateKeyPem, certificatePem: cert.pem, info: cert.info };
}

export function unexpected(what: string): CliExit {
  return new CliExit(EXIT_FAILED, `平台返回内容不符合预期 / Unexpected response from the platform: ${what}`);
}

export function timeProblem(info: CertificateInfo, at: Date): 'NOT_YET_VALID' | 'EXPIRED' | undefined {
  if (at.getTime() < info.notBefore.getTime()) return 'NOT_YET_VALID';
  if (at.getTime() > info.notAfter.getTime()) return 'EXPIRED';
  return undefined;
}

export function certificateProblem(pem: string, caPem: string, at: Date, usage: CertificateUsage) {
  try {
    const r = checkCertificate(pem, caPem, at, usage);
    return r.ok ? undefined : r.problem;
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `证书无效 / Invalid certificate: ${e.message}`);
    throw e;
  }
}
