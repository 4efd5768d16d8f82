/**
 * Keeps a signed-in tab signed in: a login token lives minutes (TOKEN_TTL_SECONDS), an opening an hour or more.
 * Past half its life the token is swapped for a fresh one (POST /auth/renew), until the platform says the session
 * itself is too old (SESSION_MAX_HOURS) — then the user signs in again with its certificate.
 */
import { currentSession, saveSession, type Session } from './session';

let inflight: Promise<void> | null = null;
let timer: ReturnType<typeof setInterval> | null = null;

export function renewNow(): Promise<void> {
  inflight ??= (async () => {
    const s = currentSession();
    if (!s) return;
    try {
      const res = await fetch('/api/v1/auth/renew', { method: 'POST', headers: { Authorization: `Bearer ${s.token}`, Accept: 'application/json' } });
      // refused (too old, revoked): the token runs out and the page offers the login then
      if (res.ok) saveSession({ ...s, ...((await res.json()) as Partial<Session>) } as Session);
    } catch {
      /* offline for now: the next answer or tick tries again */
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/** The platform said how long the token has left (X-Token-Expires-In, by its clock). */
export function considerRenewal(expiresInSeconds: number): void {
  const s = currentSession();
  if (s && expiresInSeconds <= (s.lifetimeSeconds ?? 900) / 2) void renewNow();
}

/** Also renews by this tab's own elapsed time, for a page that only listens (the hall during a long window). */
export function keepSessionAlive(): void {
  if (timer) return;
  timer = setInterval(() => {
    const s = currentSession();
    if (s?.obtainedAt && Date.now() - s.obtainedAt >= ((s.lifetimeSeconds ?? 900) * 1000) / 2) void renewNow();
  }, 15_000);
}
