/**
 * Who is acting, and from where. Services take an ActionContext as their first argument and check it first
 * (authorization is the first line of a service method); the audit chain records both halves.
 */
import { Forbidden, Unauthenticated } from './errors';

export const ORG_TYPES = ['bidder', 'tenderer', 'agency', 'regulator', 'operator'] as const;
export type OrgType = (typeof ORG_TYPES)[number];
export const USER_ROLES = ['admin', 'staff'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface Actor {
  userId: string;
  orgId: string;
  orgType: OrgType;
  role: UserRole;
  /** Serial of the certificate used to log in; null for an operator's password login. */
  certSerial: string | null;
  tokenId: string;
  /** When the login token ends; a long-lived stream (the hall's SSE) ends with it. Absent for CLI actors. */
  tokenExpiresAt?: Date;
  /** When the user proved who it is (the login a token, and its renewals, go back to). Absent for CLI actors. */
  authenticatedAt?: Date;
}

export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /** Device fingerprint / machine code (机器码) a client tool may send in `X-Device-Fingerprint`. */
  deviceFingerprint: string | null;
}

export interface ActionContext {
  actor: Actor | null;
  meta: RequestMeta;
}

/** For work the platform does by itself (jobs, start-up, CLIs). */
export function systemContext(requestId = 'system'): ActionContext {
  return { actor: null, meta: { requestId, ip: null, userAgent: null, deviceFingerprint: null } };
}

export function requireActor(ctx: ActionContext, ...orgTypes: OrgType[]): Actor {
  if (!ctx.actor) throw Unauthenticated();
  if (orgTypes.length && !orgTypes.includes(ctx.actor.orgType)) throw Forbidden();
  return ctx.actor;
}

export function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw Forbidden({}, { reason: 'organisation admin only' });
}

/** Regulators and the trading centre's operators see every tender; others see what concerns their organisation. */
export function seesEverything(actor: Actor): boolean {
  return actor.orgType === 'regulator' || actor.orgType === 'operator';
}
