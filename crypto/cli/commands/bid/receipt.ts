/**
 * Receipts (回执): verify-receipt checks one against the envelope and the platform CA; finishSubmission saves and
 * checks the one submit gets.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { normalizeSerialHex, parseCertificate, PkiError } from '../../../pki';
import { sha256File } from '../../../signature';
import { RECEIPT_POLICY_OID, TimestampError, verifyTimeStampResponse, type TimeStampInfo } from '../../../timestamp';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, readTextFile, type CliContext } from '../../context';
import { formatName, formatShanghaiTime } from '../../format';
import { accountPaths } from '../account';
import { localCa, requireFile, writeFileAtomic } from './shared';
import type { SubmitOptions } from './submit';
import { PlatformRefusal, TransientFailure, type SubmissionView, type UploadClient } from './upload-client';

interface VerifyReceiptOptions {
  in: string;
  receipt: string;
  ca: string;
}

export function registerVerifyReceiptCommand(program: Command, ctx: CliContext): void {
  program
    .command('verify-receipt')
    .description('校验时间戳回执 / Verify a receipt (RFC 3161 time-stamp token)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--receipt <file>', '回执 (.tsr) / receipt')
    .requiredOption('--ca <file>', '平台 CA 证书 (ca.pem) / platform CA certificate')
    .action((opts: VerifyReceiptOptions) => verifyReceipt(ctx, opts));
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

export async function finishSubmission(
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
