import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ActionContext, Actor } from '../access';
import { TokenInvalid } from '../errors';

const contexts = new WeakMap<Request, ActionContext>();

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

function header(req: Request, name: string, max = 512): string | null {
  const v = req.get(name);
  return v ? v.slice(0, max) : null;
}

/** Gives each request an id (kept from `X-Request-Id` if well-formed) and records where it came from. */
export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.get('x-request-id');
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  res.setHeader('X-Request-Id', requestId);
  contexts.set(req, {
    actor: null,
    meta: {
      requestId,
      ip: req.ip ?? null,
      userAgent: header(req, 'user-agent'),
      deviceFingerprint: header(req, 'x-device-fingerprint', 256),
    },
  });
  next();
}

export function actionContextOf(req: Request): ActionContext {
  const ctx = contexts.get(req);
  if (!ctx) throw new Error('requestContext middleware is not mounted');
  return ctx;
}

export type TokenVerifier = (token: string) => Promise<Actor>;

/**
 * Reads `Authorization: Bearer …`. No header: anonymous (routes decide). A bad token: 401, never anonymous.
 * Answers say how long the token has left on the platform's clock (`X-Token-Expires-In`, seconds), so a page
 * renews it in time whatever its own computer's clock says.
 */
export function authenticate(verify: TokenVerifier, now: () => Date) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const auth = req.get('authorization');
    if (!auth) return next();
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(auth);
    if (!match) return next(TokenInvalid());
    try {
      const actor = await verify(match[1]);
      actionContextOf(req).actor = actor;
      if (actor.tokenExpiresAt) {
        res.setHeader('X-Token-Expires-In', String(Math.max(0, Math.floor((actor.tokenExpiresAt.getTime() - now().getTime()) / 1000))));
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
