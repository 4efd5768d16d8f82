/**
 * Rate limits on the doors an attacker hammers: login (per client address and per account name) and bid uploads
 * (per bidder). Limits are loose per address, since on a deadline morning many bidders reach the platform through
 * one provincial NAT address, and tight per account, which is what a password or certificate guesser must reuse.
 * Repeated login failures also feed a monitoring rule (the audit chain); this only keeps the server standing.
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { createError } from '../errors';
import type { Logger } from '../logger';
import { actionContextOf } from './request-context';
import type { RateLimitStore } from './rate-limit-store';

export const RateLimited = createError<{ retryAfterSeconds: number }>(
  'RATE_LIMITED',
  429,
  (p) => `请求过于频繁，请 ${p.retryAfterSeconds ?? 60} 秒后再试 (too many requests; retry after ${p.retryAfterSeconds ?? 60} s)`,
);

export interface RateLimits {
  windowSeconds: number;
  loginPerAddress: number;
  loginPerAccount: number;
  uploadPerBidder: number;
}

interface Counter {
  key: string;
  limit: number;
}

const LOGIN = /^\/auth\/(challenge|certificate-login|password-login)$/;
const UPLOAD_START = /^\/tenders\/[^/]+\/sections\/[^/]+\/bid-uploads$/;
const UPLOAD_PATCH = /^\/bid-uploads\/[^/]+$/;

/** Keys hold digests, never what was typed: an account name or certificate is not for Redis's keyspace. */
const digest = (text: string) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 32);

/** The account a login names: the user name, or the certificate's serial (any PEM spelling of it is one account). */
function accountOf(path: string, body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (path === '/auth/password-login' && typeof b.username === 'string') return `user:${b.username.trim().toLowerCase()}`;
  if (path === '/auth/certificate-login' && typeof b.certificatePem === 'string') {
    try {
      return `cert:${new crypto.X509Certificate(b.certificatePem).serialNumber.toLowerCase()}`;
    } catch {
      return `pem:${b.certificatePem.replace(/\s+/g, '')}`;
    }
  }
  return null;
}

function countersFor(req: Request, limits: RateLimits): Counter[] {
  if (req.method === 'POST' && LOGIN.test(req.path)) {
    const counters: Counter[] = [{ key: `login:addr:${digest(req.ip ?? 'unknown')}`, limit: limits.loginPerAddress }];
    const account = accountOf(req.path, req.body);
    if (account) counters.push({ key: `login:acct:${digest(account)}`, limit: limits.loginPerAccount });
    return counters;
  }
  if ((req.method === 'POST' && UPLOAD_START.test(req.path)) || (req.method === 'PATCH' && UPLOAD_PATCH.test(req.path))) {
    const actor = actionContextOf(req).actor;
    // anonymous or another role: the route's gate refuses it anyway
    if (actor?.orgType === 'bidder') return [{ key: `upload:org:${actor.orgId}`, limit: limits.uploadPerBidder }];
  }
  return [];
}

/**
 * Mounted after authentication (uploads count per bidder organisation) and body parsing (logins count per account).
 * If the counter store fails (Redis down) the request passes: an outage of the limiter must not lock everyone out.
 */
export function rateLimit(store: RateLimitStore, limits: RateLimits, logger?: Logger) {
  const windowMs = limits.windowSeconds * 1000;
  return async (req: Request, res: Response, next: NextFunction) => {
    const counters = countersFor(req, limits);
    if (counters.length === 0) return next();
    let refusedFor = 0;
    try {
      for (const c of counters) {
        const hit = await store.hit(c.key, windowMs);
        if (hit.count > c.limit) refusedFor = Math.max(refusedFor, hit.resetMs);
      }
    } catch (err) {
      logger?.warn({ err }, 'rate limit store unavailable; request passed unlimited');
      return next();
    }
    if (refusedFor === 0) return next();
    const retryAfterSeconds = Math.max(1, Math.ceil(refusedFor / 1000));
    res.setHeader('Retry-After', String(retryAfterSeconds));
    next(RateLimited({ retryAfterSeconds }));
  };
}
