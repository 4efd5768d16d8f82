/**
 * The trade log (交易日志) from the bidder's side:
 *   audit-proof — proves that one of one's own audit events (a bid receipt's 审计序号 / auditSeq) is in a checkpoint
 *                 of the log the platform signed (RFC 6962 inclusion proof), checked here with the platform CA
 *                 saved by `bidtool enrol`; online (--seq, fetched with the saved login) or offline (--file)
 *
 * The check trusts nothing in the proof but the CA certificate: the signer certificate in the file must chain to it,
 * so a platform that rewrote the log after signing could not produce a proof that passes. Exit codes: 0 the proof
 * holds, 1 it does not, 2 it could not be checked (bad arguments or file, the platform refused or was unreachable).
 */
import type { Command } from 'commander';
import { verifyInclusionProofDocument, type InclusionProofDocument } from '../../audit-proof';
import { parseCertificate, PkiError } from '../../pki';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, readTextFile, writeNewFile, type CliContext } from '../context';
import { formatShanghaiTime } from '../format';
import { apiRequest, normaliseServer } from '../http';
import { withLoginHint } from '../progress';
import { accountPaths } from './account';
import { localCa, readDirToken } from './bid/shared';

interface AuditProofOptions {
  seq?: string;
  file?: string;
  server?: string;
  dir?: string;
  ca?: string;
  out?: string;
  treeSize?: string;
  force?: boolean;
}

/** What to do about the platform's refusals of a proof. */
const REFUSAL_HINTS: Record<string, string> = {
  AUDIT_NO_CHECKPOINT:
    '平台尚未签署任何检查点；下一个检查点将覆盖该事件，请在 AUDIT_CHECKPOINT_MINUTES（平台的检查点间隔）后重试 / ' +
    'No checkpoint has been signed yet: the next checkpoint will cover it; try again after AUDIT_CHECKPOINT_MINUTES (the platform’s checkpoint interval)',
  AUDIT_EVENT_NOT_YET_CHECKPOINTED:
    '该事件晚于最新检查点；下一个检查点将覆盖它，请在 AUDIT_CHECKPOINT_MINUTES（平台的检查点间隔）后重试 / ' +
    'The event is newer than the latest checkpoint: the next checkpoint will cover it; try again after AUDIT_CHECKPOINT_MINUTES (the platform’s checkpoint interval)',
  NOT_FOUND: '没有该事件，或它不是本单位的事件（只能取本单位事件的证明）/ No such event, or not your organisation’s (a bidder gets proofs of its own events only)',
  AUDIT_CHECKPOINT_NOT_FOUND: '没有该大小的检查点，去掉 --tree-size 以取最新检查点 / No checkpoint of that size: leave out --tree-size for the latest',
};

function positiveInteger(value: string, what: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new CliExit(EXIT_BAD_INPUT, `${what}须为正整数 / ${what} must be a positive integer: ${value}`);
  }
  return Number(value);
}

/** GET /audit/events/:seq/proof with DIR's login. Any failure to get it is exit 2: nothing was checked. */
async function fetchProof(server: string, dir: string, seq: number, treeSize: number | undefined): Promise<unknown> {
  const token = readDirToken(dir);
  const query = treeSize === undefined ? '' : `?treeSize=${treeSize}`;
  try {
    return await withLoginHint(server, dir, () => apiRequest<unknown>(server, 'GET', `/api/v1/audit/events/${seq}/proof${query}`, { token }));
  } catch (e) {
    if (!(e instanceof CliExit)) throw e;
    const code = /\(HTTP \d{3}\): ([A-Z][A-Z0-9_]+):/.exec(e.message)?.[1];
    const hint = code !== undefined ? REFUSAL_HINTS[code] : undefined;
    throw new CliExit(EXIT_BAD_INPUT, hint !== undefined ? `${e.message}\n${hint}` : e.message);
  }
}

function readProofFile(file: string): unknown {
  const text = readTextFile(file, '包含证明', 'inclusion proof');
  try {
    return JSON.parse(text);
  } catch {
    throw new CliExit(EXIT_BAD_INPUT, `包含证明文件不是 JSON / The inclusion proof file is not JSON: ${file}`);
  }
}

/** The CA to trust: --ca, else the one `bidtool enrol` saved in DIR; undefined = only the (weaker) one in the file. */
function trustedCa(opts: AuditProofOptions): { pem: string; source: string } | undefined {
  let ca: { pem: string; source: string } | undefined;
  if (opts.ca !== undefined) ca = { pem: readTextFile(opts.ca, 'CA 证书', 'CA certificate'), source: opts.ca };
  else {
    const saved = localCa(opts.dir);
    if (saved !== undefined) ca = { pem: saved, source: accountPaths(opts.dir!).ca };
  }
  if (ca === undefined) return undefined;
  try {
    parseCertificate(ca.pem);
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `CA 证书无效 / Invalid CA certificate: ${ca.source} (${e.message})`);
    throw e;
  }
  return ca;
}

function shanghai(iso: unknown): string {
  const d = typeof iso === 'string' ? new Date(iso) : undefined;
  return d && !Number.isNaN(d.getTime()) ? formatShanghaiTime(d) : String(iso ?? '-');
}

async function auditProof(ctx: CliContext, opts: AuditProofOptions): Promise<void> {
  if ((opts.seq === undefined) === (opts.file === undefined)) {
    throw new CliExit(EXIT_BAD_INPUT, '须给出 --seq 或 --file 之一 / Give either --seq (fetch from the platform) or --file (a saved proof)');
  }
  const ca = trustedCa(opts);
  let doc: unknown;
  if (opts.seq !== undefined) {
    const seq = positiveInteger(opts.seq, '--seq');
    const treeSize = opts.treeSize === undefined ? undefined : positiveInteger(opts.treeSize, '--tree-size');
    if (opts.server === undefined || opts.dir === undefined) {
      throw new CliExit(EXIT_BAD_INPUT, '--seq 须同时给出 --server 与 --dir（登录令牌）/ --seq needs --server and --dir (the saved login)');
    }
    doc = await fetchProof(normaliseServer(opts.server), opts.dir, seq, treeSize);
    // Kept whatever the check finds: a proof that fails is evidence too.
    if (opts.out !== undefined) writeNewFile(opts.out, JSON.stringify(doc, null, 2) + '\n', opts.force === true);
  } else {
    doc = readProofFile(opts.file!);
  }

  const result = verifyInclusionProofDocument(doc, ca?.pem);
  if (result.seq === null) {
    throw new CliExit(EXIT_BAD_INPUT, `不是交易日志包含证明 / Not an audit-log inclusion proof: ${result.problems.join('; ')}`);
  }
  const d = doc as InclusionProofDocument;
  println(ctx.stdout, '交易日志包含证明 / Audit-log inclusion proof');
  println(ctx.stdout, `  事件序号 / Event seq:        ${result.seq}`);
  println(ctx.stdout, `  事件 / Action:               ${String(d.event.action ?? '-')}`);
  println(ctx.stdout, `  发生时间 / Occurred at:      ${shanghai(d.event.occurredAt)}`);
  println(ctx.stdout, `  检查点 / Checkpoint:         ${result.treeSize} 条事件 / events, 签署于 / signed at ${shanghai(d.checkpoint.madeAt)}`);
  println(ctx.stdout, `  默克尔根 / Merkle root:      ${String(d.checkpoint.rootHash)}`);
  println(ctx.stdout, `  根证书指纹 / CA SHA-256:     ${result.caFingerprintSha256 ?? '-'}`);
  println(
    ctx.stdout,
    ca !== undefined
      ? `  信任的根证书 / Trusted CA:   ${ca.source}`
      : '  信任的根证书 / Trusted CA:   取自证明文件本身，请与平台公布的指纹核对，或给出 --ca / taken from the proof file itself: compare the fingerprint with the published one, or give --ca',
  );
  if (opts.out !== undefined && opts.seq !== undefined) println(ctx.stdout, `  已保存 / Saved:              ${opts.out}`);
  if (!result.ok) {
    for (const p of result.problems) println(ctx.stdout, `  ✗ ${p}`);
    throw new CliExit(EXIT_FAILED, `包含证明无效 / Inclusion proof INVALID: ${result.problems.join('; ')}`);
  }
  println(
    ctx.stdout,
    `  ✓ 事件 ${result.seq} 在平台签名的检查点（${result.treeSize} 条事件）中 / event ${result.seq} is in the checkpoint of ${result.treeSize} events the platform signed`,
  );
}

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  program
    .command('audit-proof')
    .description('校验本单位事件（如投标回执的审计序号）在平台签名的交易日志检查点中 / Verify that an own audit event (e.g. a bid receipt’s audit seq) is in a signed checkpoint of the trade log')
    .option('--seq <n>', '审计序号（回执上的“审计序号 / Audit sequence”）/ audit seq (the receipt’s “Audit sequence”)')
    .option('--file <file>', '离线校验已保存的包含证明 / verify a saved proof offline')
    .option('--server <url>', '平台地址（用于 --seq）/ platform URL (for --seq)')
    .option('--dir <dir>', '密钥与令牌目录，含 ca.pem (bidtool enrol/login --dir) / directory with the token and ca.pem')
    .option('--ca <file>', '平台根证书，默认 DIR/ca.pem / platform CA certificate (default DIR/ca.pem)')
    .option('--out <file>', '保存取得的包含证明 / save the fetched proof')
    .option('--tree-size <n>', '指定检查点大小（默认最新）/ a given checkpoint’s size (default: the latest)')
    .option('--force', '覆盖已存在的 --out 文件 / overwrite an existing --out file')
    .addHelpText('after', '\n退出码 / Exit codes: 0 证明成立 valid, 1 证明无效 invalid, 2 无法校验 could not check (input, refusal, network).')
    .action((opts: AuditProofOptions) => auditProof(ctx, opts));
}
