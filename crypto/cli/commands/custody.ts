/**
 * Opening-key custody (开标密钥分片保管):
 *   release-share — a custodian organisation fetches the key share sealed to its encryption certificate (only after
 *                   the bid deadline), opens it on this machine and hands it to the platform. Once the threshold of
 *                   shares is released the platform can rebuild the tender's opening key.
 *
 * The share is opened in memory and sent; it is never printed or written.
 */
import type { Command } from 'commander';
import { EnvelopeError, openBuffer } from '../../envelope';
import { parseCertificate, PkiError } from '../../pki';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, type CliContext } from '../context';
import { formatShanghaiTime } from '../format';
import { apiRequest, normaliseServer } from '../http';
import { withLoginHint } from '../progress';
import { readDirToken, readKeyPems, unexpected } from './bid/shared';

interface ReleaseShareOptions {
  server: string;
  dir: string;
  tender: string;
}

export function registerCustodyCommands(program: Command, ctx: CliContext): void {
  program
    .command('release-share')
    .description('保管单位释放开标密钥分片（仅限投标截止后）/ Release your organisation’s opening-key share (after the bid deadline only)')
    .requiredOption('--server <url>', '平台地址 / platform URL')
    .requiredOption('--dir <dir>', '密钥与令牌目录 (encryption.key.pem, encryption.cert.pem, token) / directory with the keys and the token')
    .requiredOption('--tender <id>', '招标项目 ID / tender id')
    .addHelpText(
      'after',
      '\n投标截止前平台拒绝取得或释放分片，并将此尝试作为严重事件记录。\n' +
        'Before the bid deadline the platform refuses to hand out or take a share, and records the attempt as critical.',
    )
    .action((opts: ReleaseShareOptions) => releaseShare(ctx, opts));
}

function objectAt(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

async function releaseShare(ctx: CliContext, opts: ReleaseShareOptions): Promise<void> {
  const server = normaliseServer(opts.server);
  const token = readDirToken(opts.dir);
  const { privateKeyPem, certificatePem } = readKeyPems(opts.dir, 'encryption');
  let certSerial: string;
  try {
    certSerial = parseCertificate(certificatePem).serialHex;
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `加密证书无效 / Invalid encryption certificate: ${e.message}`);
    throw e;
  }
  const call = <T>(fn: () => Promise<T>) => withLoginHint(server, opts.dir, fn);
  const tenderPath = `/api/v1/tenders/${encodeURIComponent(opts.tender)}`;

  const tender = objectAt(await call(() => apiRequest(server, 'GET', tenderPath, { token })));
  const deadline = typeof tender.bidDeadline === 'string' ? new Date(tender.bidDeadline) : undefined;
  const title = [tender.code, tender.name].filter((v) => typeof v === 'string').join(' ') || opts.tender;
  println(ctx.stdout, `招标项目 / Tender: ${title}`);
  if (deadline && !Number.isNaN(deadline.getTime())) println(ctx.stdout, `投标截止 / Bid deadline: ${formatShanghaiTime(deadline)}`);

  const beforeDeadline = (e: unknown): never => {
    if (e instanceof CliExit && /\bCUSTODY_BEFORE_DEADLINE\b/.test(e.message)) {
      const when = deadline && !Number.isNaN(deadline.getTime()) ? formatShanghaiTime(deadline) : '';
      throw new CliExit(
        EXIT_BAD_INPUT,
        `${e.message}\n` +
          `投标截止（${when}）之前不能取得或释放开标密钥分片；平台已将此次尝试记录为严重事件。请在截止后再运行。\n` +
          `The opening-key share cannot be fetched or released before the bid deadline (${when}); the platform has recorded ` +
          'this attempt as critical. Run this again after the deadline.',
      );
    }
    throw e;
  };

  const fetched = objectAt(await call(() => apiRequest(server, 'GET', `${tenderPath}/opening-key/share`, { token })).catch(beforeDeadline));
  if (typeof fetched.sealedShare !== 'string') throw unexpected('no sealedShare');
  const position = typeof fetched.position === 'number' ? fetched.position : undefined;
  const sealedTo = typeof fetched.recipientCertificateSerial === 'string' ? fetched.recipientCertificateSerial : undefined;

  let share: Buffer;
  try {
    share = await openBuffer(Buffer.from(fetched.sealedShare, 'base64'), { privateKeyPem, certificatePem });
  } catch (e) {
    if (e instanceof EnvelopeError && e.code === 'NO_MATCHING_RECIPIENT') {
      throw new CliExit(
        EXIT_BAD_INPUT,
        `分片封存给了另一张加密证书（序列号 ${sealedTo ?? '?'}），本目录的证书为 ${certSerial}；请使用持有该证书的目录 / ` +
          `The share is sealed to another encryption certificate (serial ${sealedTo ?? '?'}); this directory holds ${certSerial}. ` +
          'Use the directory with that certificate.',
      );
    }
    if (e instanceof EnvelopeError) throw new CliExit(EXIT_FAILED, `无法打开密钥分片 / Cannot open the key share [${e.code}]: ${e.message}`);
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥或证书无效 / Invalid key or certificate: ${e.message}`);
    throw e;
  }

  let released: Record<string, unknown>;
  try {
    released = objectAt(
      await call(() => apiRequest(server, 'POST', `${tenderPath}/opening-key/share`, { token, body: { share: share.toString('base64') } })).catch(
        beforeDeadline,
      ),
    );
  } finally {
    share.fill(0);
  }
  const count = typeof released.released === 'number' ? released.released : undefined;
  const threshold = typeof released.threshold === 'number' ? released.threshold : undefined;
  println(ctx.stdout, `已释放密钥分片 / Share released${position !== undefined ? `（第 ${position} 份 / position ${position}）` : ''}`);
  if (count !== undefined && threshold !== undefined) {
    // how many custodians there are in all: informative only, so a failure here changes nothing
    const key = objectAt(await apiRequest(server, 'GET', `${tenderPath}/opening-key`, { token }).catch(() => undefined));
    const total = Array.isArray(key.custodians) ? `（共 ${key.custodians.length} 个保管单位 / of ${key.custodians.length} custodians）` : '';
    println(ctx.stdout, `已释放 / Released: ${count}/${threshold}${total}`);
    println(
      ctx.stdout,
      count >= threshold
        ? '已达到门限，平台可以重建开标密钥 / Threshold reached: the platform can rebuild the opening key'
        : `尚需 ${threshold - count} 个保管单位释放 / ${threshold - count} more custodian(s) needed`,
    );
  }
}
