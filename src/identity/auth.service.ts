/**
 * Login. Bidders, agencies, tenderers and regulators log in by certificate challenge, as a CA-lock (CA锁) login
 * does: the server hands out a nonce, the client signs it with the private key of its signing certificate, and the
 * server checks the signature, the chain, validity at platform time and revocation. Operators may also use a
 * password. Either way the answer is a short-lived signed token.
 */
import crypto from 'node:crypto';
import { verifyChallengeSignature } from '../../crypto/pki';
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { AppError } from '../shared/errors';
import { requireActor, type ActionContext, type Actor } from '../shared/access';
import { TokenInvalid } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import type { CertificateService } from './certificates.service';
import { AccountDisabled, ChallengeInvalid, LoginFailed, PasswordLoginNotAllowed, SessionTooOld, SignatureInvalid } from './identity.errors';
import { identityRepository as repo, type Organisation, type User } from './identity.repository';
import { verifySecret } from './password';
import type { TokenSigner } from './tokens';

export interface LoginResult {
  token: string;
  expiresAt: Date;
  user: User;
  organisation: Organisation;
}

export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly certificates: CertificateService,
    private readonly tokens: TokenSigner,
    private readonly challengeTtlSeconds: number,
    private readonly sessionMaxSeconds: number,
  ) {}

  async createChallenge(): Promise<{ challengeId: string; nonce: string; expiresAt: Date }> {
    const now = this.clock.now();
    const nonce = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.challengeTtlSeconds * 1000);
    await repo.deleteExpiredChallenges(this.db, now);
    const challengeId = await repo.insertChallenge(this.db, { nonce, createdAt: now, expiresAt });
    return { challengeId, nonce, expiresAt };
  }

  /**
   * A refused login changes nothing but the audit chain, which records the attempt and why it failed (EB 49; the
   * monitoring looks for bursts of failures and certificate mismatches).
   */
  private async refused(ctx: ActionContext, method: string, err: unknown, payload: Record<string, unknown>): Promise<never> {
    if (err instanceof AppError) {
      await this.audit.record(ctx, { action: 'auth.login.refused', payload: { method, code: err.code, ...payload } });
    }
    throw err;
  }

  async loginWithCertificate(
    ctx: ActionContext,
    input: { challengeId: string; certificatePem: string; signature: string },
  ): Promise<LoginResult> {
    let serial: string | undefined;
    try {
      const cert = await this.certificates.check(input.certificatePem, 'signing');
      serial = cert.serialHex;
      const challenge = await repo.findChallenge(this.db, input.challengeId);
      const now = this.clock.now();
      if (!challenge || challenge.usedAt || challenge.expiresAt.getTime() <= now.getTime()) throw ChallengeInvalid();
      if (!verifyChallengeSignature(cert.pem, challenge.nonce, input.signature)) throw SignatureInvalid();
      const membership = cert.userId ? await repo.findActiveMembership(this.db, cert.userId) : null;
      if (!membership) throw AccountDisabled();
      if (!(await repo.consumeChallenge(this.db, challenge.id, now))) throw ChallengeInvalid();
      return await this.grant(ctx, membership, cert.serialHex, 'certificate');
    } catch (err) {
      return this.refused(ctx, 'certificate', err, { certSerial: serial ?? null });
    }
  }

  async loginWithPassword(ctx: ActionContext, input: { username: string; password: string }): Promise<LoginResult> {
    try {
      const user = await repo.findUserByUsername(this.db, input.username);
      const ok = await verifySecret(input.password, user?.passwordHash);
      if (!user || !ok) throw LoginFailed();
      const membership = await repo.findActiveMembership(this.db, user.id);
      if (!membership) throw AccountDisabled();
      if (membership.org.type !== 'operator') throw PasswordLoginNotAllowed();
      return await this.grant(ctx, membership, null, 'password');
    } catch (err) {
      return this.refused(ctx, 'password', err, { username: input.username.slice(0, 64) });
    }
  }

  private async grant(
    ctx: ActionContext,
    membership: { user: User; org: Organisation },
    certSerial: string | null,
    method: string,
  ): Promise<LoginResult> {
    const { token, claims } = await this.tokens.issue(membership.user.id, certSerial);
    const actor: Actor = {
      userId: membership.user.id,
      orgId: membership.org.id,
      orgType: membership.org.type,
      role: membership.user.role,
      certSerial,
      tokenId: claims.tokenId,
      tokenExpiresAt: claims.expiresAt,
      authenticatedAt: claims.authenticatedAt,
    };
    await this.audit.record({ ...ctx, actor }, { action: 'auth.login', objectType: 'user', objectId: actor.userId, payload: { method } });
    return { token, expiresAt: claims.expiresAt, user: membership.user, organisation: membership.org };
  }

  /** Token → actor, with the user's current role and organisation (a disabled account loses access at once). */
  async verifyToken(token: string): Promise<Actor> {
    const claims = await this.tokens.verify(token);
    // one round trip for every request: this runs before each API call, 500 a second on a deadline morning
    const membership = await repo.findSession(this.db, { userId: claims.userId, tokenId: claims.tokenId, certSerial: claims.certSerial ?? null });
    if (!membership || membership.tokenRevoked) throw TokenInvalid();
    // a certificate revoked after login ends the session too
    if (claims.certSerial && membership.certificateStatus !== 'valid') throw TokenInvalid();
    return {
      userId: membership.user.id,
      orgId: membership.org.id,
      orgType: membership.org.type,
      role: membership.user.role,
      certSerial: claims.certSerial,
      tokenId: claims.tokenId,
      tokenExpiresAt: claims.expiresAt,
      authenticatedAt: claims.authenticatedAt,
    };
  }

  /**
   * A fresh token for a session still alive, so a page open through a long opening is not signed out every
   * TOKEN_TTL_SECONDS — but never past SESSION_MAX_HOURS from the login itself: then the user proves who it is
   * again. The token being renewed was verified as the request came in (revocation, account, certificate valid).
   */
  async renew(ctx: ActionContext): Promise<LoginResult> {
    const actor = requireActor(ctx);
    const since = actor.authenticatedAt;
    if (!since) throw TokenInvalid();
    if (this.clock.now().getTime() - since.getTime() >= this.sessionMaxSeconds * 1000) throw SessionTooOld();
    const membership = await repo.findActiveMembership(this.db, actor.userId);
    if (!membership) throw TokenInvalid();
    const renewed = await this.tokens.issue(actor.userId, actor.certSerial, since);
    await this.audit.record(ctx, { action: 'auth.renew', objectType: 'user', objectId: actor.userId, payload: { previousTokenId: actor.tokenId } });
    return { token: renewed.token, expiresAt: renewed.claims.expiresAt, user: membership.user, organisation: membership.org };
  }

  async logout(ctx: ActionContext, token: string): Promise<void> {
    const actor = requireActor(ctx);
    const claims = await this.tokens.verify(token);
    await this.db.transaction(async (trx) => {
      await repo.revokeToken(trx, claims.tokenId, claims.expiresAt, this.clock.now());
      await this.audit.append(trx, ctx, { action: 'auth.logout', objectType: 'user', objectId: actor.userId });
    });
  }
}
