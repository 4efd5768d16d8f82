/**
 * Short-lived signed login tokens (JWT, HS256 with the platform's token secret). Stateless so any API instance
 * accepts them; logout and revocation are a deny-list of token ids kept until the token would expire anyway.
 */
import crypto from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Clock } from '../shared/clock';
import { TokenInvalid } from '../shared/errors';

export interface TokenClaims {
  userId: string;
  certSerial: string | null;
  tokenId: string;
  expiresAt: Date;
  /** when the user proved who it is (certificate or password); a renewed token keeps it */
  authenticatedAt: Date;
}

const ISSUER = 'gz-platform';

export class TokenSigner {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  async issue(userId: string, certSerial: string | null, authenticatedAt?: Date): Promise<{ token: string; claims: TokenClaims }> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const tokenId = crypto.randomUUID();
    const exp = now + this.ttlSeconds;
    const at = authenticatedAt ? Math.floor(authenticatedAt.getTime() / 1000) : now;
    const token = await new SignJWT({ cs: certSerial, at })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject(userId)
      .setJti(tokenId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.secret);
    return { token, claims: { userId, certSerial, tokenId, expiresAt: new Date(exp * 1000), authenticatedAt: new Date(at * 1000) } };
  }

  /** Checks signature and expiry against platform time; anything wrong is the same TOKEN_INVALID. */
  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        currentDate: this.clock.now(),
      });
      if (!payload.sub || !payload.jti || !payload.exp) throw new Error('incomplete token');
      return {
        userId: payload.sub,
        certSerial: typeof payload.cs === 'string' ? payload.cs : null,
        tokenId: payload.jti,
        expiresAt: new Date(payload.exp * 1000),
        authenticatedAt: new Date((typeof payload.at === 'number' ? payload.at : (payload.iat ?? 0)) * 1000),
      };
    } catch {
      throw TokenInvalid();
    }
  }
}
