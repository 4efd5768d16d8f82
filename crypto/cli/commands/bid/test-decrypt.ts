/** test-decrypt — proves locally that one's key opens the envelope (and, with the platform, that it will at the opening). */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { decryptStream, EnvelopeError, inspectFile, unwrapContentKey, type EnvelopeInspection } from '../../../envelope';
import { PkiError } from '../../../pki';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, type CliContext } from '../../context';
import { formatShanghaiTime, PROBLEM_LABELS } from '../../format';
import { normaliseServer } from '../../http';
import { withLoginHint } from '../../progress';
import { formatSize } from '../package';
import { addressedTo, certificateProblem, envelopeLabel, localCa, readDirToken, readEncryptionKey, reasonOf, requireFile, timeProblem } from './shared';
import { fetchOpeningCertificate, fetchTender, tenderTitle } from './tender';

interface TestDecryptOptions {
  in: string;
  dir: string;
  server?: string;
  tender?: string;
}

export function registerTestDecryptCommand(program: Command, ctx: CliContext): void {
  program
    .command('test-decrypt')
    .description('解密自检：证明本单位密钥能解开信封（可选：开标时证书仍有效、信封加密给本项目开标证书）/ Prove your key opens the envelope (optionally: also at the opening)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--dir <dir>', '密钥目录 (encryption.key.pem, encryption.cert.pem) / key directory')
    .option('--server <url>', '平台地址（与 --tender 同用）/ platform URL (with --tender)')
    .option('--tender <id>', '招标项目 ID（与 --server 同用）/ tender id (with --server)')
    .action((opts: TestDecryptOptions) => testDecrypt(ctx, opts));
}

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
    const token = readDirToken(opts.dir);
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
