/**
 * The trading centre's own staff reading a tender's deposit payer list while the bids are sealed. Who paid a deposit
 * is who is bidding, and that is nobody's business until the opening (TL 22; the payer list stays sealed until the
 * prices are read). Before the opening the list shows counts only, but staff reaching for it then is still a signal
 * for the supervisors: the deposits service records each such read as `deposit.payers.view` (the agency's, the
 * tenderer's and the supervisors' own reads of the counts are routine and not recorded).
 */
import type { StoredAuditEvent } from '../audit.repository';
import { formatShanghai, shanghaiDate } from '../../shared/time';
import { defineRule, type Finding } from './rule';

export default defineRule({
  id: 'payer-list-early',
  basis: '《招标投标法》第二十二条：不得向他人透露潜在投标人的名称、数量；开标前保证金缴纳名单保密 (TL 22)',
  description: '开标前平台工作人员查看投标保证金缴纳名单（缴纳保证金者即投标人）',
  defaults: {},
  watches: ['deposit.payers.view'],
  async onEvents(events) {
    // one alert per staff member, tender and day: reading again the same day adds its event to nothing new
    const byKey = new Map<string, StoredAuditEvent[]>();
    for (const e of events) {
      if (e.actorOrgType !== 'operator' || e.payload?.sealed !== true || !e.tenderId || !e.actorOrgId) continue;
      const key = `${e.tenderId}:${e.actorUserId}:${shanghaiDate(e.occurredAt)}`;
      byKey.set(key, [...(byKey.get(key) ?? []), e]);
    }
    const findings: Finding[] = [];
    for (const [key, matched] of byKey) {
      const first = matched[0]!;
      findings.push({
        key,
        severity: 'high',
        title: `开标前平台工作人员查看投标保证金缴纳名单（${formatShanghai(first.occurredAt)}）`,
        tenderId: first.tenderId,
        orgIds: [first.actorOrgId!],
        auditSeqs: matched.map((e) => e.seq),
        fields: {
          userId: first.actorUserId,
          views: matched.map((e) => ({ seq: e.seq, at: e.occurredAt.toISOString(), openingState: e.payload?.openingState ?? null, clientIp: e.clientIp })),
        },
      });
    }
    return findings;
  },
});
