/**
 * `npm run demo` — the story so far, narrated step by step, on a fresh embedded platform of its own: a temporary
 * DATA_DIR (or `--data-dir`, which must be empty), PGlite, in-process jobs and a controllable clock. The app is
 * started in this process on a free port and driven over real HTTP, as a browser or the bidder's tool would.
 * Exit 0 when every step passed; 1 with the failing step named otherwise; 2 on bad arguments.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createCsr, generateRsaKeyPair, signChallenge, type KeyPairPem } from '../../crypto/pki';
import { buildApp } from '../app';
import { loadConfig } from '../config';
import { createContext, type AppContext } from '../context';
import { renderSimplePdf } from '../documents/pdf';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../shared/clock';
import { createLogger } from '../shared/logger';
import { formatYuan } from '../shared/money';
import { formatShanghai, shanghaiDayNumber, startOfShanghaiDay } from '../shared/time';
import { runAuditVerify } from './audit-verify';
import { SEED_OPERATOR_USER, SEED_ORGANISATIONS } from './seed';
import { runIfEntryPoint } from './entry';

type Out = (line: string) => void;
// JSON bodies from the API, read loosely: the demo shows them, the tests check them.
type Json = any;

class StepFailed extends Error {}

interface Member {
  username: string;
  displayName: string;
  orgName: string;
  keys: KeyPairPem;
  certPem: string;
  token: string;
}

class ApiClient {
  constructor(private readonly base: string) {}

  async call(
    method: string,
    route: string,
    opts: { token?: string; json?: unknown; raw?: Buffer; contentType?: string; expect?: number } = {},
  ): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { 'User-Agent': 'gz-demo-cli' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | Uint8Array | undefined;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.raw) {
      headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
      body = new Uint8Array(opts.raw);
    }
    const res = await fetch(this.base + route, { method, headers, body });
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    if (opts.expect !== undefined && res.status !== opts.expect) {
      const err = parsed && typeof parsed === 'object' && parsed.error ? `${parsed.error.code}: ${parsed.error.message}` : String(text).slice(0, 300);
      throw new StepFailed(`${method} ${route} → HTTP ${res.status}（期望 expected ${opts.expect}）${err}`);
    }
    return { status: res.status, body: parsed };
  }
}

/** Deadline `days` Shanghai calendar days after `now`, at hh:mm Beijing time. */
function deadlineAfter(now: Date, days: number, hour: number, minute: number): Date {
  return new Date(startOfShanghaiDay(shanghaiDayNumber(now) + days).getTime() + hour * HOUR_MS + minute * MINUTE_MS);
}

export interface DemoOptions {
  dataDir?: string;
  keep?: boolean;
  verbose?: boolean;
}

/** Runs the whole story; returns the exit code. */
export async function runDemo(opts: DemoOptions, out: Out): Promise<number> {
  const started = Date.now();
  let dataDir: string;
  let temporary = false;
  if (opts.dataDir) {
    dataDir = path.resolve(opts.dataDir);
    if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
      out(`--data-dir 须为空目录或不存在 (must be empty or absent): ${dataDir}`);
      return 2;
    }
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-demo-'));
    temporary = true;
  }

  const adminPassword = `demo-${crypto.randomBytes(9).toString('base64url')}`;
  // A platform of its own: embedded database, in-process jobs, movable clock, whatever the environment says.
  const config = loadConfig({
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    REDIS_URL: '',
    BLOB_DIR: '',
    CLOCK: 'controllable',
    ADMIN_PASSWORD: adminPassword,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: opts.verbose ? 'info' : 'silent',
    RUN_JOBS_IN_API: 'true',
    OUTBOX_POLL_MS: '250',
  });

  let ctx: AppContext | undefined;
  let server: Server | undefined;
  let api!: ApiClient;
  let stepNo = 0;
  let stepTitle = '';
  const say = (line: string) => out(`    ${line}`);
  const step = async <T>(title: string, fn: () => Promise<T>): Promise<T> => {
    stepNo += 1;
    stepTitle = title;
    out('');
    out(`【第 ${stepNo} 步】${title}`);
    return fn();
  };

  // shared state of the story
  let operatorToken = '';
  const orgIds = new Map<string, string>();
  const members = new Map<string, Member>();
  let tenderId = '';
  let deadline = new Date(0);
  let newDeadline = new Date(0);

  const platformNow = async (): Promise<Date> => new Date((await api.call('GET', '/api/v1/time', { expect: 200 })).body.now);
  const operatorLogin = async () => {
    const res = await api.call('POST', '/api/v1/auth/password-login', { json: { username: 'admin', password: adminPassword }, expect: 200 });
    operatorToken = res.body.token;
  };
  const certificateLogin = async (m: Member) => {
    const ch = await api.call('POST', '/api/v1/auth/challenge', { expect: 201 });
    const res = await api.call('POST', '/api/v1/auth/certificate-login', {
      json: { challengeId: ch.body.challengeId, certificatePem: m.certPem, signature: signChallenge(m.keys.privateKeyPem, ch.body.nonce) },
      expect: 200,
    });
    m.token = res.body.token;
    return res.body;
  };
  const setClock = async (at: Date) => {
    const res = await api.call('POST', '/api/v1/dev/clock', { token: operatorToken, json: { at: at.toISOString() }, expect: 200 });
    return new Date(res.body.now);
  };

  try {
    out('公共资源电子交易平台 · 演示 (electronic public-resource trading platform: demo)');
    out(`数据目录 (data dir): ${dataDir}${temporary ? '（临时 temporary）' : ''}`);

    await step('启动平台：内嵌数据库 PGlite、进程内任务、可调时钟 (start the platform: embedded PGlite, in-process jobs, controllable clock)', async () => {
      ctx = await createContext(config, { logger: createLogger(config.logLevel, 'demo'), announce: () => undefined });
      await ctx.startJobs();
      const app = buildApp(ctx);
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      });
      const { port } = server.address() as AddressInfo;
      api = new ApiClient(`http://127.0.0.1:${port}`);
      const health = await api.call('GET', '/health', { expect: 200 });
      say(`平台已在 http://127.0.0.1:${port} 启动，健康检查 ${health.body.status}（数据库 ${health.body.checks.db.kind}，任务队列 ${health.body.checks.queue.kind}）`);
      say(`平台时间 (platform time): ${formatShanghai(await platformNow())}（北京时间 Asia/Shanghai）`);
    });

    await step('交易中心运维人员以密码登录 (the trading centre operator logs in by password)', async () => {
      await operatorLogin();
      const me = await api.call('GET', '/api/v1/me', { token: operatorToken, expect: 200 });
      say(`${me.body.user.displayName}（${me.body.organisation.name}）登录成功，获得短期令牌 (token issued)`);
    });

    // The regulator and the trading centre hold shares of each tender's opening key with the agency (2 of 3).
    const cast = ['agency', 'tenderer', 'regulator', 'bidder1', 'bidder2', 'bidder3'].map((key) => SEED_ORGANISATIONS.find((o) => o.key === key)!);

    await step('登记代理机构、招标人、监管部门和三家投标人 (register an agency, a tenderer, a regulator and three bidders)', async () => {
      for (const spec of cast) {
        const { key: _key, user: _user, ...body } = spec;
        const res = await api.call('POST', '/api/v1/organisations', { token: operatorToken, json: body, expect: 201 });
        orgIds.set(spec.key, res.body.id);
        const extra = spec.type === 'bidder' ? `，基本账户 ${spec.basicAccountBank}` : '';
        say(`✓ ${spec.name}（${spec.type}），统一社会信用代码 ${spec.creditCode}，法定代表人 ${spec.legalRepresentative}${extra}`);
      }
    });

    await step('各单位用户在本地生成密钥，凭注册码申领证书，并以证书挑战登录 (each user makes keys locally, enrols certificates with the one-time code, logs in by certificate challenge)', async () => {
      const me = await api.call('GET', '/api/v1/me', { token: operatorToken, expect: 200 });
      orgIds.set('operator', me.body.organisation.id);
      const people = [
        ...cast.map((spec) => ({ key: spec.key, orgName: spec.name, creditCode: spec.creditCode, role: 'admin', user: spec.user })),
        // the trading centre's key custodian: its admin logs in by password and holds no certificate
        { key: 'operator', orgName: me.body.organisation.name, creditCode: me.body.organisation.creditCode, role: 'staff', user: SEED_OPERATOR_USER },
      ];
      for (const spec of people) {
        const created = await api.call('POST', `/api/v1/organisations/${orgIds.get(spec.key)}/users`, {
          token: operatorToken,
          json: { username: spec.user.username, displayName: spec.user.displayName, role: spec.role, phone: spec.user.phone },
          expect: 201,
        });
        const signing = generateRsaKeyPair();
        const encryption = generateRsaKeyPair();
        const subject = { commonName: spec.user.displayName, organizationName: spec.orgName, serialNumber: spec.creditCode, countryName: 'CN' };
        const enrolled = await api.call('POST', '/api/v1/certificates/enrol', {
          json: {
            username: spec.user.username,
            enrolmentCode: created.body.enrolmentCode,
            signingCsrPem: createCsr(signing, subject),
            encryptionCsrPem: createCsr(encryption, subject),
          },
          expect: 201,
        });
        const member: Member = {
          username: spec.user.username,
          displayName: spec.user.displayName,
          orgName: spec.orgName,
          keys: signing,
          certPem: enrolled.body.signing.certificatePem,
          token: '',
        };
        const login = await certificateLogin(member);
        members.set(spec.key, member);
        say(
          `✓ ${member.displayName}（${member.orgName}）签名证书 ${enrolled.body.signing.serialHex.slice(0, 12)}…，加密证书 ${enrolled.body.encryption.serialHex.slice(0, 12)}…；证书登录成功 (logged in as ${login.user.username})`,
        );
      }
    });

    await step('代理机构新建招标项目（两个标段），上传招标文件并发布 (the agency creates a tender with two sections, uploads the documents and publishes)', async () => {
      const agency = members.get('agency')!;
      const now = await platformNow();
      deadline = deadlineAfter(now, 25, 9, 30);
      const created = await api.call('POST', '/api/v1/tenders', {
        token: agency.token,
        json: {
          name: '西安市第一中学教学楼新建工程施工招标',
          type: 'construction',
          tendererOrgId: orgIds.get('tenderer'),
          region: '陕西省西安市新城区',
          description: '新建教学楼一栋，地上五层，建筑面积约 12,000 平方米；含室外配套及绿化。',
          bidDeadline: deadline.toISOString(),
          decryptionWindowMinutes: 30,
          decryptionFailurePolicy: 'withdraw',
          custodianOrgIds: [orgIds.get('agency'), orgIds.get('regulator'), orgIds.get('operator')],
          custodianThreshold: 2,
          sections: [
            { name: '第一标段：教学楼土建及安装工程', estimatedPriceFen: 2_860_000_000, depositFen: 50_000_000 },
            { name: '第二标段：室外配套及绿化工程', estimatedPriceFen: 640_000_000, depositFen: 12_000_000 },
          ],
        },
        expect: 201,
      });
      tenderId = created.body.id;
      say(`✓ 项目 ${created.body.code}「${created.body.name}」已创建为草稿 (draft)`);
      for (const s of created.body.sections) say(`    ${s.name}：估算价 ${s.estimatedPriceYuan} 元，投标保证金 ${s.depositYuan} 元`);
      say(`  投标截止（即开标）时间：${formatShanghai(deadline)}（北京时间）`);

      const documents: Array<[string, string, string[]]> = [
        ['招标文件.pdf', `${created.body.name} 招标文件`, [
          `项目编号：${created.body.code}`,
          `投标截止时间（开标时间）：${formatShanghai(deadline)}（北京时间）`,
          '投标文件须使用平台投标工具加密、签名后在线递交；逾期上传的投标文件平台拒收。',
        ]],
        ['工程量清单.pdf', `${created.body.name} 工程量清单`, [
          '第一标段：土方开挖 8,600 立方米；C30 混凝土 5,200 立方米；钢筋 780 吨。',
          '第二标段：道路硬化 3,400 平方米；绿化 2,100 平方米；雨污管网 1,250 米。',
        ]],
      ];
      for (const [fileName, title, lines] of documents) {
        const pdf = await renderSimplePdf(title, lines);
        const up = await api.call('POST', `/api/v1/tenders/${tenderId}/documents?fileName=${encodeURIComponent(fileName)}`, {
          token: agency.token,
          raw: pdf,
          contentType: 'application/pdf',
          expect: 201,
        });
        say(`✓ 已上传 ${fileName}（${up.body.sizeBytes} 字节，SHA-256 ${up.body.sha256.slice(0, 16)}…）`);
      }
      const published = await api.call('POST', `/api/v1/tenders/${tenderId}/publish`, { token: agency.token, expect: 200 });
      say(`✓ 已发布 (published)：招标文件发出时间 ${formatShanghai(new Date(published.body.documentsIssuedAt))}，状态 ${published.body.status}`);
      const key = await api.call('GET', `/api/v1/tenders/${tenderId}/opening-key`, { token: agency.token, expect: 200 });
      say(
        `✓ 开标密钥已生成并按 ${key.body.threshold}/${key.body.custodians.length} 门限分存给：${key.body.custodians.map((c: Json) => c.name).join('、')}；完整私钥已销毁 (opening key split ${key.body.threshold}-of-${key.body.custodians.length}, whole key wiped)`,
      );
    });

    await step('投标保证金超过估算价 2% 的项目被拒绝 (a deposit above 2% of the estimated price is refused)', async () => {
      const agency = members.get('agency')!;
      const now = await platformNow();
      const res = await api.call('POST', '/api/v1/tenders', {
        token: agency.token,
        json: {
          name: '西安市第一中学智慧教室设备采购项目',
          type: 'procurement',
          tendererOrgId: orgIds.get('tenderer'),
          bidDeadline: deadlineAfter(now, 30, 14, 30).toISOString(),
          sections: [{ name: '包1：交互式智能平板及配套设备', estimatedPriceFen: 385_000_000, depositFen: 11_550_000 }],
        },
      });
      if (res.status !== 422 || res.body?.error?.code !== 'DEPOSIT_ABOVE_CAP') {
        throw new StepFailed(`期望 422 DEPOSIT_ABOVE_CAP，实际 HTTP ${res.status} ${JSON.stringify(res.body?.error ?? res.body).slice(0, 200)}`);
      }
      const e = res.body.error;
      say('预算金额 3,850,000.00 元，投标保证金 115,500.00 元（3%）');
      say(`✗ 平台拒绝 (refused)：HTTP 422 ${e.code}`);
      say(`  ${e.message}`);
      say(`  依据 (basis)：${e.details.basis}；上限 (cap) ${formatYuan(e.details.capFen)} 元`);
    });

    await step('截止前 10 日发布影响投标文件编制的澄清，截止时间顺延至满 15 日 (a clarification 10 days before the deadline postpones it)', async () => {
      const moved = await setClock(new Date(deadline.getTime() - 10 * DAY_MS));
      say(`运维人员将平台时间调至 (platform clock moved to) ${formatShanghai(moved)}，距截止还有 10 日`);
      // tokens are judged on the platform clock too: ten days on, everyone signs in again
      const agency = members.get('agency')!;
      await certificateLogin(agency);
      const res = await api.call('POST', `/api/v1/tenders/${tenderId}/clarifications`, {
        token: agency.token,
        json: {
          title: '关于第一标段工程量清单的澄清',
          body: '第一标段工程量清单第 3.2 项 C30 混凝土工程量由 5,200 立方米调整为 5,480 立方米，其余不变。',
          affectsBidPreparation: true,
        },
        expect: 201,
      });
      if (!res.body.deadlinePostponed) throw new StepFailed('澄清未顺延截止时间 (the deadline was not postponed)');
      newDeadline = new Date(res.body.tender.bidDeadline);
      say(`✓ 澄清第 ${res.body.clarification.seq} 号「${res.body.clarification.title}」已发布`);
      say(`  原截止时间 (old deadline)：${formatShanghai(new Date(res.body.clarification.deadlineBefore))}（北京时间）`);
      say(`  新截止时间 (new deadline)：${formatShanghai(newDeadline)}（北京时间），顺延 ${Math.round((newDeadline.getTime() - deadline.getTime()) / DAY_MS)} 日 (TLR 21)`);
    });

    await step('平台时间越过新的截止时间，截标任务自动封存项目 (platform time passes the deadline; the deadline job seals the tender)', async () => {
      await operatorLogin();
      const moved = await setClock(new Date(newDeadline.getTime() + MINUTE_MS));
      say(`运维人员将平台时间调至 (platform clock moved to) ${formatShanghai(moved)}`);
      await operatorLogin();
      const limit = Date.now() + 15_000;
      let polls = 0;
      for (;;) {
        polls += 1;
        const t = await api.call('GET', `/api/v1/tenders/${tenderId}`, { token: operatorToken, expect: 200 });
        if (t.body.status === 'sealed') {
          say(`✓ 项目已封存 (sealed)：状态 ${t.body.status}，封存时间 ${formatShanghai(new Date(t.body.sealedAt))}（北京时间），此后不再接受投标（轮询 ${polls} 次）`);
          break;
        }
        if (Date.now() > limit) throw new StepFailed(`15 秒内未封存，当前状态 ${t.body.status} (not sealed within 15 s)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    await step('校验审计链 (verify the audit chain)', async () => {
      const lines: string[] = [];
      const { exitCode, result } = await runAuditVerify(ctx!.db, (line) => lines.push(line));
      for (const line of lines) say(line);
      if (exitCode !== 0) throw new StepFailed('审计链校验未通过 (the audit chain did not verify)');
      const viaApi = await api.call('GET', '/api/v1/audit/verify', { token: operatorToken, expect: 200 });
      if (viaApi.body.headHash !== result.headHash) throw new StepFailed('接口与命令行的链头不一致 (API and CLI disagree on the head)');
      say(`链头 (head)：第 ${result.headSeq} 条，哈希 ${result.headHash}；接口 /api/v1/audit/verify 给出同一链头`);
    });

    out('');
    out(`✓ 演示完成，全部 ${stepNo} 步通过，用时 ${((Date.now() - started) / 1000).toFixed(1)} 秒 (demo complete: ${stepNo} steps passed)`);
    return 0;
  } catch (err) {
    out('');
    out(`✗ 演示失败于第 ${stepNo} 步「${stepTitle}」 (demo failed at step ${stepNo})`);
    out(`  ${err instanceof StepFailed ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    if (ctx) await ctx.close().catch(() => undefined);
    if (temporary && !opts.keep) fs.rmSync(dataDir, { recursive: true, force: true });
    else out(`数据保留在 (data kept in) ${dataDir}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('demo')
    .description('演示：从登记单位到截标封存 (the story so far, from registration to sealing)')
    .option('--data-dir <dir>', '使用此目录（须为空）而非临时目录 (use this empty directory instead of a temporary one)')
    .option('--keep', '保留临时数据目录 (keep the temporary data directory)')
    .option('--verbose', '显示服务器日志 (show the server log)')
    .parse(argv);
  return runDemo(program.opts<DemoOptions>(), (line) => console.log(line));
}

runIfEntryPoint(import.meta.url, main, '演示失败 (demo failed)');
