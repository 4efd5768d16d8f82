/**
 * The signed-in user of this tab. The token lives in sessionStorage: it dies with the tab, is never sent by the
 * browser on its own (no cookie, so no CSRF), and the private key that earned it never leaves the login page.
 */
export type OrgType = 'operator' | 'agency' | 'tenderer' | 'bidder' | 'regulator';

/** The kinds of organisation as people name them. */
export const ORG_TYPE_LABELS: Record<string, string> = {
  bidder: '投标人',
  agency: '招标代理机构',
  tenderer: '招标人',
  operator: '交易中心',
  regulator: '行政监督部门',
};

export interface Session {
  token: string;
  expiresAt: string;
  user: { id: string; username: string; displayName?: string; role: string };
  organisation: { id: string; name: string; type: OrgType };
  /** the token's lifetime (its exp − iat), and when this tab got it by its own clock: when to renew */
  lifetimeSeconds?: number;
  obtainedAt?: number;
}

const KEY = 'gz.session';

export function currentSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    // not checked against this computer's clock, which may be wrong: the platform's 401 ends a session
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

/** exp − iat of a JWT, read without checking it (the platform checks; the page only plans the renewal). */
function lifetimeOf(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number; iat?: number };
    return payload.exp && payload.iat ? payload.exp - payload.iat : 900;
  } catch {
    return 900;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify({ ...s, lifetimeSeconds: lifetimeOf(s.token), obtainedAt: Date.now() }));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Where each kind of organisation starts. */
export function homeOf(type: OrgType): string {
  switch (type) {
    case 'bidder':
      return '/bidder';
    case 'regulator':
      return '/regulator';
    default:
      return '/agency';
  }
}

/** The login page, coming back here afterwards. */
export function loginUrl(): string {
  return `/?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** The session, or off to the login page (returns null then). */
export function requireSession(types?: OrgType[]): Session | null {
  const s = currentSession();
  if (!s) {
    location.assign(loginUrl());
    return null;
  }
  if (types && !types.includes(s.organisation.type)) {
    location.assign(homeOf(s.organisation.type));
    return null;
  }
  return s;
}
