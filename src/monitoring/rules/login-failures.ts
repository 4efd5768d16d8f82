/**
 * Bursts of refused sign-ins and enrolments: guessing one account's password or enrolment code, a certificate that
 * does not match (someone else's, revoked, forged), or one address trying many accounts (password spraying). The
 * platform records every refusal (EB 49; auth.service.ts, certificates.service.ts); this rule reads them.
 *
 * A burst is a run of failures with no quiet gap of `windowMinutes` between them, counted when some window of that
 * length inside it holds the threshold. Its key is the run's first failure, so a long attack is one alert per burst,
 * not one per failure; a pause longer than the window starts a new burst.
 */
import type { StoredAuditEvent } from '../audit.repository';
import { MINUTE_MS, HOUR_MS } from '../../shared/clock';
import { formatShanghai } from '../../shared/time';
import { activityRepository } from './activity.repository';
import { accountsRepository, type AccountOwner } from './accounts.repository';
import { isOwnHost } from './shared-address';
import { defineRule, type Finding } from './rule';

export const FAILURE_ACTIONS = ['auth.login.refused', 'certificate.enrol.refused'] as const;

/** How far back a burst's start is looked for; an attack running longer than this without pause is alerted again. */
const LOOKBACK_MS = 24 * HOUR_MS;

/** The account an attempt names: the certificate's serial, else the username typed. */
function accountOf(e: StoredAuditEvent): string | null {
  const serial = e.payload?.certSerial;
  if (typeof serial === 'string' && serial) return `cert:${serial}`;
  const username = e.payload?.username;
  if (typeof username === 'string' && username) return `user:${username}`;
  return null;
}

function addressOf(e: StoredAuditEvent): string | null {
  return e.clientIp && !isOwnHost(e.clientIp) ? e.clientIp.replace(/^::ffff:/, '') : null;
}

/** Splits time-ordered failures into runs separated by quiet gaps of at least `gapMs`. */
function runs(events: StoredAuditEvent[], gapMs: number): StoredAuditEvent[][] {
  const out: StoredAuditEvent[][] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && e.occurredAt.getTime() - last[last.length - 1]!.occurredAt.getTime() < gapMs) last.push(e);
    else out.push([e]);
  }
  return out;
}

/** The densest window of `windowMs` in a run: its failures (most of them, earliest first). */
function densest(run: StoredAuditEvent[], windowMs: number): StoredAuditEvent[] {
  let best: StoredAuditEvent[] = [];
  let i = 0;
  for (let j = 0; j < run.length; j++) {
    while (run[j]!.occurredAt.getTime() - run[i]!.occurredAt.getTime() > windowMs) i++;
    if (j - i + 1 > best.length) best = run.slice(i, j + 1);
  }
  return best;
}

export default defineRule({
  id: 'login-failures',
  basis: '《电子招标投标办法》第四十九条（记录每一操作及其网络地址）；账户、证书的异常登录 (EB 49)',
  description: '短时间内同一账户或证书多次登录、领证失败，或同一地址对多个账户登录失败（口令猜测、撞库、证书不符）',
  defaults: { perAccount: 5, windowMinutes: 10, perAddress: 10, addressAccounts: 3 },
  watches: FAILURE_ACTIONS,
  async onEvents(events, env, th) {
    const windowMs = th.windowMinutes * MINUTE_MS;
    const accounts = [...new Set(events.map(accountOf).filter((a): a is string => !!a))];
    const ips = [...new Set(events.map(addressOf).filter((a): a is string => !!a))];
    const times = events.map((e) => e.occurredAt.getTime());
    const history = await activityRepository.loginFailures(
      env.db,
      FAILURE_ACTIONS,
      { since: new Date(Math.min(...times) - LOOKBACK_MS), until: new Date(Math.max(...times)) },
      {
        usernames: accounts.filter((a) => a.startsWith('user:')).map((a) => a.slice(5)),
        serials: accounts.filter((a) => a.startsWith('cert:')).map((a) => a.slice(5)),
        ips: [...ips, ...ips.map((ip) => `::ffff:${ip}`)],
      },
    );
    // the owners of every account named in the window, those tried from an address included
    const named = [...new Set(history.map(accountOf).filter((a): a is string => !!a))];
    const owners = await accountsRepository.owners(env.db, {
      usernames: named.filter((a) => a.startsWith('user:')).map((a) => a.slice(5)),
      serials: named.filter((a) => a.startsWith('cert:')).map((a) => a.slice(5)),
    });
    const ownerOf = (account: string): AccountOwner | undefined =>
      account.startsWith('cert:') ? owners.bySerial.get(account.slice(5)) : owners.byUsername.get(account.slice(5));
    const findings: Finding[] = [];

    for (const account of accounts) {
      const mine = history.filter((e) => accountOf(e) === account);
      for (const run of runs(mine, windowMs)) {
        const burst = densest(run, windowMs);
        if (burst.length < th.perAccount) continue;
        const owner = ownerOf(account);
        const sensitive = owner && (owner.orgType === 'operator' || owner.custodian);
        const label = account.startsWith('cert:') ? `证书 ${account.slice(5)}` : `账户 ${account.slice(5)}`;
        findings.push({
          key: `account:${account}:${run[0]!.seq}`,
          severity: sensitive ? 'high' : 'warning',
          title: `${label}在${th.windowMinutes}分钟内登录失败${burst.length}次（${formatShanghai(burst[0]!.occurredAt)}起）${sensitive ? '，该账户属平台工作人员或密钥保管人' : ''}`,
          tenderId: null,
          orgIds: owner ? [owner.orgId] : [],
          auditSeqs: run.map((e) => e.seq),
          fields: {
            account: account.slice(5),
            kind: account.startsWith('cert:') ? 'certificate' : 'username',
            failures: run.length,
            inWindow: burst.length,
            from: run[0]!.occurredAt.toISOString(),
            to: run[run.length - 1]!.occurredAt.toISOString(),
            codes: [...new Set(run.map((e) => e.payload?.code))],
            addresses: [...new Set(run.map(addressOf).filter(Boolean))],
            ownerOrgType: owner?.orgType ?? null,
            custodian: owner?.custodian ?? false,
          },
        });
      }
    }

    for (const ip of ips) {
      const fromIp = history.filter((e) => addressOf(e) === ip);
      for (const run of runs(fromIp, windowMs)) {
        const burst = densest(run, windowMs);
        const tried = [...new Set(burst.map(accountOf).filter((a): a is string => !!a))];
        if (burst.length < th.perAddress || tried.length < th.addressAccounts) continue;
        const sensitiveOwners = tried.map(ownerOf).filter((o): o is AccountOwner => !!o && (o.orgType === 'operator' || o.custodian));
        findings.push({
          key: `address:${ip}:${run[0]!.seq}`,
          severity: sensitiveOwners.length > 0 ? 'high' : 'warning',
          title: `同一地址 ${ip} 在${th.windowMinutes}分钟内对${tried.length}个账户登录失败${burst.length}次（${formatShanghai(burst[0]!.occurredAt)}起）`,
          tenderId: null,
          orgIds: [...new Set(tried.map(ownerOf).filter((o): o is AccountOwner => !!o).map((o) => o.orgId))],
          auditSeqs: run.map((e) => e.seq),
          fields: {
            clientIp: ip,
            failures: run.length,
            inWindow: burst.length,
            accounts: tried.map((a) => a.slice(5)),
            from: run[0]!.occurredAt.toISOString(),
            to: run[run.length - 1]!.occurredAt.toISOString(),
          },
        });
      }
    }
    return findings;
  },
});
