/**
 * The trading centre's staff acting on a tender while its bids are sealed (published, before the opening reads them
 * out), outside working hours in Asia/Shanghai: evenings, nights, weekends and holidays by the published calendar.
 * Staff have no business with a sealed tender at night; what they touch then is worth a supervisor's look (EB 49: the
 * platform records each operation's time and operator; opening a bid early and leaking it is collusion, TLR 41). Only
 * staff are watched: agencies work late before deadlines as a matter of course.
 */
import type { StoredAuditEvent } from '../audit.repository';
import { DAY_MS, MINUTE_MS } from '../../shared/clock';
import { SHANGHAI_OFFSET_MS, formatShanghai, shanghaiDate } from '../../shared/time';
import { activityRepository } from './activity.repository';
import { OPENED_STATES } from './history.repository';
import { defineRule, type Finding } from './rule';

/** What staff may be seen doing to a tender; the rule keeps the operators' own. */
export const TENDER_ACTIONS = [
  'tender.update',
  'tender.clarify',
  'tender.document.upload',
  'tender.document.download',
  'tender.terminate',
  'deposit.payers.view',
  'bid.upload.start',
  'bid.submit',
  'bid.withdraw',
  'custody.share.fetch',
  'custody.share.release',
  'custody.early-access',
  'opening.early-key',
  'opening.sign-in',
  'opening.key-received',
] as const;

/** Touching the bids, the keys and their custody, or who is bidding: high rather than a warning. */
export function touchesBids(action: string): boolean {
  return action.startsWith('bid.') || action.startsWith('custody.') || action.startsWith('opening.') || action === 'deposit.payers.view';
}

/** Minutes since midnight, Shanghai time. */
function shanghaiMinute(at: Date): number {
  return Math.floor((((at.getTime() + SHANGHAI_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / MINUTE_MS);
}

const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

export default defineRule({
  id: 'staff-off-hours',
  basis: '《电子招标投标办法》第四十九条（记录操作时间、网络地址和操作人员）；开标前任何人不得接触投标文件 (EB 49; EB 27; TLR 41)',
  description: '非工作时间（晚间、周末、节假日）平台工作人员对开标前（投标文件密封期间）的项目进行操作',
  // 08:30 to 18:00 on working days
  defaults: { startMinute: 510, endMinute: 1080 },
  watches: TENDER_ACTIONS,
  async onEvents(events, env, th) {
    const staff = events.filter((e) => e.actorOrgType === 'operator' && e.tenderId && e.actorOrgId);
    if (staff.length === 0) return [];
    const spans = await activityRepository.sealedSpans(env.db, [...new Set(staff.map((e) => e.tenderId!))], [...OPENED_STATES, 'failed']);
    const workingDays = new Map<string, boolean>();
    const byKey = new Map<string, { severity: 'high' | 'warning'; events: StoredAuditEvent[] }>();
    for (const e of staff) {
      const span = spans.get(e.tenderId!);
      if (!span || e.seq <= span.from || (span.until !== null && e.seq >= span.until)) continue;
      const date = shanghaiDate(e.occurredAt);
      if (!workingDays.has(date)) workingDays.set(date, await env.isWorkingDay(date));
      const minute = shanghaiMinute(e.occurredAt);
      if (workingDays.get(date) && minute >= th.startMinute && minute < th.endMinute) continue;
      const severity = touchesBids(e.action) ? 'high' : 'warning';
      // one alert per staff member, tender, day and gravity: a night's session is one alert, a reach for the bids later
      // that night another
      const key = `${e.tenderId}:${e.actorUserId}:${date}:${severity}`;
      const group = byKey.get(key) ?? { severity, events: [] };
      group.events.push(e);
      byKey.set(key, group);
    }
    const findings: Finding[] = [];
    for (const [key, { severity, events: matched }] of byKey) {
      const first = matched[0]!;
      const offDay = !workingDays.get(shanghaiDate(first.occurredAt));
      findings.push({
        key,
        severity,
        title: `平台工作人员于非工作时间（${formatShanghai(first.occurredAt)}${offDay ? '，非工作日' : ''}）操作密封期间的项目：${[...new Set(matched.map((e) => e.action))].join('、')}`,
        tenderId: first.tenderId,
        orgIds: [first.actorOrgId!],
        auditSeqs: matched.map((e) => e.seq),
        fields: {
          userId: first.actorUserId,
          workingHours: `${hhmm(th.startMinute)}–${hhmm(th.endMinute)}`,
          workingDay: !offDay,
          actions: matched.map((e) => ({ seq: e.seq, action: e.action, at: e.occurredAt.toISOString(), clientIp: e.clientIp })),
        },
      });
    }
    return findings;
  },
});
