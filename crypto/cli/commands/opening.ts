/**
 * Online opening commands (不见面开标, EB 29–32):
 *   sign-in   — sign in to the opening hall with the certificate login saved in DIR/token
 *   post-key  — during the decryption window: unwrap the content key of one's own envelope locally, sign
 *               contentKeyDigest(bidId, key) with the signing key and hand both to the platform
 *   hall      — the opening hall once: state, platform time, countdown, participants
 *   readings  — the prices read out (唱标)
 *   confirm   — confirm the reading, or say it is disputed (silence counts as acceptance, GP87 42)
 *   object    — raise an objection on the record (TLR 44)
 *
 * The content key is the only secret that leaves this machine, and only to the platform, only during the window;
 * it is wiped from memory as soon as it has been sent.
 */
import fs from 'node:fs';
import { type Command } from 'commander';
import { EnvelopeError, inspectFile, unwrapContentKey, type EnvelopeInspection } from '../../envelope';
import { contentKeyDigest } from '../../opening';
import { parseCertificate, PkiError } from '../../pki';
import { signDigest } from '../../signature';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, type CliContext } from '../context';
import { formatShanghaiTime } from '../format';
import { apiRequest, normaliseServer } from '../http';
import { withLoginHint } from '../progress';
import { accountPaths } from './account';
import { readDirToken, readKeyPems } from './bid/shared';

interface HallOptions {
  server: string;
  dir: string;
  tender: string;
}

interface PostKeyOptions extends HallOptions {
  in: string;
  bid?: string;
}

interface ConfirmOptions extends HallOptions {
  kind: string;
}

interface ObjectOptions extends HallOptions {
  text: string;
}

/** What GET …/opening answers (read loosely: only what is shown). */
interface HallView {
  state?: string;
  paused?: boolean;
  serverTime?: string;
  bidDeadline?: string;
  decryptionWindowMinutes?: number;
  decryptionStartedAt?: string | null;
  decryptionEndsAt?: string | null;
  confirmationEndsAt?: string | null;
  objectionEndsAt?: string | null;
  recordedAt?: string | null;
  sectionOutcomes?: Array<{ seq?: number; validBids?: number; failed?: boolean }> | null;
  participants?: Array<{ name?: string; signedInAt?: string }>;
}

interface Reading {
  bidId: string;
  bidder?: string;
  outcome?: string | null;
  cause?: string | null;
  totalPriceFen?: number | null;
  totalPriceYuan?: string | null;
  durationDays?: number | null;
  quality?: string | null;
  projectManager?: string | null;
  confirmation?: string | null;
}

export const STATE_LABELS: Record<string, string> = {
  'signing-in': '签到中 / signing in',
  decrypting: '解密中 / decrypting',
  announcing: '唱标、确认中 / announcing (reading and confirmation)',
  objections: '异议期 / objections',
  recorded: '已形成开标记录 / recorded',
  closed: '开标结束 / closed',
  failed: '流标，须重新招标 / failed (fewer than three valid bids; re-tender)',
};

/** What to do about the refusals a bidder meets at the opening. */
const REFUSAL_HINTS: Record<string, string> = {
  DECRYPTION_WINDOW_NOT_OPEN: '解密时限尚未开始，请等待主持人开始解密后再提交 / The decryption window is not open yet: wait for the host to start the decryption',
  DECRYPTION_WINDOW_CLOSED: '解密时限已结束，不能再提交解密密钥 / The decryption window has closed: the key can no longer be handed over',
  NOT_SIGNED_IN: '请先签到 / Sign in first: bidtool sign-in --server <url> --dir <dir> --tender <id>',
  OPENING_NOT_FOUND: '开标尚未开始（投标截止后自动开始）/ The opening has not begun (it begins by itself at the bid deadline)',
  OPENING_PAUSED: '主持人已暂停开标，请等待恢复 / The host has paused the opening: wait for it to resume',
  CERTIFICATE_LOGIN_REQUIRED: '签到须以数字证书登录：bidtool login / Sign-in needs a certificate login: bidtool login',
  NOT_A_BIDDER: '本单位在本项目没有有效的投标文件 / Your organisation has no current bid in this tender',
  ALREADY_DECRYPTED: '该投标文件已解密，无需再次提交 / The bid is already decrypted: nothing more to hand over',
  CONTENT_KEY_INVALID: '解密密钥或签名无效：请确认信封与 --dir 的证书属于本单位 / The key or its signature is invalid: check the envelope and DIR belong to your organisation',
  OBJECTION_WINDOW_CLOSED: '异议期已结束 / The objection period is over',
  OPENING_WRONG_STATE: '开标当前阶段不能进行此操作，可用 bidtool hall 查看 / Not possible at this stage; see bidtool hall',
};

/** The platform's error code in a CliExit made by apiRequest ("… (HTTP 409): CODE: message"). */
function refusalCode(e: CliExit): string | undefined {
  return /\(HTTP \d{3}\): ([A-Z][A-Z0-9_]+):/.exec(e.message)?.[1];
}

/** Runs a platform call; a refusal keeps its code and message and gains a hint of what to do. */
async function platform<T>(server: string, dir: string, call: () => Promise<T>): Promise<T> {
  try {
    return await withLoginHint(server, dir, call);
  } catch (e) {
    if (e instanceof CliExit) {
      const code = refusalCode(e);
      const hint = code !== undefined ? REFUSAL_HINTS[code] : undefined;
      if (hint !== undefined) throw new CliExit(e.exitCode, `${e.message}\n${hint}`);
    }
    throw e;
  }
}

function openingPath(tenderId: string, rest = ''): string {
  return `/api/v1/tenders/${encodeURIComponent(tenderId)}/opening${rest}`;
}

function session(opts: HallOptions): { server: string; token: string } {
  const server = normaliseServer(opts.server);
  return { server, token: readDirToken(opts.dir) };
}

const asDate = (v: string | null | undefined): Date | undefined => {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** "12 分 05 秒 / 12 min 05 s" */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h} 小时 ${String(m).padStart(2, '0')} 分 ${s} 秒 / ${h} h ${m} min ${s} s` : `${m} 分 ${s} 秒 / ${m} min ${s} s`;
}

function printHall(ctx: CliContext, v: HallView): void {
  const now = asDate(v.serverTime) ?? ctx.now();
  const state = v.state ?? '?';
  println(ctx.stdout, `开标状态 / State:        ${STATE_LABELS[state] ?? state}${v.paused ? '（已暂停 / paused）' : ''}`);
  println(ctx.stdout, `平台时间 / Server time:  ${formatShanghaiTime(now)}`);
  const deadline = asDate(v.bidDeadline);
  if (deadline) println(ctx.stdout, `投标截止 / Bid deadline: ${formatShanghaiTime(deadline)}`);
  const windowEnd = asDate(v.decryptionEndsAt);
  if (windowEnd) {
    const left = windowEnd.getTime() - now.getTime();
    const tail = state === 'decrypting' && left > 0 ? `，剩余 / remaining ${formatCountdown(left)}` : '（已结束 / over）';
    println(ctx.stdout, `解密截止 / Window ends:  ${formatShanghaiTime(windowEnd)}${tail}`);
  } else if (state === 'signing-in' && v.decryptionWindowMinutes !== undefined) {
    println(ctx.stdout, `解密时限 / Window:       主持人开始解密后 ${v.decryptionWindowMinutes} 分钟 / ${v.decryptionWindowMinutes} minutes once the host starts it`);
  }
  const other: Array<[string, string | null | undefined, string]> = [
    ['确认截止 / Confirm until: ', v.confirmationEndsAt, 'announcing'],
    ['异议截止 / Objections until:', v.objectionEndsAt, 'objections'],
  ];
  for (const [label, at, during] of other) {
    const d = asDate(at);
    if (!d) continue;
    const left = d.getTime() - now.getTime();
    println(ctx.stdout, `${label} ${formatShanghaiTime(d)}${state === during && left > 0 ? `，剩余 / remaining ${formatCountdown(left)}` : ''}`);
  }
  for (const s of v.sectionOutcomes ?? []) {
    println(ctx.stdout, `标段 / Section ${s.seq ?? '?'}: 有效投标 / valid bids ${s.validBids ?? '?'}${s.failed ? '，流标 / failed' : ''}`);
  }
  const people = v.participants ?? [];
  println(ctx.stdout, `已签到 / Signed in (${people.length}):`);
  for (const p of people) {
    const at = asDate(p.signedInAt);
    println(ctx.stdout, `  ✓ ${p.name ?? '?'}${at ? `  ${formatShanghaiTime(at)}` : ''}`);
  }
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--server <url>', '平台地址 / platform URL')
    .requiredOption('--dir <dir>', '密钥与令牌目录 (bidtool login --dir) / directory with keys and the token')
    .requiredOption('--tender <id>', '招标项目 ID / tender id');
}

export function registerOpeningCommands(program: Command, ctx: CliContext): void {
  common(program.command('sign-in').description('开标签到（数字证书登录）/ Sign in to the online opening (certificate login)')).action(
    async (opts: HallOptions) => {
      const { server, token } = session(opts);
      const view = await platform(server, opts.dir, () => apiRequest<HallView>(server, 'POST', openingPath(opts.tender, '/sign-in'), { token }));
      println(ctx.stdout, '签到成功 / Signed in');
      printHall(ctx, view);
    },
  );

  common(
    program
      .command('post-key')
      .description('解密时限内提交本单位投标文件的解密密钥（本地解出、签名后提交）/ Hand over the content key during the decryption window (unwrapped and signed here)'),
  )
    .requiredOption('--in <file>', '已递交的数字信封 (.cms) / the envelope that was submitted')
    .option('--bid <id>', '投标文件 ID（默认按信封 SHA-256 在平台查找）/ bid id (default: found on the platform by the envelope SHA-256)')
    .action((opts: PostKeyOptions) => postKey(ctx, opts));

  common(program.command('hall').description('查看开标大厅（一次）/ Show the opening hall once')).action(async (opts: HallOptions) => {
    const { server, token } = session(opts);
    printHall(ctx, await platform(server, opts.dir, () => apiRequest<HallView>(server, 'GET', openingPath(opts.tender), { token })));
  });

  common(program.command('readings').description('唱标结果 / The prices read out (唱标)')).action(async (opts: HallOptions) => {
    const { server, token } = session(opts);
    const rows = await platform(server, opts.dir, () => apiRequest<Reading[]>(server, 'GET', openingPath(opts.tender, '/readings'), { token }));
    printReadings(ctx, Array.isArray(rows) ? rows : []);
  });

  common(program.command('confirm').description('确认唱标结果或提出有异议；逾时未确认视为认可 / Confirm the reading or dispute it; silence is acceptance'))
    .requiredOption('--kind <kind>', 'confirmed（确认）或 disputed（有异议）/ confirmed or disputed')
    .action(async (opts: ConfirmOptions) => {
      if (opts.kind !== 'confirmed' && opts.kind !== 'disputed') {
        throw new CliExit(EXIT_BAD_INPUT, `--kind 须为 confirmed 或 disputed / --kind must be confirmed or disputed: ${opts.kind}`);
      }
      const { server, token } = session(opts);
      await platform(server, opts.dir, () => apiRequest(server, 'POST', openingPath(opts.tender, '/confirmation'), { token, body: { kind: opts.kind } }));
      println(ctx.stdout, opts.kind === 'confirmed' ? '已确认唱标结果 / Reading confirmed' : '已表示对唱标结果有异议 / Reading disputed (raise the objection with bidtool object)');
    });

  common(program.command('object').description('当场提出异议 / Raise an objection at the opening (TLR 44)'))
    .requiredOption('--text <text>', '异议内容 / the objection')
    .action(async (opts: ObjectOptions) => {
      const { server, token } = session(opts);
      const o = await platform(server, opts.dir, () =>
        apiRequest<{ id?: string; raisedAt?: string }>(server, 'POST', openingPath(opts.tender, '/objections'), { token, body: { text: opts.text } }),
      );
      println(ctx.stdout, '异议已提出，待主持人当场答复 / Objection raised; the host answers it on the record');
      if (o?.id) println(ctx.stdout, `  异议 ID / Objection id: ${o.id}`);
    });
}

export function printReadings(ctx: CliContext, rows: Reading[]): void {
  println(ctx.stdout, `唱标 / Reading (${rows.length}):`);
  for (const r of rows) {
    const price = r.totalPriceYuan != null ? `${r.totalPriceYuan} 元 / yuan` : '—';
    const outcome = r.outcome ?? '?';
    println(ctx.stdout, `  ${r.bidder ?? '?'}  ${price}  ${outcome}${r.cause ? `（${r.cause}）` : ''}${r.confirmation ? `  [${r.confirmation}]` : ''}`);
  }
}

// ---------------------------------------------------------------------------
// post-key
// ---------------------------------------------------------------------------

async function inspectEnvelope(file: string): Promise<EnvelopeInspection> {
  if (!fs.existsSync(file)) throw new CliExit(EXIT_BAD_INPUT, `未找到数字信封文件 / Envelope file not found: ${file}`);
  try {
    return await inspectFile(file);
  } catch (e) {
    const reason = e instanceof EnvelopeError ? `[${e.code}] ${e.message}` : e instanceof Error ? e.message : String(e);
    throw new CliExit(EXIT_BAD_INPUT, `不是有效的数字信封 / Not a valid envelope: ${file} ${reason}`);
  }
}

/** The bid this envelope became: --bid, else the platform's current bid with the envelope's SHA-256. */
async function findBidId(server: string, token: string, opts: PostKeyOptions, sha256: string): Promise<string> {
  if (opts.bid !== undefined) return opts.bid;
  // `submit` keeps no bid id on disk (its <in>.upload.json is removed once the receipt is saved): ask the platform.
  const list = await platform(server, opts.dir, () =>
    apiRequest<unknown>(server, 'GET', `/api/v1/bids?tenderId=${encodeURIComponent(opts.tender)}`, { token }),
  );
  const bids = (Array.isArray(list) ? list : []) as Array<{ id?: unknown; envelopeSha256?: unknown; status?: unknown }>;
  const same = bids.filter((b) => typeof b.id === 'string' && b.envelopeSha256 === sha256);
  const current = same.find((b) => b.status === 'current');
  if (current) return current.id as string;
  if (same.length > 0) {
    throw new CliExit(EXIT_BAD_INPUT, `该信封对应的投标文件已不是有效投标（${String(same[0]!.status)}）/ The bid made from this envelope is no longer current (${String(same[0]!.status)})`);
  }
  throw new CliExit(
    EXIT_BAD_INPUT,
    `平台上没有与该信封 SHA-256 相同的投标文件，可用 --bid 指定 / No bid of yours on the platform has this envelope’s SHA-256 (${sha256}); give --bid`,
  );
}

async function postKey(ctx: CliContext, opts: PostKeyOptions): Promise<void> {
  const { server, token } = session(opts);
  const files = accountPaths(opts.dir);
  const inspection = await inspectEnvelope(opts.in);
  const bidId = await findBidId(server, token, opts, inspection.sha256);

  const { privateKeyPem: encryptionKey, certificatePem: encryptionCert } = readKeyPems(opts.dir, 'encryption');
  const { privateKeyPem: signingKey, certificatePem: signingCert } = readKeyPems(opts.dir, 'signing');
  try {
    if (parseCertificate(signingCert).usage !== 'signing') {
      throw new CliExit(EXIT_BAD_INPUT, `不是签名证书 / Not a signing certificate: ${files.signingCert}`);
    }
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `签名证书无效 / Invalid signing certificate: ${files.signingCert}: ${e.message}`);
    throw e;
  }

  let contentKey: Buffer;
  try {
    contentKey = unwrapContentKey(inspection, { privateKeyPem: encryptionKey, certificatePem: encryptionCert });
  } catch (e) {
    if (e instanceof EnvelopeError) throw new CliExit(EXIT_FAILED, `无法解出内容密钥 / Cannot unwrap the content key: [${e.code}] ${e.message}`);
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥或证书无效 / Invalid key or certificate: ${e.message}`);
    throw e;
  }
  let answer: { bidId?: string; status?: string };
  try {
    let signature: Buffer;
    try {
      signature = signDigest({ sha256Hex: contentKeyDigest(bidId, contentKey), certificatePem: signingCert, privateKeyPem: signingKey, signingTime: ctx.now() });
    } catch (e) {
      if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `签名私钥或证书无效 / Invalid signing key or certificate: ${e.message}`);
      throw e;
    }
    const body = { contentKey: contentKey.toString('base64'), signature: signature.toString('base64') };
    try {
      answer = await platform(server, opts.dir, () =>
        apiRequest<{ bidId?: string; status?: string }>(server, 'POST', openingPath(opts.tender, `/bids/${encodeURIComponent(bidId)}/content-key`), { token, body }),
      );
    } finally {
      body.contentKey = '';
    }
  } finally {
    contentKey.fill(0);
  }
  println(ctx.stdout, '解密密钥已提交，平台正在解密 / Content key handed over; the platform is decrypting');
  println(ctx.stdout, `  投标文件 ID / Bid id: ${answer?.bidId ?? bidId}`);
  println(ctx.stdout, `  状态 / Status:        ${answer?.status ?? 'key-received'}`);
  println(ctx.stdout, '  本地内存中的密钥已清除 / The key has been wiped from this tool’s memory');
}
