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
import { inspectFile, sealBuffer, unwrapContentKey } from '../../crypto/envelope';
import { contentKeyDigest } from '../../crypto/opening';
import { idNumberCheckChar, packBid } from '../../crypto/package';
import { createCsr, generateRsaKeyPair, signChallenge, type KeyPairPem } from '../../crypto/pki';
import { signDigest } from '../../crypto/signature';
import { buildApp } from '../app';
import { loadConfig } from '../config';
import { createContext, type AppContext } from '../context';
import { renderSimplePdf } from '../documents/pdf';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../shared/clock';
import { createLogger } from '../shared/logger';
import { toChineseCapital } from '../shared/chinese-amount';
import { formatYuan } from '../shared/money';
import { formatShanghai, shanghaiDayNumber, startOfShanghaiDay } from '../shared/time';
import { runAuditVerify } from './audit-verify';
import { SEED_OPERATOR_USER, SEED_ORGANISATIONS } from './seed';
import { runIfEntryPoint } from './entry';
import { ApiClient, StepFailed, table, type Json, type Out } from './demo-support';
import { startDemoBank, type DemoBank } from './demo-bank';
import { awardAndRefunds, payDeposits, type DepositDemo } from './demo-deposits';
import { demoMachineCode, demoProposals } from './demo-bids';
import { reviewAlerts } from './demo-monitoring';

interface Member {
  username: string;
  displayName: string;
  orgName: string;
  keys: KeyPairPem;
  certPem: string;
  /** The encryption key pair and certificate: bids are sealed to it too, and the content key is unwrapped with it. */
  encKeys: KeyPairPem;
  encCertPem: string;
  token: string;
}

/** A bid the demo submitted: the envelope as the bidder keeps it, and the bid id the platform gave it. */
interface DemoBid {
  key: string;
  envelope: Buffer;
  bidId: string;
  priceFen: number;
}

/** A valid 18-character resident ID number (GB 11643) for the demo's project managers. */
function demoIdNumber(seed: number): string {
  const first17 = `610102${1970 + seed}0${(seed % 9) + 1}1${seed % 10}${String(100 + seed).slice(-3)}`;
  return first17 + idNumberCheckChar(first17);
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
  // The bank is another system: the simulator runs as its own process, signing with a secret of this run's own.
  const bankSecret = crypto.randomBytes(24).toString('base64url');
  let bank: DemoBank | undefined;
  // A platform of its own: embedded database, in-process jobs, movable clock, whatever the environment says.
  const configFor = (bankUrl: string) => loadConfig({
    BANK_URL: bankUrl,
    BANK_NOTIFY_SECRET: bankSecret,
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
    MONITORING_SCAN_SECONDS: '5',
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
  let tenderCode = '';
  let sectionId = '';
  const bids: DemoBid[] = [];

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
    const moved = new Date(res.body.now);
    await bank?.clock(moved); // the bank's clock moves with the platform's, as both follow real time in life
    return moved;
  };

  try {
    out('公共资源电子交易平台 · 演示 (electronic public-resource trading platform: demo)');
    out(`数据目录 (data dir): ${dataDir}${temporary ? '（临时 temporary）' : ''}`);

    await step('启动平台：内嵌数据库 PGlite、进程内任务、可调时钟；银行模拟器另起进程 (start the platform: embedded PGlite, in-process jobs, controllable clock; the bank simulator in its own process)', async () => {
      bank = await startDemoBank(bankSecret);
      const config = configFor(bank.url);
      ctx = await createContext(config, { logger: createLogger(config.logLevel, 'demo'), announce: () => undefined });
      await ctx.startJobs();
      const app = buildApp(ctx);
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      });
      const { port } = server.address() as AddressInfo;
      api = new ApiClient(`http://127.0.0.1:${port}`);
      await bank.setWebhook(`http://127.0.0.1:${port}/api/v1/bank/notifications`);
      await bank.clock(ctx.clock.now());
      const health = await api.call('GET', '/health', { expect: 200 });
      say(`平台已在 http://127.0.0.1:${port} 启动，健康检查 ${health.body.status}（数据库 ${health.body.checks.db.kind}，任务队列 ${health.body.checks.queue.kind}）`);
      say(`平台时间 (platform time): ${formatShanghai(await platformNow())}（北京时间 Asia/Shanghai）`);
      say(`银行模拟器 (bank simulator)：${bank.url}，自有账本，到账通知以 HMAC 签名`);
    });

    await step('交易中心运维人员以密码登录 (the trading centre operator logs in by password)', async () => {
      await operatorLogin();
      const me = await api.call('GET', '/api/v1/me', { token: operatorToken, expect: 200 });
      say(`${me.body.user.displayName}（${me.body.organisation.name}）登录成功，获得短期令牌 (token issued)`);
    });

    // The regulator and the trading centre hold shares of each tender's opening key with the agency (2 of 3).
    const bidderKeys = ['bidder1', 'bidder2', 'bidder3', 'bidder4', 'bidder5'];
    const cast = ['agency', 'tenderer', 'regulator', ...bidderKeys].map((key) => SEED_ORGANISATIONS.find((o) => o.key === key)!);

    await step('登记代理机构、招标人、监管部门和五家投标人 (register an agency, a tenderer, a regulator and five bidders)', async () => {
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
          encKeys: encryption,
          encCertPem: enrolled.body.encryption.certificatePem,
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
      tenderCode = created.body.code;
      sectionId = created.body.sections[0].id;
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

    await step('五家投标人用投标工具编制投标文件包、加密给开标证书和本单位加密证书、签名并在线递交 (five bidders pack, seal, sign and submit their bids)', async () => {
      const agency = members.get('agency')!;
      const opening = await api.call('GET', `/api/v1/tenders/${tenderId}/opening-key`, { token: agency.token, expect: 200 });
      // the four that will open climb in equal steps of 100,000 yuan: a pattern the monitoring must notice (TLR 40(4))
      const prices = [2_788_000_000, 2_798_000_000, 2_808_000_000, 2_818_000_000, 2_799_999_900];
      const proposals = demoProposals(bidderKeys.map((key) => SEED_ORGANISATIONS.find((o) => o.key === key)!.name));
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-demo-bids-'));
      try {
        for (const [i, key] of bidderKeys.entries()) {
          const m = members.get(key)!;
          await certificateLogin(m);
          const spec = SEED_ORGANISATIONS.find((o) => o.key === key)!;
          const now = await platformNow();
          const letter = path.join(work, `${key}-投标函.txt`);
          fs.writeFileSync(letter, `${spec.name} 投标函：第一标段投标总价 ${formatYuan(prices[i]!)} 元。\n`);
          const proposal = path.join(work, `${key}-技术标.txt`);
          fs.writeFileSync(proposal, proposals[i]!);
          const zipPath = path.join(work, `${key}.zip`);
          await packBid({
            outPath: zipPath,
            manifest: {
              tenderId,
              sectionId,
              tenderCode,
              bidder: { organisationId: orgIds.get(key), name: spec.name, creditCode: spec.creditCode },
              form: {
                totalPriceFen: prices[i]!,
                durationDays: 540 + i * 15,
                quality: '合格',
                projectManager: { name: ['赵建国', '钱立新', '孙卫东', '李志强', '周海涛'][i]!, idNumber: demoIdNumber(i + 1) },
                validityDays: 90,
              },
              author: m.displayName,
              tool: { name: 'bidtool', version: '0.1.0', serial: `BT-DEMO-000${i + 1}` },
            },
            files: [{ sourcePath: letter, path: '投标函.txt' }, { sourcePath: proposal, path: '技术标/施工组织设计.txt' }],
            now,
            // the demo packs every bid on this one machine; each bidder is given its own machine code but two
            machineFingerprint: demoMachineCode(i),
          });
          // sealed to the tender's opening certificate and to the bidder's own encryption certificate
          const envelope = await sealBuffer(fs.readFileSync(zipPath), [m.encCertPem, opening.body.certificatePem]);
          const sha256 = crypto.createHash('sha256').update(envelope).digest('hex');
          const signature = signDigest({ sha256Hex: sha256, certificatePem: m.certPem, privateKeyPem: m.keys.privateKeyPem, signingTime: now });
          const started = await api.call('POST', `/api/v1/tenders/${tenderId}/sections/${sectionId}/bid-uploads`, {
            token: m.token,
            json: { size: envelope.length, sha256, signature: signature.toString('base64') },
            expect: 201,
          });
          const done = await api.call('PATCH', `/api/v1/bid-uploads/${started.body.uploadId}`, {
            token: m.token,
            raw: envelope,
            contentType: 'application/offset+octet-stream',
            headers: { 'Upload-Offset': '0' },
            expect: 200,
          });
          const bidId: string = done.body.submission.bid.id;
          bids.push({ key, envelope, bidId, priceFen: prices[i]! });
          say(`✓ ${spec.name}：信封 ${envelope.length} 字节，SHA-256 ${sha256.slice(0, 16)}…，回执序列号 ${String(done.body.submission.receipt.serialHex).slice(0, 12)}…`);
        }
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
      say('报价在开标前无人可见：平台只保存密文，解密密钥在各投标人手中 (no one can see a price before the opening: the platform holds ciphertext only)');
    });

    const deposits = (): DepositDemo => ({
      api,
      bank: bank!,
      say,
      tenderId,
      sectionId,
      bidders: bidderKeys.map((key) => {
        const spec = SEED_ORGANISATIONS.find((o) => o.key === key)!;
        return { key, name: spec.name, token: () => members.get(key)!.token, basicAccountNo: spec.basicAccountNo!, basicAccountBank: spec.basicAccountBank! };
      }),
      agencyToken: () => members.get('agency')!.token,
      operatorToken: () => operatorToken,
      regulatorToken: () => members.get('regulator')!.token,
    });

    await step('投标人通过银行向各自的保证金子账户缴纳投标保证金：一家金额不足，两家由同一第三方账户代缴 (deposits paid through the bank: one short, two from one third party’s account)', async () => {
      await operatorLogin();
      await payDeposits(deposits());
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

    // ---- the online opening (不见面开标) -------------------------------------------------------------------------

    const bidderOf = (key: string) => members.get(key)!;
    const orgNameOf = (key: string) => SEED_ORGANISATIONS.find((o) => o.key === key)!.name;
    const everyone = () => ['agency', 'regulator', ...bidderKeys].map((k) => members.get(k)!);
    const hall = async (token: string) => (await api.call('GET', `/api/v1/tenders/${tenderId}/opening`, { token, expect: 200 })).body;
    /** Polls the hall until the opening reaches `state` (the platform's jobs move it), for up to 15 s. */
    const awaitState = async (state: string, token: string, orElse: string[] = []): Promise<Json> => {
      const limit = Date.now() + 15_000;
      for (;;) {
        const res = await api.call('GET', `/api/v1/tenders/${tenderId}/opening`, { token });
        if (res.status === 200 && (res.body.state === state || orElse.includes(res.body.state))) return res.body;
        if (Date.now() > limit) throw new StepFailed(`15 秒内开标未进入「${state}」，当前 ${res.status === 200 ? res.body.state : `HTTP ${res.status}`} (the opening did not reach ${state})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    /** Moves the platform clock and logs everyone in again, as they would in the morning of the opening. */
    const moveClockTo = async (at: Date): Promise<Date> => {
      const moved = await setClock(at);
      await operatorLogin();
      for (const m of everyone()) await certificateLogin(m);
      return moved;
    };
    /** What the bidder's tool does (bidtool post-key): unwrap the content key locally, sign it with the bid id, post it. */
    const postKey = async (bid: DemoBid, wrongKey?: Buffer) => {
      const m = bidderOf(bid.key);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-demo-key-'));
      let key: Buffer;
      try {
        const file = path.join(dir, 'bid.cms');
        fs.writeFileSync(file, bid.envelope);
        key = wrongKey ?? unwrapContentKey(await inspectFile(file), { privateKeyPem: m.encKeys.privateKeyPem, certificatePem: m.encCertPem });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      try {
        const signature = signDigest({ sha256Hex: contentKeyDigest(bid.bidId, key), certificatePem: m.certPem, privateKeyPem: m.keys.privateKeyPem, signingTime: await platformNow() });
        return await api.call('POST', `/api/v1/tenders/${tenderId}/opening/bids/${bid.bidId}/content-key`, {
          token: m.token,
          json: { contentKey: key.toString('base64'), signature: signature.toString('base64') },
          expect: 202,
        });
      } finally {
        key.fill(0);
      }
    };

    await step('投标截止即开标：五家投标人以数字证书签到，进入开标大厅 (the opening begins at the deadline; the bidders sign in by certificate)', async () => {
      for (const m of everyone()) await certificateLogin(m);
      const agency = members.get('agency')!;
      const begun = await awaitState('signing-in', agency.token);
      say(`开标大厅状态 (state)：${begun.state}，平台时间 ${formatShanghai(new Date(begun.serverTime))}（北京时间）`);
      for (const key of bidderKeys) {
        const res = await api.call('POST', `/api/v1/tenders/${tenderId}/opening/sign-in`, { token: bidderOf(key).token, expect: 200 });
        const mine = res.body.participants.find((p: Json) => p.name === orgNameOf(key));
        say(`✓ ${orgNameOf(key)} 签到 (signed in) ${formatShanghai(new Date(mine.signedInAt))}`);
      }
    });

    await step('主持人开始解密；四家投标人在解密时限内提交解密密钥，一家提交的密钥有误 (the host opens the window; four bidders hand over their keys, one a wrong key)', async () => {
      const agency = members.get('agency')!;
      const opened = await api.call('POST', `/api/v1/tenders/${tenderId}/opening/start-decryption`, { token: agency.token, expect: 200 });
      say(`✓ 解密开始 (decryption started)：${formatShanghai(new Date(opened.body.decryptionStartedAt))}，时限 ${opened.body.decryptionWindowMinutes} 分钟，至 ${formatShanghai(new Date(opened.body.decryptionEndsAt))}（北京时间）`);
      for (const bid of bids.slice(0, 4)) {
        const res = await postKey(bid);
        say(`✓ ${orgNameOf(bid.key)}：在本机解出内容密钥、签名后提交，平台已接收 (${res.body.status})，密钥已从内存清除`);
      }
      const wrong = bids[4]!;
      const res = await postKey(wrong, crypto.randomBytes(32));
      say(`✗ ${orgNameOf(wrong.key)}：提交了一个签名有效、但打不开本单位投标文件的密钥 (a signed key that does not open its bid)，平台接收 (${res.body.status})`);
    });

    let readings: Json[] = [];
    await step('解密时限届满：每份投标文件的结果与原因，唱标 (the window closes: each bid’s outcome and cause; the prices are read out)', async () => {
      const agency = members.get('agency')!;
      const now = await platformNow();
      const windowEnd = new Date((await hall(agency.token)).decryptionEndsAt);
      // give the decryption jobs a moment on the real clock before time jumps to the end of the window
      await new Promise((r) => setTimeout(r, 500));
      const moved = await moveClockTo(new Date(Math.max(now.getTime(), windowEnd.getTime()) + 1000));
      say(`运维人员将平台时间调至 (platform clock moved to) ${formatShanghai(moved)}，解密时限已过`);
      const announcing = await awaitState('announcing', agency.token, ['failed']);
      for (const s of announcing.sectionOutcomes) {
        say(`第 ${s.seq} 标段：有效投标 ${s.validBids} 家${s.failed ? '，不足三家，该标段流标 (fewer than three valid bids: failed, TLR 44)' : '，满三家，继续开标 (three or more: the opening goes on)'}`);
      }
      readings = (await api.call('GET', `/api/v1/tenders/${tenderId}/opening/readings`, { token: agency.token, expect: 200 })).body;
      const rows = [['序号', '投标人 (bidder)', '投标报价（元）(yuan)', '大写金额 (in capitals)', '工期（日）', '项目负责人', '保证金', '结果 (outcome)']];
      for (const [i, r] of readings.entries()) {
        const outcome = r.outcome === 'decrypted' ? '解密成功' : r.outcome === 'revoked' ? '撤销 (revoked)' : `${r.outcome}`;
        rows.push([
          String(i + 1),
          r.bidder,
          r.totalPriceFen === null ? '—' : formatYuan(r.totalPriceFen),
          r.totalPriceFen === null ? '—' : toChineseCapital(r.totalPriceFen),
          r.durationDays === null ? '—' : String(r.durationDays),
          r.projectManager ?? '—',
          r.deposit ?? '—',
          outcome,
        ]);
      }
      say('唱标 (reading of the bids, EB 30)：');
      for (const line of table(rows)) say(`  ${line}`);
      const revoked = readings.filter((r) => r.outcome === 'revoked');
      if (revoked.length !== 1 || readings.filter((r) => r.outcome === 'decrypted').length !== 4) {
        throw new StepFailed(`期望 4 份解密成功、1 份撤销 (expected 4 decrypted, 1 revoked): ${readings.map((r) => `${r.outcome} ${r.cause ?? ''}`).join(', ')}`);
      }
      say(`撤销原因 (cause, EB 31)：${revoked[0].bidder}——${revoked[0].cause}`);
      if (announcing.state !== 'announcing') throw new StepFailed(`开标状态 ${announcing.state}，期望 announcing (expected announcing)`);
    });

    await step('监测：解密后规则比对投标文件，监管部门收到预警并开始核查 (monitoring: the rules compare the decrypted bids; the regulator reviews the alerts)', async () => {
      await reviewAlerts({ api, say, tenderId, regulatorToken: () => members.get('regulator')!.token });
    });

    await step('投标人确认唱标结果，一家当场提出异议，主持人当场答复 (bidders confirm; one objects and the host answers on the record)', async () => {
      const agency = members.get('agency')!;
      for (const key of bidderKeys.slice(0, 2)) {
        await api.call('POST', `/api/v1/tenders/${tenderId}/opening/confirmation`, { token: bidderOf(key).token, json: { kind: 'confirmed' }, expect: 200 });
        say(`✓ ${orgNameOf(key)} 确认唱标结果 (confirmed)`);
      }
      say('其余投标人未表态，确认时间届满后视为认可 (silence counts as acceptance, GP87 42)');
      const objector = bidderKeys[4]!;
      const text = '本单位投标文件解密失败，请说明原因及依据。';
      const raised = await api.call('POST', `/api/v1/tenders/${tenderId}/opening/objections`, { token: bidderOf(objector).token, json: { text }, expect: 201 });
      say(`! ${orgNameOf(objector)} 提出异议 (objection)：「${text}」`);
      const answer = '贵单位在解密时限内提交的解密密钥无法打开贵单位的投标文件（认证标签不符），属投标人原因，按撤销投标文件处理（《电子招标投标办法》第三十一条）。';
      await api.call('POST', `/api/v1/tenders/${tenderId}/opening/objections/${raised.body.id}/answer`, { token: agency.token, json: { answer }, expect: 200 });
      say(`✓ 主持人答复 (answer)：「${answer}」`);
    });

    await step('确认与异议时间届满，平台生成、签名并发布开标记录表 (the periods end; the platform makes, signs and publishes the opening record)', async () => {
      const agency = members.get('agency')!;
      const confirmEnd = new Date((await hall(agency.token)).confirmationEndsAt);
      await moveClockTo(new Date(confirmEnd.getTime() + 1000));
      const objections = await awaitState('objections', agency.token);
      const moved = await moveClockTo(new Date(new Date(objections.objectionEndsAt).getTime() + 1000));
      say(`运维人员将平台时间调至 (platform clock moved to) ${formatShanghai(moved)}，确认与异议时间均已届满`);
      const recorded = await api.call('POST', `/api/v1/tenders/${tenderId}/opening/record`, { token: agency.token, expect: 200 });
      const pdf = await api.bytes(`/api/v1/tenders/${tenderId}/opening/record.pdf`, agency.token);
      const p7s = await api.bytes(`/api/v1/tenders/${tenderId}/opening/record.p7s`, agency.token);
      // the temporary data dir goes at the end of the demo: then the record is left beside it, to be opened
      const recordDir = temporary && !opts.keep ? os.tmpdir() : dataDir;
      const recordPath = path.join(recordDir, `开标记录表-${tenderCode}.pdf`);
      fs.writeFileSync(recordPath, pdf);
      fs.writeFileSync(`${recordPath}.p7s`, p7s);
      say(`✓ 开标记录表已发布 (record published) ${formatShanghai(new Date(recorded.body.recordedAt))}，${pdf.length} 字节，平台签名 ${p7s.length} 字节`);
      say(`开标记录表 (opening record PDF)：${recordPath}`);
      say(`平台签名 (signature, CMS)：${recordPath}.p7s`);
      const closed = await api.call('POST', `/api/v1/tenders/${tenderId}/opening/close`, { token: agency.token, expect: 200 });
      say(`✓ 开标结束 (opening closed)：状态 ${closed.body.state}`);
    });

    await step('定标：评标结果、中标候选人公示3日、中标通知书与合同；保证金2个工作日内退还本息 (the award: evaluation, 3-day publicity, award notice and contract; deposits refunded within two working days)', async () => {
      await moveClockTo(await platformNow());
      await awardAndRefunds(deposits(), readings, moveClockTo);
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
    await bank?.stop();
    if (temporary && !opts.keep) fs.rmSync(dataDir, { recursive: true, force: true });
    else out(`数据保留在 (data kept in) ${dataDir}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('demo')
    .description('演示：从登记单位到截标封存、在线开标 (the story so far, from registration to sealing and the online opening)')
    .option('--data-dir <dir>', '使用此目录（须为空）而非临时目录 (use this empty directory instead of a temporary one)')
    .option('--keep', '保留临时数据目录 (keep the temporary data directory)')
    .option('--verbose', '显示服务器日志 (show the server log)')
    .parse(argv);
  return runDemo(program.opts<DemoOptions>(), (line) => console.log(line));
}

runIfEntryPoint(import.meta.url, main, '演示失败 (demo failed)');
