/** submit — resumable, chunked upload; verifies and saves the time-stamped receipt (回执). */
import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { SignatureError, verifyDetachedSignature } from '../../../signature';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, type CliContext } from '../../context';
import { formatShanghaiTime } from '../../format';
import { normaliseServer } from '../../http';
import { backoffDelay, formatMiB, loginHint, sleep, TransferProgress, withLoginHint } from '../../progress';
import { accountPaths } from '../account';
import { formatSize } from '../package';
import { finishSubmission } from './receipt';
import { readSignatureFile, readSigningKey, signEnvelopeDigest } from './sign';
import { addressedTo, inspectEnvelope, readCertificate, readDirToken, unexpected, type BidCliContext, type UploadHooks } from './shared';
import { readState, writeState } from './submit-state';
import { fetchOpeningCertificate, fetchTender, tenderTitle } from './tender';
import { LocalFailure, parseSubmission, PlatformRefusal, recoverSubmission, TransientFailure, UploadClient, type ChunkAnswer, type SubmissionView } from './upload-client';

const MIB = 1024 * 1024;

export interface SubmitOptions {
  server: string;
  dir: string;
  tender: string;
  section: string;
  in: string;
  chunkMib: number;
  signature?: string;
  retries: number;
}

export function registerSubmitCommand(program: Command, ctx: CliContext): void {
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

/** Refusals after which the upload cannot continue (the state file is removed); a rejected token is not one of them. */
function endsUpload(r: PlatformRefusal): boolean {
  // HTTP_nnn: not the platform's own answer (a proxy, say); the upload may well be intact
  if (r.code.startsWith('HTTP_')) return false;
  return r.code !== 'TOKEN_INVALID' && r.code !== 'UNAUTHENTICATED' && r.code !== 'UPLOAD_OFFSET_MISMATCH';
}

async function submit(ctx: BidCliContext, opts: SubmitOptions): Promise<void> {
  const server = normaliseServer(opts.server);
  const files = accountPaths(opts.dir);
  const token = readDirToken(opts.dir);
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

