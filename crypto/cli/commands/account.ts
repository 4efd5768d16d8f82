/**
 * Account commands that talk to the platform over HTTP:
 *   enrol  — first certificates with the one-time enrolment code (keys are made here and never leave the machine)
 *   login  — certificate challenge login; saves the token
 *   whoami — who the saved token belongs to
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import {
  checkCertificate,
  createCsr,
  generateRsaKeyPair,
  parseCertificate,
  PkiError,
  signChallenge,
  verifyChallengeSignature,
  type CertificateInfo,
  type KeyPairPem,
} from '../../pki';
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED, println, readTextFile, writeNewFile, writeSecretFile, type CliContext } from '../context';
import { formatShanghaiTime, PROBLEM_LABELS, USAGE_LABELS } from '../format';
import { apiRequest, normaliseServer } from '../http';

type UserUsage = 'signing' | 'encryption';
const USAGES: readonly UserUsage[] = ['signing', 'encryption'];

const CERT_LABELS: Record<UserUsage, string> = {
  signing: '签名证书 / Signing certificate',
  encryption: '加密证书 / Encryption certificate',
};

const ORG_TYPE_LABELS: Record<string, string> = {
  bidder: '投标人 / bidder',
  tenderer: '招标人 / tenderer',
  agency: '招标代理机构 / agency',
  regulator: '行政监督部门 / regulator',
  operator: '交易中心 / operator',
};

const ROLE_LABELS: Record<string, string> = {
  admin: '管理员 / admin',
  staff: '经办人 / staff',
};

/** Files bidtool keeps in a user's directory. */
export function accountPaths(dir: string) {
  return {
    signingKey: path.join(dir, 'signing.key.pem'),
    encryptionKey: path.join(dir, 'encryption.key.pem'),
    signingCert: path.join(dir, 'signing.cert.pem'),
    encryptionCert: path.join(dir, 'encryption.cert.pem'),
    ca: path.join(dir, 'ca.pem'),
    token: path.join(dir, 'token'),
  };
}

function keyPath(p: ReturnType<typeof accountPaths>, usage: UserUsage): string {
  return usage === 'signing' ? p.signingKey : p.encryptionKey;
}

function certPath(p: ReturnType<typeof accountPaths>, usage: UserUsage): string {
  return usage === 'signing' ? p.signingCert : p.encryptionCert;
}

function fingerprintHeaders(fp: string | undefined): Record<string, string> | undefined {
  return fp !== undefined && fp !== '' ? { 'X-Device-Fingerprint': fp } : undefined;
}

function unexpectedResponse(what: string): CliExit {
  return new CliExit(EXIT_FAILED, `平台返回内容不符合预期 / Unexpected response from the platform: ${what}`);
}

/** Reads a string at `a.b.c` of a parsed response, or fails naming the field. */
function stringAt(body: unknown, dotted: string): string {
  let v: unknown = body;
  for (const k of dotted.split('.')) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  }
  if (typeof v !== 'string') throw unexpectedResponse(`missing ${dotted}`);
  return v;
}

function optionalStringAt(body: unknown, dotted: string): string | undefined {
  try {
    return stringAt(body, dotted);
  } catch {
    return undefined;
  }
}

function dateAt(body: unknown, dotted: string): Date {
  const d = new Date(stringAt(body, dotted));
  if (Number.isNaN(d.getTime())) throw unexpectedResponse(`${dotted} is not a time`);
  return d;
}

function sameSpki(a: string, b: string): boolean {
  try {
    const der = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
    return der(a).equals(der(b));
  } catch {
    return false;
  }
}

function refuseExisting(files: string[]): void {
  for (const f of files) {
    if (fs.existsSync(f)) {
      throw new CliExit(EXIT_BAD_INPUT, `文件已存在，未覆盖（可用 --force）/ File exists, not overwritten (use --force): ${f}`);
    }
  }
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--server <url>', '平台地址，如 https://ggzy.example.cn / platform URL')
    .option('--device-fingerprint <value>', '设备指纹/机器码，随每个请求发送 / device fingerprint sent as X-Device-Fingerprint');
}

interface CommonOptions {
  server: string;
  deviceFingerprint?: string;
}

interface EnrolOptions extends CommonOptions {
  username: string;
  code: string;
  out: string;
  cn?: string;
  force?: boolean;
}

interface LoginOptions extends CommonOptions {
  dir: string;
  printToken?: boolean;
}

interface WhoamiOptions extends CommonOptions {
  dir: string;
}

export function registerAccountCommands(program: Command, ctx: CliContext): void {
  withCommonOptions(
    program
      .command('enrol')
      .description('凭一次性注册码申领签名证书和加密证书（密钥在本机生成）/ Enrol: get the signing and encryption certificates with the one-time code (keys are generated locally)'),
  )
    .requiredOption('--username <name>', '用户名 / username')
    .requiredOption('--code <code>', '交易中心发放的一次性注册码 / one-time enrolment code from the trading centre')
    .requiredOption('--out <dir>', '输出目录 / output directory')
    .option('--cn <name>', '证书请求中的名称 (CN)，默认为用户名 / CSR common name (default: the username)')
    .option('--force', '覆盖已有的密钥和证书文件 / overwrite existing key and certificate files', false)
    .action((opts: EnrolOptions) => enrol(ctx, opts));

  withCommonOptions(
    program
      .command('login')
      .description('数字证书登录，保存令牌 / Log in with the signing certificate and save the token'),
  )
    .requiredOption('--dir <dir>', '密钥和证书所在目录 (enrol --out) / directory with signing.key.pem and signing.cert.pem')
    .option('--print-token', '只输出令牌，不写文件（供脚本使用）/ print only the token, write no file (for scripts)', false)
    .action((opts: LoginOptions) => login(ctx, opts));

  withCommonOptions(
    program
      .command('whoami')
      .description('显示已保存令牌对应的用户和单位 / Show the user and organisation of the saved token'),
  )
    .requiredOption('--dir <dir>', '令牌所在目录 (login --dir) / directory with the token')
    .action((opts: WhoamiOptions) => whoami(ctx, opts));
}

// ---------------------------------------------------------------------------
// enrol
// ---------------------------------------------------------------------------

async function enrol(ctx: CliContext, opts: EnrolOptions): Promise<void> {
  const server = normaliseServer(opts.server);
  const headers = fingerprintHeaders(opts.deviceFingerprint);
  const force = opts.force === true;
  const files = accountPaths(opts.out);
  if (!force) refuseExisting([files.signingKey, files.encryptionKey, files.signingCert, files.encryptionCert]);

  // Keys are made here and stay in memory until the platform has issued the certificates.
  const keys: Record<UserUsage, KeyPairPem> = { signing: generateRsaKeyPair(), encryption: generateRsaKeyPair() };
  const subject = { commonName: opts.cn ?? opts.username };
  let csrs: Record<UserUsage, string>;
  try {
    csrs = { signing: createCsr(keys.signing, subject), encryption: createCsr(keys.encryption, subject) };
  } catch (e) {
    if (e instanceof RangeError || e instanceof PkiError) {
      throw new CliExit(EXIT_BAD_INPUT, `证书请求参数无效 / Invalid CSR subject: ${e.message}`);
    }
    throw e;
  }

  // The CA first: a wrong server fails here, before the one-time code is spent.
  const caPem = await apiRequest<unknown>(server, 'GET', '/api/v1/pki/ca-certificate', { headers });
  if (typeof caPem !== 'string') throw unexpectedResponse('CA certificate is not PEM');
  let caInfo: CertificateInfo;
  try {
    caInfo = parseCertificate(caPem);
  } catch (e) {
    if (e instanceof PkiError) throw unexpectedResponse(`CA certificate: ${e.message}`);
    throw e;
  }
  if (caInfo.usage !== 'ca') throw unexpectedResponse('the CA certificate is not a CA certificate');

  const issued = await apiRequest<unknown>(server, 'POST', '/api/v1/certificates/enrol', {
    headers,
    body: {
      username: opts.username,
      enrolmentCode: opts.code,
      signingCsrPem: csrs.signing,
      encryptionCsrPem: csrs.encryption,
    },
  });
  const certs: Record<UserUsage, string> = {
    signing: stringAt(issued, 'signing.certificatePem'),
    encryption: stringAt(issued, 'encryption.certificatePem'),
  };

  // The code is spent now: write everything, or nothing (no half-written key files).
  const written: string[] = [];
  try {
    for (const usage of USAGES) {
      writeSecretFile(keyPath(files, usage), keys[usage].privateKeyPem, force);
      written.push(keyPath(files, usage));
      writeNewFile(certPath(files, usage), certs[usage], force);
      written.push(certPath(files, usage));
    }
    // The platform's public CA certificate: always refreshed.
    writeNewFile(files.ca, caPem, true);
  } catch (e) {
    for (const f of written) fs.rmSync(f, { force: true });
    const reason = e instanceof Error ? e.message : String(e);
    throw new CliExit(
      EXIT_FAILED,
      `证书已签发但文件写入失败，已删除本次写入的文件；注册码已使用，请联系交易中心 / ` +
        `Certificates were issued but the files could not be written (removed what was written); ` +
        `the enrolment code is spent, contact the trading centre: ${reason}`,
    );
  }

  // Check what came back against the CA fetched above, at the current time.
  const problems: string[] = [];
  println(ctx.stdout, `注册成功 / Enrolment complete: ${opts.username}`);
  for (const usage of USAGES) {
    let line: string;
    let info: CertificateInfo | undefined;
    try {
      const result = checkCertificate(certs[usage], caPem, ctx.now(), usage);
      info = result.info;
      if (!result.ok) {
        line = `未通过 / FAILED: ${result.problem} — ${PROBLEM_LABELS[result.problem]}`;
        problems.push(`${CERT_LABELS[usage]}: ${result.problem}`);
      } else if (!sameSpki(result.info.publicKeyPem, keys[usage].publicKeyPem)) {
        line = '未通过 / FAILED: 证书公钥与本机私钥不匹配 / the certificate is not for the local key';
        problems.push(`${CERT_LABELS[usage]}: KEY_MISMATCH`);
      } else {
        line = `通过 / OK (${USAGE_LABELS[result.info.usage]})`;
      }
    } catch (e) {
      if (!(e instanceof PkiError)) throw e;
      line = `未通过 / FAILED: ${e.message}`;
      problems.push(`${CERT_LABELS[usage]}: CERT_INVALID`);
    }
    println(ctx.stdout, CERT_LABELS[usage]);
    if (info) {
      println(ctx.stdout, `  序列号 / Serial:       ${info.serialHex}`);
      println(ctx.stdout, `  生效时间 / Not before: ${formatShanghaiTime(info.notBefore)}`);
      println(ctx.stdout, `  失效时间 / Not after:  ${formatShanghaiTime(info.notAfter)}`);
    }
    println(ctx.stdout, `  校验 / Check:          ${line}`);
  }
  println(ctx.stdout, '文件 / Files:');
  for (const usage of USAGES) {
    println(ctx.stdout, `  ${keyPath(files, usage)}  (私钥，仅本人可读 / private key, mode 0600)`);
    println(ctx.stdout, `  ${certPath(files, usage)}`);
  }
  println(ctx.stdout, `  ${files.ca}  (平台根证书 / platform CA)`);
  println(ctx.stdout, '私钥只保存在本机，请妥善备份，切勿发送给任何人。');
  println(ctx.stdout, 'The private keys exist only on this machine: back them up safely and never send them to anyone.');

  if (problems.length > 0) {
    throw new CliExit(
      EXIT_FAILED,
      `证书校验失败（文件已保留）/ Certificate check failed (files kept): ${problems.join('; ')}`,
    );
  }
}

// ---------------------------------------------------------------------------
// login
// ---------------------------------------------------------------------------

async function login(ctx: CliContext, opts: LoginOptions): Promise<void> {
  const server = normaliseServer(opts.server);
  const headers = fingerprintHeaders(opts.deviceFingerprint);
  const files = accountPaths(opts.dir);
  const keyPem = readTextFile(files.signingKey, '私钥', 'private key');
  const certPem = readTextFile(files.signingCert, '证书', 'certificate');
  try {
    parseCertificate(certPem);
  } catch (e) {
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `证书无效 / Invalid certificate: ${e.message}`);
    throw e;
  }
  const sign = (message: string): string => {
    try {
      return signChallenge(keyPem, message);
    } catch (e) {
      if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥无效 / Invalid private key: ${e.message}`);
      throw e;
    }
  };
  // Catch a key/certificate mix-up here rather than as a refused (and audited) login.
  const probe = 'bidtool key check';
  if (!verifyChallengeSignature(certPem, probe, sign(probe))) {
    throw new CliExit(
      EXIT_BAD_INPUT,
      `私钥与证书不匹配 / The private key does not match the certificate: ${files.signingKey}, ${files.signingCert}`,
    );
  }

  const challenge = await apiRequest<unknown>(server, 'POST', '/api/v1/auth/challenge', { headers });
  const challengeId = stringAt(challenge, 'challengeId');
  const nonce = stringAt(challenge, 'nonce');
  const result = await apiRequest<unknown>(server, 'POST', '/api/v1/auth/certificate-login', {
    headers,
    body: { challengeId, certificatePem: certPem, signature: sign(nonce) },
  });
  const token = stringAt(result, 'token');
  const expiresAt = dateAt(result, 'expiresAt');

  if (opts.printToken === true) {
    println(ctx.stdout, token);
    return;
  }
  writeSecretFile(files.token, token + '\n', true);
  const who = stringAt(result, 'user.displayName');
  const username = optionalStringAt(result, 'user.username');
  println(ctx.stdout, `登录成功 / Logged in: ${who}${username ? ` (${username})` : ''}`);
  println(ctx.stdout, `单位 / Organisation:       ${stringAt(result, 'organisation.name')}`);
  println(ctx.stdout, `令牌有效期至 / Token expires: ${formatShanghaiTime(expiresAt)}`);
  println(ctx.stdout, `令牌已保存 / Token saved:  ${files.token}`);
}

// ---------------------------------------------------------------------------
// whoami
// ---------------------------------------------------------------------------

async function whoami(ctx: CliContext, opts: WhoamiOptions): Promise<void> {
  const server = normaliseServer(opts.server);
  const files = accountPaths(opts.dir);
  let token: string;
  try {
    token = fs.readFileSync(files.token, 'utf8').trim();
  } catch {
    throw new CliExit(EXIT_BAD_INPUT, `未找到令牌，请先运行 bidtool login / No token found, run bidtool login first: ${files.token}`);
  }
  if (token === '') throw new CliExit(EXIT_BAD_INPUT, `令牌文件为空 / The token file is empty: ${files.token}`);

  const me = await apiRequest<unknown>(server, 'GET', '/api/v1/me', { token, headers: fingerprintHeaders(opts.deviceFingerprint) });
  const role = optionalStringAt(me, 'user.role');
  const orgType = optionalStringAt(me, 'organisation.type');
  const creditCode = optionalStringAt(me, 'organisation.creditCode');
  const certSerial = optionalStringAt(me, 'certSerial');
  const username = optionalStringAt(me, 'user.username');
  println(ctx.stdout, `用户 / User:               ${stringAt(me, 'user.displayName')}${username ? ` (${username})` : ''}`);
  if (role) println(ctx.stdout, `角色 / Role:               ${ROLE_LABELS[role] ?? role}`);
  println(ctx.stdout, `单位 / Organisation:       ${stringAt(me, 'organisation.name')}`);
  if (orgType) println(ctx.stdout, `单位类型 / Type:           ${ORG_TYPE_LABELS[orgType] ?? orgType}`);
  if (creditCode) println(ctx.stdout, `统一社会信用代码 / Credit code: ${creditCode}`);
  if (certSerial) println(ctx.stdout, `登录证书 / Login certificate: ${certSerial}`);
}
