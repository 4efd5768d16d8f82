/**
 * The same bid-making tool installation (投标工具序列号), the same author (编制人) or the same machine code (机器码) in
 * the bids of different bidders of one tender: bids compiled by the same unit or person are deemed collusion
 * (TLR 40(1)); local rules name exactly these electronic traces (domain-rules.md "Collusion"). Read from the
 * manifests once the bids are decrypted; the values are the bid files' own, public once the bids are opened.
 */
import { bidsEvidenceRepository, type OpenedBid } from './bids-evidence.repository';
import { defineRule, setKey, type Finding } from './rule';

interface Trace {
  field: 'toolSerial' | 'author' | 'machineFingerprint';
  /** The title after "n家投标人的投标文件". */
  title: string;
  of(bid: OpenedBid): string | null;
}

const TRACES: Trace[] = [
  { field: 'toolSerial', title: '由同一投标工具编制（序列号相同）', of: (b) => b.manifest.tool?.serial?.trim() || null },
  // authors are compared as written, folded for case and spacing: "Zhang San" and "zhang  san" are one person
  { field: 'author', title: '编制人相同', of: (b) => b.manifest.author?.trim().replace(/\s+/g, ' ').toLowerCase() || null },
  { field: 'machineFingerprint', title: '在同一台电脑上编制（机器码相同）', of: (b) => b.manifest.machineFingerprint || null },
];

/** Bids grouped by a value, keeping the groups that span at least `minBidders` bidders. */
export function sharedValues(bids: OpenedBid[], of: (b: OpenedBid) => string | null, minBidders: number): Array<{ value: string; bids: OpenedBid[]; orgIds: string[] }> {
  const byValue = new Map<string, OpenedBid[]>();
  for (const b of bids) {
    const v = of(b);
    if (v) byValue.set(v, [...(byValue.get(v) ?? []), b]);
  }
  return [...byValue]
    .map(([value, matched]) => ({ value, bids: matched, orgIds: [...new Set(matched.map((b) => b.bidderOrgId))].sort() }))
    .filter((g) => g.orgIds.length >= minBidders);
}

export default defineRule({
  id: 'same-bid-tool',
  basis: '《招标投标法实施条例》第四十条第（一）项：不同投标人的投标文件由同一单位或者个人编制（同一投标工具序列号、编制人或机器码） (TLR 40(1))',
  description: '同一项目中不同投标人的投标文件出自同一投标工具（序列号）、同一编制人或同一台电脑（机器码）',
  defaults: { minBidders: 2 },
  async onOpened(tenderId, env, th) {
    const bids = await bidsEvidenceRepository.openedBids(env.db, tenderId);
    const findings: Finding[] = [];
    for (const trace of TRACES) {
      for (const g of sharedValues(bids, trace.of, th.minBidders)) {
        findings.push({
          key: `${tenderId}:${trace.field}:${g.value}:${setKey(g.orgIds)}`,
          severity: 'high',
          title: `${g.orgIds.length}家投标人的投标文件${trace.title}`,
          tenderId,
          orgIds: g.orgIds,
          auditSeqs: g.bids.map((b) => b.decryptedSeq).filter((s): s is number => s !== null),
          fields: {
            [trace.field]: g.value,
            ...(trace.field === 'author' ? { authorsAsWritten: [...new Set(g.bids.map((b) => b.manifest.author))].sort() } : {}),
            bids: g.bids.map((b) => ({ bidId: b.bidId, orgId: b.bidderOrgId, sectionId: b.sectionId })),
          },
        });
      }
    }
    return findings;
  },
});
