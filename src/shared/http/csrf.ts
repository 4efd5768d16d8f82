/**
 * Cross-site request refusal. The pages keep their bearer token in sessionStorage and send it in the Authorization
 * header, never in a cookie, so a form another site submits carries no credential. This is the second lock on that
 * door: a state-changing request a browser marks as coming from another site is refused before anything reads it,
 * should a credential ever ride along implicitly (a future cookie, a proxy adding auth, an unauthenticated route such
 * as enrolment or login being driven from a hostile page). Browsers always send `Origin` on cross-origin POSTs and
 * `Sec-Fetch-Site` on every request; clients that are not browsers (bidtool, the bank's notifications,
 * server-to-server calls) send neither and pass.
 */
import type { NextFunction, Request, Response } from 'express';
import { createError } from '../errors';

export const CsrfRejected = createError(
  'CSRF_REJECTED',
  403,
  '跨站请求已拒绝，请从本平台页面操作 (cross-site request refused)',
);

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `publicOrigin`: the platform's address as browsers see it (behind a proxy the Host header may differ). */
export function csrfGuard(opts: { publicOrigin?: string } = {}) {
  const configured = opts.publicOrigin ? new URL(opts.publicOrigin).origin : null;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE.has(req.method)) return next();
    if (req.get('sec-fetch-site') === 'cross-site') return next(CsrfRejected({}, { reason: 'sec-fetch-site' }));
    const origin = req.get('origin');
    if (origin === undefined) return next();
    if (configured !== null && origin === configured) return next();
    let host: string | null = null;
    try {
      // "null" (sandboxed frames, file: pages) and anything unparsable are not the platform
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host !== null && host === req.get('host')) return next();
    next(CsrfRejected({}, { reason: 'origin' }));
  };
}
