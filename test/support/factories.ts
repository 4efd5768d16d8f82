/**
 * Factories that build the world through the real API: an operator registers organisations and users, each user
 * enrols its certificates with the one-time code and logs in by signing a challenge — as people do.
 */
import crypto from 'node:crypto';
import { createCsr, generateRsaKeyPair, signChallenge, type KeyPairPem } from '../../crypto/pki';
import { withCheckChar } from '../../src/identity/credit-code';
import type { OrgType } from '../../src/shared/access';
import { ADMIN_PASSWORD, type TestApp } from './app';

export interface Member {
  orgId: string;
  orgType: OrgType;
  userId: string;
  username: string;
  token: string;
  signingKeys: KeyPairPem;
  signingCertPem: string;
  signingSerial: string;
  encryptionKeys: KeyPairPem;
  encryptionCertPem: string;
}

let counter = 0;

export function uniqueCreditCode(): string {
  const n = String(crypto.randomInt(0, 1e9)).padStart(9, '0');
  return withCheckChar(`91${String(110000 + (counter++ % 899999)).padStart(6, '0')}${n}`);
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

export async function operatorToken(t: TestApp): Promise<string> {
  const res = await t.http.post('/api/v1/auth/password-login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
  return res.body.token;
}

const ORG_NAMES: Record<OrgType, string> = {
  bidder: '建设集团有限公司',
  tenderer: '城市建设投资有限公司',
  agency: '招标代理有限公司',
  regulator: '住房和城乡建设局',
  operator: '公共资源交易中心',
};

export async function createOrganisation(t: TestApp, type: OrgType, overrides: Record<string, unknown> = {}): Promise<string> {
  const op = await operatorToken(t);
  const res = await t.http
    .post('/api/v1/organisations')
    .set(bearer(op))
    .send({
      type,
      name: `测试${ORG_NAMES[type]}${++counter}`,
      creditCode: uniqueCreditCode(),
      // each its own: one person representing two bidders of a section is a monitoring finding (TLR 34)
      legalRepresentative: `王某${counter}`,
      ...(type === 'bidder' ? { basicAccountBank: '中国建设银行西安分行', basicAccountNo: `6100${crypto.randomInt(1e9, 9e9)}` } : {}),
      ...overrides,
    })
    .expect(201);
  return res.body.id;
}

export async function login(t: TestApp, keys: KeyPairPem, certPem: string): Promise<string> {
  const ch = await t.http.post('/api/v1/auth/challenge').expect(201);
  const res = await t.http
    .post('/api/v1/auth/certificate-login')
    .send({ challengeId: ch.body.challengeId, certificatePem: certPem, signature: signChallenge(keys.privateKeyPem, ch.body.nonce) })
    .expect(200);
  return res.body.token;
}

/** A user of `orgId` (a new organisation of `type` when no id is given), enrolled and logged in. */
export async function createMember(t: TestApp, type: OrgType, opts: { orgId?: string; role?: 'admin' | 'staff' } = {}): Promise<Member> {
  const orgId = opts.orgId ?? (await createOrganisation(t, type));
  const op = await operatorToken(t);
  const username = `u${++counter}${crypto.randomBytes(3).toString('hex')}`;
  const created = await t.http
    .post(`/api/v1/organisations/${orgId}/users`)
    .set(bearer(op))
    .send({ username, displayName: `张${counter}`, role: opts.role ?? 'admin' })
    .expect(201);
  const signingKeys = generateRsaKeyPair();
  const encryptionKeys = generateRsaKeyPair();
  const enrolled = await t.http
    .post('/api/v1/certificates/enrol')
    .send({
      username,
      enrolmentCode: created.body.enrolmentCode,
      signingCsrPem: createCsr(signingKeys, { commonName: username }),
      encryptionCsrPem: createCsr(encryptionKeys, { commonName: username }),
    })
    .expect(201);
  const signingCertPem = enrolled.body.signing.certificatePem;
  const token = await login(t, signingKeys, signingCertPem);
  return {
    orgId,
    orgType: type,
    userId: created.body.user.id,
    username,
    token,
    signingKeys,
    signingCertPem,
    signingSerial: enrolled.body.signing.serialHex,
    encryptionKeys,
    encryptionCertPem: enrolled.body.encryption.certificatePem,
  };
}

/** A valid tender body: one section, deposit at exactly 2%, deadline 30 days after `now`. */
export function tenderBody(tendererOrgId: string, now: Date, overrides: Record<string, unknown> = {}) {
  return {
    name: '某市第一中学教学楼新建工程施工',
    type: 'construction',
    tendererOrgId,
    region: '陕西省西安市',
    description: '新建教学楼一栋，建筑面积 12,000 平方米。',
    bidDeadline: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    decryptionWindowMinutes: 30,
    decryptionFailurePolicy: 'withdraw',
    sections: [{ name: '第一标段：土建工程', estimatedPriceFen: 12_000_000_00, depositFen: 24_000_000 }],
    ...overrides,
  };
}

/** Uploads a small tender document and returns its id. */
export async function uploadDocument(t: TestApp, token: string, tenderId: string, content = '%PDF-1.4 招标文件\n'): Promise<string> {
  const res = await t.http
    .post(`/api/v1/tenders/${tenderId}/documents?fileName=${encodeURIComponent('招标文件.pdf')}`)
    .set(bearer(token))
    .set('Content-Type', 'application/pdf')
    .send(Buffer.from(content))
    .expect(201);
  return res.body.id;
}

export async function countRows(t: TestApp, table: string): Promise<number> {
  const [{ n }] = await t.ctx.db(table).count({ n: '*' });
  return Number(n);
}

/** Logs members in again, e.g. after the clock moved past their tokens' lifetime. */
export async function refresh(t: TestApp, ...members: Member[]): Promise<void> {
  for (const m of members) m.token = await login(t, m.signingKeys, m.signingCertPem);
}

/**
 * Members of the default opening-key custodians (the first regulator organisation and the trading centre), each with
 * an encryption certificate the shares are sealed to. Call before any other regulator organisation is created.
 */
export async function createCustodianMembers(t: TestApp): Promise<{ regulator: Member; operator: Member }> {
  const regulator = await createMember(t, 'regulator');
  const me = await t.http.get('/api/v1/me').set(bearer(await operatorToken(t))).expect(200);
  const operator = await createMember(t, 'operator', { orgId: me.body.organisation.id });
  return { regulator, operator };
}

export interface SealedBid {
  envelope: Buffer;
  sha256: string;
  signature: string;
}

/** What the bidder's tool does: seal `plaintext` to the bidder's and the tender's opening certificates, then sign. */
export async function sealBid(
  t: TestApp,
  member: Member,
  openingCertPem: string,
  plaintext: Buffer,
  opts: { recipients?: string[]; signer?: Member } = {},
): Promise<SealedBid> {
  const { sealBuffer } = await import('../../crypto/envelope');
  const envelope = await sealBuffer(plaintext, opts.recipients ?? [member.encryptionCertPem, openingCertPem]);
  return signedEnvelope(t, opts.signer ?? member, envelope);
}

/** Signs arbitrary bytes as an envelope (for hostile-input tests). */
export async function signedEnvelope(t: TestApp, signer: Member, envelope: Buffer): Promise<SealedBid> {
  const { signDigest } = await import('../../crypto/signature');
  const sha256 = crypto.createHash('sha256').update(envelope).digest('hex');
  const signature = signDigest({ sha256Hex: sha256, certificatePem: signer.signingCertPem, privateKeyPem: signer.signingKeys.privateKeyPem, signingTime: t.clock.now() });
  return { envelope, sha256, signature: signature.toString('base64') };
}

/** Starts an upload and sends the whole envelope in one request; returns the final response. */
export async function submitBid(t: TestApp, member: Member, tenderId: string, sectionId: string, sealed: SealedBid) {
  const start = await t.http
    .post(`/api/v1/tenders/${tenderId}/sections/${sectionId}/bid-uploads`)
    .set(bearer(member.token))
    .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature });
  if (start.status !== 201) return start;
  return t.http
    .patch(`/api/v1/bid-uploads/${start.body.uploadId}`)
    .set(bearer(member.token))
    .set('Upload-Offset', '0')
    .set('Content-Type', 'application/offset+octet-stream')
    .send(sealed.envelope);
}

/** A 18-digit resident ID number with its GB 11643 check digit, for project managers in test bids. */
export function idNumber(seed: number): string {
  const body = `61010319${String(800101 + (seed % 28)).padStart(6, '0')}${String(100 + (seed % 899)).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** Optional traces of who made a bid (what collusion monitoring compares); absent, each bidder's own. */
export interface BidPackageTraces {
  /** 投标工具序列号; default `test-serial-<username>`. */
  toolSerial?: string;
  /** 机器码 (64 lowercase hex); default this machine's, as packBid writes it. */
  machineFingerprint?: string;
  /** 编制人; default the member's username. */
  author?: string;
  /** The project manager's ID number; default idNumber(seed). */
  projectManagerId?: string;
  /** 联系人; default none. */
  contact?: { name: string; phone: string };
  /** More documents in the package, besides 投标函.txt. */
  files?: Array<{ path: string; content: string | Buffer }>;
}

/** What a bidder prepares: a real bid package (ZIP with manifest and 开标一览表), returned as bytes. */
export async function bidPackage(
  t: TestApp,
  member: Member,
  tender: { id: string; code?: string },
  sectionId: string,
  form: { totalPriceFen: number; projectManager?: string; seed?: number } & BidPackageTraces,
): Promise<Buffer> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { packBid } = await import('../../crypto/package');
  const org = (await t.http.get(`/api/v1/organisations/${member.orgId}`).set(bearer(member.token)).expect(200)).body;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-pack-'));
  try {
    const doc = path.join(dir, '投标函.txt');
    fs.writeFileSync(doc, `${org.name} 投标函：总价 ${form.totalPriceFen} 分。`);
    const extra = (form.files ?? []).map((f, i) => {
      const sourcePath = path.join(dir, `extra-${i}`);
      fs.writeFileSync(sourcePath, f.content);
      return { sourcePath, path: f.path };
    });
    const out = path.join(dir, 'bid.zip');
    const seed = form.seed ?? 1;
    await packBid({
      outPath: out,
      manifest: {
        tenderId: tender.id,
        sectionId,
        tenderCode: tender.code,
        bidder: { organisationId: member.orgId, name: org.name, creditCode: org.creditCode },
        form: {
          totalPriceFen: form.totalPriceFen,
          durationDays: 365,
          quality: '合格',
          projectManager: { name: form.projectManager ?? `项目经理${seed}`, idNumber: form.projectManagerId ?? idNumber(seed) },
          validityDays: 90,
        },
        author: form.author ?? member.username,
        ...(form.contact ? { contact: form.contact } : {}),
        tool: { name: 'bidtool', version: '0.1.0', serial: form.toolSerial ?? `test-serial-${member.username}` },
      },
      files: [{ sourcePath: doc, path: '投标函.txt' }, ...extra],
      now: t.clock.now(),
      machineFingerprint: form.machineFingerprint,
    });
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A supertest parser that keeps a non-JSON body (PDF, time-stamp token, signature) as a Buffer: `.parse(bufferBody)`. */
export function bufferBody(res: import('superagent').Response, cb: (err: Error | null, body: unknown) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}
