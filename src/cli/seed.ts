/**
 * `npm run seed` — a realistic demo world on the configured database: an agency, a tenderer, five bidders and a
 * regulator, each with a user holding a signing and an encryption certificate (keys made here, as a bidder's tool
 * makes them, and enrolled with the one-time code), and two tenders with their documents, one published and one
 * left as a draft. The trading centre is the bootstrap operator every fresh install already has.
 *
 * Idempotent: organisations are found by their fixed credit codes, users by username, tenders by name; only what is
 * missing is created, so a second run changes nothing (not even the audit chain). Everything goes through the
 * public service methods, acting as the operator `admin` (or, for the tenders, as the agency's user after a
 * certificate login): the audit chain records the seeding like any other work.
 *
 * The demo users' private keys and certificates are written to DATA_DIR/seed-keys/<username>/ (mode 0600), so a
 * person can log in with `bidtool sign-challenge`. They are demo keys: never use this in production.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { createCsr, generateRsaKeyPair, signChallenge, type KeyPairPem } from '../../crypto/pki';
import { loadConfig, type Config } from '../config';
import { createContext, type AppContext } from '../context';
import { renderSimplePdf } from '../documents/pdf';
import { withCheckChar } from '../identity/credit-code';
import type { Organisation } from '../identity/identity.repository';
import type { ActionContext, Actor, OrgType } from '../shared/access';
import { HOUR_MS, MINUTE_MS } from '../shared/clock';
import { createLogger } from '../shared/logger';
import { formatShanghai, shanghaiDayNumber, startOfShanghaiDay } from '../shared/time';
import type { TenderType } from '../tenders/tenders.rules';
import type { SectionInput } from '../tenders/tenders.service';
import { runIfEntryPoint } from './entry';

export type Out = (line: string) => void;

// ---- the world --------------------------------------------------------------------------------------------------

interface OrgSpec {
  key: string;
  type: Exclude<OrgType, 'operator'>;
  name: string;
  creditCode: string;
  legalRepresentative: string;
  region: string;
  contactPhone: string;
  basicAccountBank?: string;
  basicAccountNo?: string;
  user: { username: string; displayName: string; phone: string };
}

/** The agency's credit code marks a seeded database. */
export const SEED_MARKER_CREDIT_CODE = withCheckChar('91610100MA6XHX001');

export const SEED_ORGANISATIONS: OrgSpec[] = [
  {
    key: 'agency', type: 'agency', name: '陕西华信招标代理有限公司', creditCode: SEED_MARKER_CREDIT_CODE,
    legalRepresentative: '刘建华', region: '陕西省西安市雁塔区', contactPhone: '029-88886601',
    user: { username: 'huaxin.zhang', displayName: '张明', phone: '13991200001' },
  },
  {
    key: 'tenderer', type: 'tenderer', name: '西安市第一中学', creditCode: withCheckChar('12610100MB0XD0001'),
    legalRepresentative: '陈文博', region: '陕西省西安市新城区', contactPhone: '029-87654301',
    user: { username: 'xayz.wang', displayName: '王丽', phone: '13991200002' },
  },
  {
    key: 'regulator', type: 'regulator', name: '西安市住房和城乡建设局', creditCode: withCheckChar('11610100MB0XD0002'),
    legalRepresentative: '李国平', region: '陕西省西安市', contactPhone: '029-86781201',
    user: { username: 'xazjj.li', displayName: '李强', phone: '13991200003' },
  },
  {
    key: 'bidder1', type: 'bidder', name: '陕西秦川建设工程有限公司', creditCode: withCheckChar('91610100MA6XQC001'),
    legalRepresentative: '赵志刚', region: '陕西省西安市未央区', contactPhone: '029-86520011',
    basicAccountBank: '中国建设银行西安高新技术产业开发区支行', basicAccountNo: '61050110258800001234',
    user: { username: 'qinchuan.zhao', displayName: '赵磊', phone: '13991200011' },
  },
  {
    key: 'bidder2', type: 'bidder', name: '西安长安路桥工程有限公司', creditCode: withCheckChar('91610100MA6XCA002'),
    legalRepresentative: '孙伟', region: '陕西省西安市长安区', contactPhone: '029-85230022',
    basicAccountBank: '中国工商银行西安南大街支行', basicAccountNo: '3700021109024567891',
    user: { username: 'changan.sun', displayName: '孙晓燕', phone: '13991200012' },
  },
  {
    key: 'bidder3', type: 'bidder', name: '陕西华岳建筑安装有限公司', creditCode: withCheckChar('91610100MA6XHY003'),
    legalRepresentative: '周涛', region: '陕西省渭南市华阴市', contactPhone: '0913-4412033',
    basicAccountBank: '中国农业银行华阴市支行', basicAccountNo: '26530101040012345',
    user: { username: 'huayue.zhou', displayName: '周建国', phone: '13991200013' },
  },
  {
    key: 'bidder4', type: 'bidder', name: '西安鼎盛智能科技有限公司', creditCode: withCheckChar('91610100MA6XDN004'),
    legalRepresentative: '吴静', region: '陕西省西安市高新区', contactPhone: '029-81100044',
    basicAccountBank: '招商银行西安分行营业部', basicAccountNo: '129908765410201',
    user: { username: 'dingsheng.wu', displayName: '吴晨', phone: '13991200014' },
  },
  {
    key: 'bidder5', type: 'bidder', name: '陕西汉唐建设集团有限公司', creditCode: withCheckChar('91610100MA6XHT005'),
    legalRepresentative: '郑勇', region: '陕西省咸阳市秦都区', contactPhone: '029-33210055',
    basicAccountBank: '中国银行咸阳分行营业部', basicAccountNo: '102845678901',
    user: { username: 'hantang.zheng', displayName: '郑海涛', phone: '13991200015' },
  },
];

/**
 * The trading centre's key custodian: a certificate user of the operator organisation. Publication splits each
 * tender's opening key among the custodians (agency, regulator, trading centre), sealing every share to an encryption
 * certificate of that organisation, so the trading centre needs one too (its `admin` logs in by password only).
 */
export const SEED_OPERATOR_USER = { username: 'jyzx.chen', displayName: '陈静', phone: '13991200000' };

interface TenderSpec {
  name: string;
  type: TenderType;
  region: string;
  description: string;
  /** Days after today (Shanghai calendar) and the time of day of the deadline (opening). */
  deadline: { days: number; hour: number; minute: number };
  sections: SectionInput[];
  documentName: string;
  documentLines: string[];
  publish: boolean;
}

const yuan = (y: number) => Math.round(y * 100);

export const SEED_TENDERS: TenderSpec[] = [
  {
    name: '西安市第一中学教学楼新建工程施工招标',
    type: 'construction',
    region: '陕西省西安市新城区',
    description: '新建教学楼一栋，地上五层，建筑面积约 12,000 平方米，框架结构；含室外配套及绿化。资金来源：财政资金，已落实。',
    deadline: { days: 30, hour: 9, minute: 30 },
    sections: [
      { name: '第一标段：教学楼土建及安装工程', estimatedPriceFen: yuan(28_600_000), depositFen: yuan(500_000) },
      { name: '第二标段：室外配套及绿化工程', estimatedPriceFen: yuan(6_400_000), depositFen: yuan(120_000) },
    ],
    documentName: '招标文件.pdf',
    documentLines: [
      '第一章 招标公告',
      '招标人：西安市第一中学    招标代理机构：陕西华信招标代理有限公司',
      '建设地点：陕西省西安市新城区    计划工期：365 日历天    质量要求：合格',
      '投标人资格：具备建筑工程施工总承包二级及以上资质，具有有效的安全生产许可证。',
      '',
      '第二章 投标人须知（节选）',
      '投标文件须使用平台投标工具加密并签名后在线递交；投标截止时间即开标时间，逾期上传的投标文件平台拒收。',
      '投标保证金须从投标人基本账户转出，不超过估算价的 2%。',
    ],
    publish: true,
  },
  {
    name: '西安市第一中学智慧教室设备采购项目',
    type: 'procurement',
    region: '陕西省西安市新城区',
    description: '采购交互式智能平板、录播系统及配套设备，含安装调试与三年质保。采购方式：公开招标。',
    deadline: { days: 35, hour: 14, minute: 30 },
    sections: [
      { name: '包1：交互式智能平板及配套设备', estimatedPriceFen: yuan(3_850_000), depositFen: yuan(70_000) },
      { name: '包2：常态化录播系统', estimatedPriceFen: yuan(1_200_000), depositFen: yuan(20_000) },
    ],
    documentName: '采购文件.pdf',
    documentLines: [
      '第一章 投标邀请',
      '采购人：西安市第一中学    采购代理机构：陕西华信招标代理有限公司',
      '采购方式：公开招标    交货期：合同签订后 45 日内    质保期：三年',
      '',
      '第二章 采购需求（节选）',
      '包1：86 英寸交互式智能平板 60 台，含壁挂支架、无线传屏及教学软件。',
      '包2：常态化录播教室 4 间，含摄像跟踪、拾音与录播主机。',
    ],
    publish: false,
  },
];

// ---- small helpers ----------------------------------------------------------------------------------------------

function deadlineFor(now: Date, d: TenderSpec['deadline']): Date {
  return new Date(startOfShanghaiDay(shanghaiDayNumber(now) + d.days).getTime() + d.hour * HOUR_MS + d.minute * MINUTE_MS);
}

/** Display width in a terminal: CJK and full-width forms take two columns. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6);
    w += wide ? 2 : 1;
  }
  return w;
}

export function formatTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i] - displayWidth(c))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function writeSecret(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

const ORG_TYPE_LABELS: Record<OrgType, string> = {
  operator: '交易中心 operator',
  agency: '代理机构 agency',
  tenderer: '招标人 tenderer',
  bidder: '投标人 bidder',
  regulator: '监管部门 regulator',
};

const TENDER_STATUS_LABELS: Record<string, string> = {
  draft: '草稿 draft',
  published: '已发布 published',
  sealed: '已截标 sealed',
  terminated: '已终止 terminated',
};

// ---- the seed ---------------------------------------------------------------------------------------------------

export interface SeededUser {
  username: string;
  displayName: string;
  keyDir: string;
  /** 'created': new user, keys written now; 'reissued': user existed but its key files were missing; 'existing'. */
  status: 'created' | 'reissued' | 'existing';
}

export interface SeedSummary {
  /** True when this run found the seed marker (the agency) already present. */
  alreadySeeded: boolean;
  organisations: Array<{ type: OrgType; name: string; creditCode: string; id: string; created: boolean; user: SeededUser | null }>;
  tenders: Array<{ id: string; code: string; name: string; type: TenderType; status: string; bidDeadlineLocal: string; created: boolean }>;
  keysDir: string;
  adminPasswordHint: string;
}

function keyFiles(keysDir: string, username: string) {
  const dir = path.join(keysDir, username);
  return {
    dir,
    signingKey: path.join(dir, 'signing.key.pem'),
    signingCert: path.join(dir, 'signing.cert.pem'),
    encryptionKey: path.join(dir, 'encryption.key.pem'),
    encryptionCert: path.join(dir, 'encryption.cert.pem'),
  };
}

class Seeder {
  private readonly meta = { requestId: 'seed', ip: null, userAgent: 'gz-seed-cli', deviceFingerprint: null };
  private opCtx!: ActionContext;
  private readonly agencyCtxCache = new Map<string, ActionContext>();

  constructor(
    private readonly ctx: AppContext,
    private readonly keysDir: string,
    private readonly out: Out,
  ) {}

  /** The seed acts as the trading centre's `admin`, whom the bootstrap created. */
  async actAsOperator(): Promise<Organisation> {
    const { identity } = this.ctx.services;
    // Looking the operator up needs an operator's eyes; reads are not audited, and every write below carries the
    // real admin user's identity.
    const lookup: ActionContext = {
      actor: { userId: '00000000-0000-0000-0000-000000000000', orgId: '00000000-0000-0000-0000-000000000000', orgType: 'operator', role: 'admin', certSerial: null, tokenId: 'seed-lookup' },
      meta: this.meta,
    };
    const operatorOrg = (await identity.listOrganisations(lookup, { type: 'operator' }))[0] as Organisation | undefined;
    if (!operatorOrg) throw new Error('no operator organisation: the bootstrap did not run');
    const admin = (await identity.listUsers(lookup, operatorOrg.id)).find((u) => u.username === 'admin' && u.status === 'active');
    if (!admin) throw new Error('the operator has no active user "admin"');
    const actor: Actor = { userId: admin.id, orgId: operatorOrg.id, orgType: 'operator', role: admin.role, certSerial: null, tokenId: 'seed-cli' };
    this.opCtx = { actor, meta: this.meta };
    return operatorOrg;
  }

  async isSeeded(): Promise<boolean> {
    const agencies = (await this.ctx.services.identity.listOrganisations(this.opCtx, { type: 'agency' })) as Organisation[];
    return agencies.some((o) => o.creditCode === SEED_MARKER_CREDIT_CODE);
  }

  async ensureOrganisation(spec: OrgSpec): Promise<{ org: Organisation; created: boolean }> {
    const { identity } = this.ctx.services;
    const existing = ((await identity.listOrganisations(this.opCtx, { type: spec.type })) as Organisation[]).find(
      (o) => o.creditCode === spec.creditCode,
    );
    if (existing) {
      this.out(`  · 已存在 (exists)   ${spec.name}`);
      return { org: existing, created: false };
    }
    const { key: _key, user: _user, ...input } = spec;
    const org = await identity.createOrganisation(this.opCtx, input);
    this.out(`  ✓ 已登记 (created)  ${spec.name}`);
    return { org, created: true };
  }

  private subjectFor(org: Organisation, displayName: string) {
    return { commonName: displayName, organizationName: org.name, serialNumber: org.creditCode, countryName: 'CN' };
  }

  async ensureUser(org: Organisation, spec: OrgSpec['user'], role: 'admin' | 'staff' = 'admin'): Promise<SeededUser> {
    const { identity, certificates } = this.ctx.services;
    const files = keyFiles(this.keysDir, spec.username);
    const existing = (await identity.listUsers(this.opCtx, org.id)).find((u) => u.username === spec.username);
    const haveFiles = [files.signingKey, files.signingCert, files.encryptionKey, files.encryptionCert].every((f) => fs.existsSync(f));
    if (existing && haveFiles) {
      this.out(`    · 用户 ${spec.username} 已存在，密钥文件在 (exists; keys in) ${files.dir}`);
      return { username: spec.username, displayName: spec.displayName, keyDir: files.dir, status: 'existing' };
    }
    // Keys are made here, on the holder's side; the platform only ever sees the CSRs.
    const signing: KeyPairPem = generateRsaKeyPair();
    const encryption: KeyPairPem = generateRsaKeyPair();
    const subject = this.subjectFor(org, spec.displayName);
    const write = (certs: { signing: string; encryption: string }) => {
      writeSecret(files.signingKey, signing.privateKeyPem);
      writeSecret(files.signingCert, certs.signing);
      writeSecret(files.encryptionKey, encryption.privateKeyPem);
      writeSecret(files.encryptionCert, certs.encryption);
    };
    if (!existing) {
      const { enrolmentCode } = await identity.createUser(this.opCtx, org.id, { ...spec, role });
      // The user enrols as it would with the code the trading centre hands over: CSRs made from local keys.
      const enrolled = await certificates.enrol(
        { actor: null, meta: this.meta },
        {
          username: spec.username,
          enrolmentCode: enrolmentCode!,
          signingCsrPem: createCsr(signing, subject),
          encryptionCsrPem: createCsr(encryption, subject),
        },
      );
      write({ signing: enrolled.signing.certificatePem, encryption: enrolled.encryption.certificatePem });
      this.out(`    ✓ 用户 ${spec.username}（${spec.displayName}）已申领签名与加密证书 (enrolled signing + encryption certificates)`);
      return { username: spec.username, displayName: spec.displayName, keyDir: files.dir, status: 'created' };
    }
    // The user exists but its keys are gone (e.g. a new DATA_DIR against the same PostgreSQL): counter re-issue.
    const s = await certificates.issue(this.opCtx, { csrPem: createCsr(signing, subject), usage: 'signing', userId: existing.id });
    const e = await certificates.issue(this.opCtx, { csrPem: createCsr(encryption, subject), usage: 'encryption', userId: existing.id });
    write({ signing: s.certificatePem, encryption: e.certificatePem });
    this.out(`    ✓ 用户 ${spec.username} 的密钥文件缺失，已重新签发证书 (keys missing: certificates re-issued)`);
    return { username: spec.username, displayName: spec.displayName, keyDir: files.dir, status: 'reissued' };
  }

  /** The agency's user logs in by certificate challenge, as its client would. */
  private async agencyCtx(username: string): Promise<ActionContext> {
    const cached = this.agencyCtxCache.get(username);
    if (cached) return cached;
    const { auth } = this.ctx.services;
    const files = keyFiles(this.keysDir, username);
    const keyPem = fs.readFileSync(files.signingKey, 'utf8');
    const certPem = fs.readFileSync(files.signingCert, 'utf8');
    const challenge = await auth.createChallenge();
    const login = await auth.loginWithCertificate(
      { actor: null, meta: this.meta },
      { challengeId: challenge.challengeId, certificatePem: certPem, signature: signChallenge(keyPem, challenge.nonce) },
    );
    const actionCtx: ActionContext = { actor: await auth.verifyToken(login.token), meta: this.meta };
    this.agencyCtxCache.set(username, actionCtx);
    return actionCtx;
  }

  async ensureTender(
    spec: TenderSpec,
    agencyUser: string,
    orgs: { agency: Organisation; tenderer: Organisation; regulator: Organisation; operator: Organisation },
  ) {
    const { tenders } = this.ctx.services;
    const { agency, tenderer } = orgs;
    const found = (await tenders.list(this.opCtx, { q: spec.name, page: 1, pageSize: 100 })).items.find(
      (t) => t.name === spec.name && t.agencyOrgId === agency.id && t.status !== 'terminated',
    );
    let created = false;
    let id = found?.id;
    if (!id) {
      const agencyCtx = await this.agencyCtx(agencyUser);
      const detail = await tenders.create(agencyCtx, {
        name: spec.name,
        type: spec.type,
        tendererOrgId: tenderer.id,
        region: spec.region,
        description: spec.description,
        bidDeadline: deadlineFor(this.ctx.clock.now(), spec.deadline),
        decryptionWindowMinutes: 30,
        decryptionFailurePolicy: 'withdraw',
        // named, not left to the default (the first regulator on record), so a shared database can't pick another
        custodianOrgIds: [agency.id, orgs.regulator.id, orgs.operator.id],
        custodianThreshold: 2,
        sections: spec.sections,
      });
      id = detail.id;
      created = true;
      this.out(`  ✓ 已创建 (created)  ${detail.code} ${spec.name}`);
    } else {
      this.out(`  · 已存在 (exists)   ${found!.code} ${spec.name}`);
    }
    let detail = await tenders.get(this.opCtx, id);
    if (detail.status === 'draft' && detail.documents.length === 0) {
      const agencyCtx = await this.agencyCtx(agencyUser);
      const pdf = await renderSimplePdf(`${spec.name} ${spec.type === 'construction' ? '招标文件' : '采购文件'}`, [
        `项目编号：${detail.code}`,
        `招标人：${tenderer.name}    代理机构：${agency.name}`,
        `投标截止时间（开标时间）：${formatShanghai(detail.bidDeadline)}（北京时间）`,
        '',
        ...detail.sections.map((s) => `${s.name}：${spec.type === 'construction' ? '估算价' : '预算金额'} ${s.estimatedPriceYuan} 元，投标保证金 ${s.depositYuan} 元`),
        '',
        ...spec.documentLines,
      ]);
      await tenders.uploadDocument(agencyCtx, id, { fileName: spec.documentName, contentType: 'application/pdf', body: Readable.from([pdf]) });
      this.out(`    ✓ 已上传 ${spec.documentName}（${pdf.length} 字节） (uploaded the tender document)`);
    }
    if (spec.publish && detail.status === 'draft') {
      const agencyCtx = await this.agencyCtx(agencyUser);
      detail = await tenders.publish(agencyCtx, id);
      this.out(`    ✓ 已发布，投标截止 ${formatShanghai(detail.bidDeadline)}（北京时间） (published)`);
    }
    detail = await tenders.get(this.opCtx, id);
    return {
      id: detail.id,
      code: detail.code,
      name: detail.name,
      type: detail.type,
      status: detail.status,
      bidDeadlineLocal: formatShanghai(detail.bidDeadline),
      created,
    };
  }
}

/** Seeds the configured database; prints progress and the summary table on `out`. */
export async function runSeed(config: Config, out: Out): Promise<SeedSummary> {
  const announced: string[] = [];
  const ctx = await createContext(config, { logger: createLogger('warn', 'seed'), announce: (text) => {
    // shown at once, so the one-time admin password survives a seed that fails later
    announced.push(text);
    out(`*** ${text}`);
  } });
  try {
    const keysDir = path.join(config.dataDir, 'seed-keys');
    const seeder = new Seeder(ctx, keysDir, out);
    const operatorOrg = await seeder.actAsOperator();
    writeSecret(path.join(keysDir, 'ca.cert.pem'), ctx.services.certificates.caCertificatePem());

    out('单位与用户 (organisations and users):');
    const alreadySeeded = await seeder.isSeeded();
    if (alreadySeeded) out(`  （已发现种子标记：信用代码 ${SEED_MARKER_CREDIT_CODE}，仅补齐缺失部分 / seed marker found: only what is missing is added）`);

    const orgs = new Map<string, Organisation>();
    const summary: SeedSummary = {
      alreadySeeded,
      organisations: [
        { type: 'operator', name: operatorOrg.name, creditCode: operatorOrg.creditCode, id: operatorOrg.id, created: false, user: null },
      ],
      tenders: [],
      keysDir,
      adminPasswordHint: '',
    };
    out(`  · 交易中心 (trading centre) ${operatorOrg.name}：管理员 admin 已存在；开标密钥保管员 (key custodian):`);
    summary.organisations[0].user = await seeder.ensureUser(operatorOrg, SEED_OPERATOR_USER, 'staff');
    for (const spec of SEED_ORGANISATIONS) {
      const { org, created } = await seeder.ensureOrganisation(spec);
      orgs.set(spec.key, org);
      const user = await seeder.ensureUser(org, spec.user);
      summary.organisations.push({ type: spec.type, name: org.name, creditCode: org.creditCode, id: org.id, created, user });
    }

    out('招标项目 (tenders):');
    const agencySpec = SEED_ORGANISATIONS.find((o) => o.key === 'agency')!;
    for (const spec of SEED_TENDERS) {
      summary.tenders.push(
        await seeder.ensureTender(spec, agencySpec.user.username, {
          agency: orgs.get('agency')!,
          tenderer: orgs.get('tenderer')!,
          regulator: orgs.get('regulator')!,
          operator: operatorOrg,
        }),
      );
    }

    summary.adminPasswordHint = config.adminPassword
      ? '环境变量 ADMIN_PASSWORD 的值 (the value of ADMIN_PASSWORD)'
      : announced.length
        ? announced.join(' ')
        : '首次启动时已打印一次 (printed once at first start)';
    printSummary(summary, out);
    return summary;
  } finally {
    await ctx.close();
  }
}

function printSummary(s: SeedSummary, out: Out): void {
  out('');
  out('种子数据 (seed summary)');
  const orgRows: string[][] = [];
  for (const o of s.organisations) {
    if (o.type === 'operator') orgRows.push([ORG_TYPE_LABELS[o.type], o.name, o.creditCode, 'admin', '系统管理员', '密码登录 password']);
    if (o.user) {
      const first = o.type !== 'operator';
      orgRows.push([
        first ? ORG_TYPE_LABELS[o.type] : '',
        first ? o.name : '',
        first ? o.creditCode : '',
        o.user.username,
        o.user.displayName,
        o.type === 'operator' ? '证书登录 certificate（密钥保管 custodian）' : '证书登录 certificate',
      ]);
    }
  }
  for (const line of formatTable(['类型 type', '单位 organisation', '统一社会信用代码', '用户名 username', '姓名 name', '登录方式 login'], orgRows)) out(line);
  out('');
  const tenderRows = s.tenders.map((t) => [t.code, t.name, t.type === 'construction' ? '工程建设' : '政府采购', TENDER_STATUS_LABELS[t.status] ?? t.status, t.bidDeadlineLocal]);
  for (const line of formatTable(['编号 code', '项目 tender', '类型 type', '状态 status', '投标截止（北京时间）'], tenderRows)) out(line);
  out('');
  out(`证书与私钥 (keys and certificates, mode 0600): ${s.keysDir}/<用户名 username>/`);
  out('  signing.key.pem  signing.cert.pem  encryption.key.pem  encryption.cert.pem;  平台根证书 (platform CA): ca.cert.pem');
  const written = s.organisations.filter((o) => o.user && o.user.status !== 'existing').map((o) => o.user!.username);
  out(`  本次写入 (written this run): ${written.length ? written.join(', ') : '无 (none)'}`);
  out(`  证书登录示例 (log in with bidtool): POST /api/v1/auth/challenge, then`);
  out(`    npm run bidtool -- sign-challenge --key ${path.join(s.keysDir, 'huaxin.zhang', 'signing.key.pem')} --nonce <nonce>`);
  out(`交易中心管理员 admin 的密码 (operator admin password): ${s.adminPasswordHint}`);
  out('以上为演示密钥，切勿用于生产环境 (demo keys: never use them in production).');
}

async function main(argv: string[]): Promise<number> {
  new Command()
    .name('seed')
    .description('写入演示数据（可重复执行） (seed a realistic demo world; idempotent)')
    .addHelpText('after', '\n使用内嵌数据库时请先停止服务器 (with the embedded database, stop the server first).')
    .parse(argv);
  const config = loadConfig();
  const out: Out = (line) => console.log(line);
  out(`数据库 (database): ${config.database.url ? 'PostgreSQL' : `PGlite (embedded) ${config.database.embeddedDir}`}`);
  await runSeed(config, out);
  return 0;
}

runIfEntryPoint(import.meta.url, main, '种子数据写入失败 (seed failed)');
