/** The only knex for organisations, users, certificates, login challenges and revoked tokens. */
import type { Db, Runner } from '../db';
import { PG_UNIQUE_VIOLATION, pgErrorCode } from '../db';
import type { OrgType, UserRole } from '../shared/access';
import type { CertificateUsage } from '../../crypto/pki';

export interface Organisation {
  id: string;
  type: OrgType;
  name: string;
  creditCode: string;
  legalRepresentative: string | null;
  basicAccountBank: string | null;
  basicAccountNo: string | null;
  region: string | null;
  contactPhone: string | null;
  status: 'active' | 'suspended';
  createdAt: Date;
}

export interface User {
  id: string;
  organisationId: string;
  username: string;
  displayName: string;
  role: UserRole;
  phone: string | null;
  status: 'active' | 'disabled';
  createdAt: Date;
}

export interface UserWithSecrets extends User {
  passwordHash: string | null;
  enrolmentCodeHash: string | null;
  enrolmentExpiresAt: Date | null;
}

export interface CertificateRecord {
  serialHex: string;
  userId: string | null;
  organisationId: string | null;
  tenderId: string | null;
  usage: CertificateUsage;
  subjectCn: string;
  subjectO: string | null;
  pem: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  status: 'valid' | 'revoked';
  revokedAt: Date | null;
  revocationReason: string | null;
  issuedAt: Date;
}

type Row = Record<string, any>;

const org = (r: Row): Organisation => ({
  id: r.id,
  type: r.type,
  name: r.name,
  creditCode: r.credit_code,
  legalRepresentative: r.legal_representative ?? null,
  basicAccountBank: r.basic_account_bank ?? null,
  basicAccountNo: r.basic_account_no ?? null,
  region: r.region ?? null,
  contactPhone: r.contact_phone ?? null,
  status: r.status,
  createdAt: new Date(r.created_at),
});

const user = (r: Row): UserWithSecrets => ({
  id: r.id,
  organisationId: r.organisation_id,
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  phone: r.phone ?? null,
  status: r.status,
  createdAt: new Date(r.created_at),
  passwordHash: r.password_hash ?? null,
  enrolmentCodeHash: r.enrolment_code_hash ?? null,
  enrolmentExpiresAt: r.enrolment_expires_at ? new Date(r.enrolment_expires_at) : null,
});

export function publicUser(u: UserWithSecrets | User): User {
  const { id, organisationId, username, displayName, role, phone, status, createdAt } = u;
  return { id, organisationId, username, displayName, role, phone, status, createdAt };
}

const cert = (r: Row): CertificateRecord => ({
  serialHex: r.serial_hex,
  userId: r.user_id ?? null,
  organisationId: r.organisation_id ?? null,
  tenderId: r.tender_id ?? null,
  usage: r.usage,
  subjectCn: r.subject_cn,
  subjectO: r.subject_o ?? null,
  pem: r.pem,
  fingerprintSha256: r.fingerprint_sha256,
  notBefore: new Date(r.not_before),
  notAfter: new Date(r.not_after),
  status: r.status,
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  revocationReason: r.revocation_reason ?? null,
  issuedAt: new Date(r.issued_at),
});

/** Translates a unique violation into `onDuplicate()`'s error; rethrows anything else. */
async function uniquely<T>(work: Promise<T>, onDuplicate: (constraint: string) => Error): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw onDuplicate(String((err as { constraint?: string }).constraint ?? ''));
    throw err;
  }
}

export const identityRepository = {
  async insertOrganisation(
    db: Runner,
    o: Omit<Organisation, 'id' | 'createdAt' | 'status'>,
    onDuplicate: () => Error,
  ): Promise<Organisation> {
    const [row] = await uniquely(
      db('organisations')
        .insert({
          type: o.type,
          name: o.name,
          credit_code: o.creditCode,
          legal_representative: o.legalRepresentative,
          basic_account_bank: o.basicAccountBank,
          basic_account_no: o.basicAccountNo,
          region: o.region,
          contact_phone: o.contactPhone,
        })
        .returning('*'),
      onDuplicate,
    );
    return org(row);
  },

  async findOrganisation(db: Runner, id: string): Promise<Organisation | null> {
    const row = await db('organisations').where({ id }).first();
    return row ? org(row) : null;
  },

  async listOrganisations(db: Runner, filter: { type?: OrgType; ids?: string[]; q?: string }): Promise<Organisation[]> {
    const q = db('organisations').orderBy('created_at').orderBy('id');
    if (filter.type) q.where('type', filter.type);
    if (filter.ids) q.whereIn('id', filter.ids);
    if (filter.q) {
      const text = filter.q;
      q.where((w) => w.where('name', 'like', `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`).orWhere('credit_code', text.toUpperCase()));
    }
    return (await q).map(org);
  },

  async countOrganisations(db: Runner, type: OrgType): Promise<number> {
    const [{ n }] = await db('organisations').where({ type }).count({ n: '*' });
    return Number(n);
  },

  async insertUser(
    db: Runner,
    u: {
      organisationId: string;
      username: string;
      displayName: string;
      role: UserRole;
      phone: string | null;
      passwordHash: string | null;
      enrolmentCodeHash: string | null;
      enrolmentExpiresAt: Date | null;
    },
    onDuplicate: () => Error,
  ): Promise<UserWithSecrets> {
    const [row] = await uniquely(
      db('users')
        .insert({
          organisation_id: u.organisationId,
          username: u.username,
          display_name: u.displayName,
          role: u.role,
          phone: u.phone,
          password_hash: u.passwordHash,
          enrolment_code_hash: u.enrolmentCodeHash,
          enrolment_expires_at: u.enrolmentExpiresAt,
        })
        .returning('*'),
      onDuplicate,
    );
    return user(row);
  },

  async findUser(db: Runner, id: string): Promise<UserWithSecrets | null> {
    const row = await db('users').where({ id }).first();
    return row ? user(row) : null;
  },

  async findUserByUsername(db: Runner, username: string): Promise<UserWithSecrets | null> {
    const row = await db('users').where({ username }).first();
    return row ? user(row) : null;
  },

  async listUsers(db: Runner, organisationId: string): Promise<User[]> {
    return (await db('users').where({ organisation_id: organisationId }).orderBy('created_at')).map((r: Row) => publicUser(user(r)));
  },

  /** Spends an enrolment code; false if another request spent it first (a code answers once). */
  async spendEnrolment(db: Runner, userId: string, codeHash: string): Promise<boolean> {
    const n = await db('users')
      .where({ id: userId, enrolment_code_hash: codeHash })
      .update({ enrolment_code_hash: null, enrolment_expires_at: null });
    return n > 0;
  },

  /** The user and its organisation, for checking a token: both must still be active. */
  async findActiveMembership(db: Runner, userId: string): Promise<{ user: User; org: Organisation } | null> {
    const row = await db('users as u')
      .join('organisations as o', 'o.id', 'u.organisation_id')
      .where('u.id', userId)
      .where('u.status', 'active')
      .where('o.status', 'active')
      .select('u.*', db.raw('row_to_json(o.*) as org'))
      .first();
    if (!row) return null;
    const orgRow = typeof row.org === 'string' ? JSON.parse(row.org) : row.org;
    return { user: publicUser(user(row)), org: org(orgRow) };
  },

  /**
   * What every authenticated request must know of its token's session, in one round trip: the active membership (none
   * when the user or organisation is disabled), whether the token was revoked, and the login certificate's status.
   */
  async findSession(
    db: Runner,
    s: { userId: string; tokenId: string; certSerial: string | null },
  ): Promise<{ user: User; org: Organisation; tokenRevoked: boolean; certificateStatus: string | null } | null> {
    const row = await db('users as u')
      .join('organisations as o', 'o.id', 'u.organisation_id')
      .where('u.id', s.userId)
      .where('u.status', 'active')
      .where('o.status', 'active')
      .select(
        'u.*',
        db.raw('row_to_json(o.*) as org'),
        db.raw('exists (select 1 from revoked_tokens r where r.jti = ?) as token_revoked', [s.tokenId]),
        db.raw('(select c.status from certificates c where c.serial_hex = ?) as certificate_status', [s.certSerial]),
      )
      .first();
    if (!row) return null;
    const orgRow = typeof row.org === 'string' ? JSON.parse(row.org) : row.org;
    return { user: publicUser(user(row)), org: org(orgRow), tokenRevoked: Boolean(row.token_revoked), certificateStatus: row.certificate_status ?? null };
  },

  async insertCertificate(db: Runner, c: Omit<CertificateRecord, 'status' | 'revokedAt' | 'revocationReason'> & { issuedByUserId: string | null }): Promise<void> {
    await db('certificates').insert({
      serial_hex: c.serialHex,
      user_id: c.userId,
      organisation_id: c.organisationId,
      tender_id: c.tenderId,
      usage: c.usage,
      subject_cn: c.subjectCn,
      subject_o: c.subjectO,
      pem: c.pem,
      fingerprint_sha256: c.fingerprintSha256,
      not_before: c.notBefore,
      not_after: c.notAfter,
      issued_at: c.issuedAt,
      issued_by_user_id: c.issuedByUserId,
    });
  },

  async findCertificate(db: Runner, serialHex: string): Promise<CertificateRecord | null> {
    const row = await db('certificates').where({ serial_hex: serialHex }).first();
    return row ? cert(row) : null;
  },

  async listCertificates(db: Runner, filter: { userId?: string; organisationId?: string }): Promise<CertificateRecord[]> {
    const q = db('certificates').orderBy('issued_at', 'desc');
    if (filter.userId) q.where('user_id', filter.userId);
    if (filter.organisationId) q.where('organisation_id', filter.organisationId);
    return (await q).map(cert);
  },

  async revokeCertificate(db: Runner, serialHex: string, at: Date, reason: string): Promise<boolean> {
    const n = await db('certificates')
      .where({ serial_hex: serialHex, status: 'valid' })
      .update({ status: 'revoked', revoked_at: at, revocation_reason: reason });
    return n > 0;
  },

  async insertChallenge(db: Runner, c: { nonce: string; createdAt: Date; expiresAt: Date }): Promise<string> {
    const [row] = await db('login_challenges')
      .insert({ nonce: c.nonce, created_at: c.createdAt, expires_at: c.expiresAt })
      .returning('id');
    return row.id;
  },

  async findChallenge(db: Runner, id: string): Promise<{ id: string; nonce: string; expiresAt: Date; usedAt: Date | null } | null> {
    const row = await db('login_challenges').where({ id }).first();
    return row ? { id: row.id, nonce: row.nonce, expiresAt: new Date(row.expires_at), usedAt: row.used_at ? new Date(row.used_at) : null } : null;
  },

  /** Marks a challenge used; false if another request used it first (a nonce answers once). */
  async consumeChallenge(db: Runner, id: string, at: Date): Promise<boolean> {
    return (await db('login_challenges').where({ id }).whereNull('used_at').update({ used_at: at })) > 0;
  },

  async deleteExpiredChallenges(db: Runner, before: Date): Promise<number> {
    return db('login_challenges').where('expires_at', '<', before).delete();
  },

  async revokeToken(db: Runner, jti: string, expiresAt: Date, at: Date): Promise<void> {
    await db('revoked_tokens').insert({ jti, expires_at: expiresAt, revoked_at: at }).onConflict('jti').ignore();
  },

  async getPlatformKey(db: Runner, name: string): Promise<{ certificatePem: string | null; secretEnc: string } | null> {
    const row = await db('platform_keys').where({ name }).first();
    return row ? { certificatePem: row.certificate_pem ?? null, secretEnc: row.secret_enc } : null;
  },

  /** First writer wins: two instances starting at once end up with the same keys. */
  async insertPlatformKeyIfAbsent(db: Runner, name: string, certificatePem: string | null, secretEnc: string): Promise<void> {
    await db('platform_keys').insert({ name, certificate_pem: certificatePem, secret_enc: secretEnc }).onConflict('name').ignore();
  },
};

export type IdentityRepository = typeof identityRepository;
export type { Db };
