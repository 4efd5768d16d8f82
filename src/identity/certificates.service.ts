/**
 * The platform CA at work: certificates from CSRs for organisations' users (a signing and an encryption
 * certificate each), opening certificates for tenders, revocation, and the chain check every login and every
 * signature verification goes through.
 */
import {
  checkCertificate,
  issueCertificate,
  parseAndVerifyCsr,
  parseCertificate,
  PkiError,
  randomSerialHex,
  type CertificateUsage,
} from '../../crypto/pki';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { DAY_MS } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext, type Actor } from '../shared/access';
import { AppError, NotFound } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import {
  AccountDisabled,
  CertificateExpired,
  CertificateRevoked,
  CertificateUnknown,
  CertificateWrongUsage,
  CsrInvalid,
  EnrolmentInvalid,
} from './identity.errors';
import { identityRepository as repo, type CertificateRecord, type Organisation, type UserWithSecrets } from './identity.repository';
import { verifySecret } from './password';
import type { PlatformKeys } from './platform-keys';

export type UserCertificateUsage = Extract<CertificateUsage, 'signing' | 'encryption'>;

export interface IssuedCertificate {
  serialHex: string;
  usage: CertificateUsage;
  certificatePem: string;
  notBefore: Date;
  notAfter: Date;
}

export type CertificateView = Omit<CertificateRecord, 'pem'> & { certificatePem: string };

const view = (c: CertificateRecord): CertificateView => {
  const { pem, ...rest } = c;
  return { ...rest, certificatePem: pem };
};

export class CertificateService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly keys: PlatformKeys,
    private readonly validityDays: number,
  ) {}

  caCertificatePem(): string {
    return this.keys.ca.certificatePem;
  }

  tsaCertificatePem(): string {
    return this.keys.tsa.certificatePem;
  }

  private parseCsr(csrPem: string) {
    try {
      return parseAndVerifyCsr(csrPem);
    } catch (err) {
      if (err instanceof PkiError) throw CsrInvalid();
      throw err;
    }
  }

  /**
   * Issues within `trx`. The subject is the platform's record of the user and organisation, never the CSR's own
   * claims: the CSR only proves possession of the key.
   */
  private async issueForUser(
    trx: Runner,
    ctx: ActionContext,
    user: UserWithSecrets,
    org: Organisation,
    csrPem: string,
    usage: UserCertificateUsage,
  ): Promise<IssuedCertificate> {
    const csr = this.parseCsr(csrPem);
    const now = this.clock.now();
    const notAfter = new Date(now.getTime() + this.validityDays * DAY_MS);
    const serialHex = randomSerialHex();
    const subject = { commonName: user.displayName, organizationName: org.name, serialNumber: org.creditCode, countryName: 'CN' };
    const certificatePem = issueCertificate({
      ca: this.keys.ca,
      publicKeyPem: csr.publicKeyPem,
      subject,
      usage,
      serialHex,
      notBefore: now,
      notAfter,
    });
    const info = parseCertificate(certificatePem);
    await repo.insertCertificate(trx, {
      serialHex: info.serialHex,
      userId: user.id,
      organisationId: org.id,
      tenderId: null,
      usage,
      subjectCn: subject.commonName,
      subjectO: org.name,
      pem: certificatePem,
      fingerprintSha256: info.fingerprintSha256,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      issuedAt: now,
      issuedByUserId: ctx.actor?.userId ?? null,
    });
    await this.audit.append(trx, ctx, {
      action: 'certificate.issue',
      objectType: 'certificate',
      objectId: info.serialHex,
      payload: { userId: user.id, organisationId: org.id, usage, notAfter: info.notAfter.toISOString(), fingerprint: info.fingerprintSha256 },
    });
    return { serialHex: info.serialHex, usage, certificatePem, notBefore: info.notBefore, notAfter: info.notAfter };
  }

  /** A signed-in user renews its own certificate; an operator issues for any user (counter enrolment). */
  async issue(ctx: ActionContext, input: { csrPem: string; usage: UserCertificateUsage; userId?: string }): Promise<IssuedCertificate> {
    const actor = requireActor(ctx);
    const userId = input.userId ?? actor.userId;
    if (userId !== actor.userId && actor.orgType !== 'operator') throw NotFound({ resource: '用户' });
    const user = await repo.findUser(this.db, userId);
    if (!user) throw NotFound({ resource: '用户' });
    const org = (await repo.findOrganisation(this.db, user.organisationId))!;
    if (user.status !== 'active' || org.status !== 'active') throw AccountDisabled();
    return this.db.transaction((trx) => this.issueForUser(trx, ctx, user, org, input.csrPem, input.usage));
  }

  /**
   * First enrolment with the one-time code the trading centre handed over: both certificates at once, and the code
   * is spent in the same transaction.
   */
  async enrol(
    ctx: ActionContext,
    input: { username: string; enrolmentCode: string; signingCsrPem: string; encryptionCsrPem: string },
  ): Promise<{ signing: IssuedCertificate; encryption: IssuedCertificate }> {
    try {
      const user = await repo.findUserByUsername(this.db, input.username);
      const valid =
        (await verifySecret(input.enrolmentCode, user?.enrolmentCodeHash)) &&
        user?.enrolmentExpiresAt !== null &&
        user!.enrolmentExpiresAt!.getTime() > this.clock.now().getTime();
      if (!user || !valid) throw EnrolmentInvalid();
      const org = (await repo.findOrganisation(this.db, user.organisationId))!;
      if (user.status !== 'active' || org.status !== 'active') throw AccountDisabled();
      // Parse both before writing anything: a bad second CSR must not leave the first certificate behind.
      this.parseCsr(input.signingCsrPem);
      this.parseCsr(input.encryptionCsrPem);
      const enrolCtx: ActionContext = { ...ctx, actor: null };
      return await this.db.transaction(async (trx) => {
        // spent in the same transaction, and only if still unspent: two simultaneous enrolments get one pair
        if (!(await repo.spendEnrolment(trx, user.id, user.enrolmentCodeHash!))) throw EnrolmentInvalid();
        const signing = await this.issueForUser(trx, enrolCtx, user, org, input.signingCsrPem, 'signing');
        const encryption = await this.issueForUser(trx, enrolCtx, user, org, input.encryptionCsrPem, 'encryption');
        return { signing, encryption };
      });
    } catch (err) {
      // refused enrolments are recorded like refused logins, for the monitoring of guessing
      if (err instanceof AppError) {
        await this.audit.record(ctx, { action: 'certificate.enrol.refused', payload: { username: input.username.slice(0, 64), code: err.code } });
      }
      throw err;
    }
  }

  /** A tender's opening certificate (its private key is split among custodians by the sealed-bids work). */
  async issueOpeningCertificate(trx: Runner, ctx: ActionContext, tender: { id: string; code: string; name: string }, publicKeyPem: string) {
    const now = this.clock.now();
    const certificatePem = issueCertificate({
      ca: this.keys.ca,
      publicKeyPem,
      subject: { commonName: `${tender.code} 开标密钥 (opening key)`, organizationName: tender.name.slice(0, 60), countryName: 'CN' },
      usage: 'opening',
      serialHex: randomSerialHex(),
      notBefore: now,
      notAfter: new Date(now.getTime() + 2 * 365 * DAY_MS),
    });
    const info = parseCertificate(certificatePem);
    await repo.insertCertificate(trx, {
      serialHex: info.serialHex,
      userId: null,
      organisationId: null,
      tenderId: tender.id,
      usage: 'opening',
      subjectCn: info.subject.commonName,
      subjectO: info.subject.organizationName ?? null,
      pem: certificatePem,
      fingerprintSha256: info.fingerprintSha256,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      issuedAt: now,
      issuedByUserId: null,
    });
    await this.audit.append(trx, ctx, {
      action: 'certificate.issue',
      objectType: 'certificate',
      objectId: info.serialHex,
      tenderId: tender.id,
      payload: { usage: 'opening', fingerprint: info.fingerprintSha256 },
    });
    return { serialHex: info.serialHex, certificatePem };
  }

  /**
   * The chain check: issued by our CA (and on our register, the same bytes), within validity at platform time,
   * not revoked, of the expected usage. Returns the register's record.
   */
  async check(certificatePem: string, usage: CertificateUsage): Promise<CertificateRecord> {
    let info;
    try {
      info = parseCertificate(certificatePem);
    } catch {
      throw CertificateUnknown();
    }
    const record = await repo.findCertificate(this.db, info.serialHex);
    if (!record || record.fingerprintSha256 !== info.fingerprintSha256) throw CertificateUnknown();
    const result = checkCertificate(certificatePem, this.keys.ca.certificatePem, this.clock.now());
    if (!result.ok) {
      if (result.problem === 'EXPIRED' || result.problem === 'NOT_YET_VALID') {
        throw CertificateExpired({ notBefore: record.notBefore.toISOString(), notAfter: record.notAfter.toISOString() });
      }
      throw CertificateUnknown();
    }
    if (record.status === 'revoked') throw CertificateRevoked({ revokedAt: record.revokedAt!.toISOString() });
    if (record.usage !== usage) throw CertificateWrongUsage({ expected: usage, found: record.usage });
    return record;
  }

  private canSee(actor: Actor, c: CertificateRecord): boolean {
    if (seesEverything(actor)) return true;
    if (c.userId === actor.userId) return true;
    return actor.role === 'admin' && c.organisationId === actor.orgId;
  }

  async list(ctx: ActionContext, filter: { userId?: string; organisationId?: string }): Promise<CertificateView[]> {
    const actor = requireActor(ctx);
    if (!seesEverything(actor)) {
      // others list their own, or (admins) their organisation's
      if (filter.organisationId && filter.organisationId !== actor.orgId) return [];
      if (actor.role === 'admin') filter = { ...filter, organisationId: actor.orgId };
      else filter = { organisationId: actor.orgId, userId: actor.userId };
    }
    return (await repo.listCertificates(this.db, filter)).map(view);
  }

  async get(ctx: ActionContext, serialHex: string): Promise<CertificateView> {
    const actor = requireActor(ctx);
    const c = await repo.findCertificate(this.db, serialHex.toLowerCase());
    if (!c || !this.canSee(actor, c)) throw NotFound({ resource: '证书' });
    return view(c);
  }

  /** The holder, its organisation's admin, or an operator revokes; the register answers every later check. */
  async revoke(ctx: ActionContext, serialHex: string, reason: string): Promise<CertificateView> {
    const actor = requireActor(ctx);
    const c = await repo.findCertificate(this.db, serialHex.toLowerCase());
    if (!c || !this.canSee(actor, c) || (actor.orgType === 'regulator' && c.userId !== actor.userId)) {
      throw NotFound({ resource: '证书' });
    }
    if (c.usage === 'opening' && actor.orgType !== 'operator') throw NotFound({ resource: '证书' });
    return this.db.transaction(async (trx) => {
      const now = this.clock.now();
      const changed = await repo.revokeCertificate(trx, c.serialHex, now, reason);
      if (changed) {
        await this.audit.append(trx, ctx, {
          action: 'certificate.revoke',
          objectType: 'certificate',
          objectId: c.serialHex,
          tenderId: c.tenderId,
          payload: { reason, userId: c.userId },
        });
      }
      return view((await repo.findCertificate(trx, c.serialHex))!);
    });
  }
}
