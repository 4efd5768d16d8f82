/**
 * Different bidders in one tender working from the same network address or the same device (设备指纹/机器码): local
 * rules treat the same IP, MAC or machine code as evidence of bids compiled or submitted by the same unit or person
 * (TLR 40(1)(2); domain-rules.md "Collusion"). Looked at over what bidders do in a tender: downloading its documents,
 * uploading bids, signing in to the opening, handing over the key to decrypt.
 */
import type { StoredAuditEvent } from '../audit.repository';
import { activityRepository } from './activity.repository';
import { defineRule, setKey, type Finding } from './rule';

export const BIDDER_ACTIONS = ['tender.document.download', 'bid.upload.start', 'bid.submit', 'opening.sign-in', 'opening.key-received'] as const;

const STEP_LABELS: Record<string, string> = {
  'tender.document.download': '下载招标文件',
  'bid.upload.start': '上传投标文件',
  'bid.submit': '递交投标文件',
  'opening.sign-in': '开标签到',
  'opening.key-received': '解密',
};

/**
 * The platform's own host (loopback, unspecified): a request that reaches the platform from there names no bidder's
 * network (a tool on the server itself, or a reverse proxy whose forwarded address is not trusted — see TRUST_PROXY).
 */
export function isOwnHost(ip: string): boolean {
  const a = ip.replace(/^::ffff:/, '');
  return a === '::1' || a === '::' || a === '0.0.0.0' || a.startsWith('127.');
}

type Dimension = { name: 'ip' | 'device'; label: string; of(e: StoredAuditEvent): string | null };

const DIMENSIONS: Dimension[] = [
  { name: 'ip', label: '同一IP地址', of: (e) => (e.clientIp && !isOwnHost(e.clientIp) ? e.clientIp.replace(/^::ffff:/, '') : null) },
  { name: 'device', label: '同一设备指纹', of: (e) => e.deviceFingerprint },
];

export default defineRule({
  id: 'shared-address',
  basis: '《招标投标法实施条例》第四十条第（一）（二）项；同一IP、MAC地址或机器码视为同一单位或个人编制、递交 (TLR 40(1)(2))',
  description: '同一项目中不同投标人使用同一IP地址或同一设备（下载招标文件、上传、开标签到、解密）',
  defaults: { minBidders: 2 },
  watches: BIDDER_ACTIONS,
  async onEvents(events, env, th) {
    const tenderIds = [...new Set(events.map((e) => e.tenderId).filter((id): id is string => !!id))];
    const all = await activityRepository.ofTenders(env.db, tenderIds, BIDDER_ACTIONS, 'bidder');
    const findings: Finding[] = [];
    for (const tenderId of tenderIds) {
      const ofTender = all.filter((e) => e.tenderId === tenderId && e.actorOrgId);
      for (const dim of DIMENSIONS) {
        const byValue = new Map<string, StoredAuditEvent[]>();
        for (const e of ofTender) {
          const v = dim.of(e);
          if (!v) continue;
          byValue.set(v, [...(byValue.get(v) ?? []), e]);
        }
        for (const [value, matched] of byValue) {
          const orgIds = [...new Set(matched.map((e) => e.actorOrgId!))].sort();
          if (orgIds.length < th.minBidders) continue;
          findings.push({
            key: `${tenderId}:${dim.name}:${value}:${setKey(orgIds)}`,
            severity: 'high',
            title: `${orgIds.length}家投标人使用${dim.label}（${[...new Set(matched.map((e) => STEP_LABELS[e.action]))].join('、')}）`,
            tenderId,
            orgIds,
            auditSeqs: matched.map((e) => e.seq),
            fields: {
              [dim.name === 'ip' ? 'clientIp' : 'deviceFingerprint']: value,
              steps: matched.map((e) => ({ seq: e.seq, action: e.action, orgId: e.actorOrgId, at: e.occurredAt.toISOString() })),
            },
          });
        }
      }
    }
    return findings;
  },
});
