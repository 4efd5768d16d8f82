/**
 * The same person named as project manager (项目负责人) in the bids of different bidders: deemed collusion
 * (TLR 40(3)). A person is their resident ID number (GB 11643): two bids naming the same name with different ID
 * numbers are two namesakes, not a finding. The ID number is personal data: the alert shows it masked and keys on
 * its hash. (Contact persons, GP87 37, are not compared: the bid manifest carries none.)
 */
import { createHash } from 'node:crypto';
import { bidsEvidenceRepository } from './bids-evidence.repository';
import { defineRule, setKey, type Finding } from './rule';
import { sharedValues } from './same-bid-tool';

/** 610103********1234: the region and the last four, as on a printed form. */
export function maskIdNumber(id: string): string {
  return id.length > 10 ? `${id.slice(0, 6)}${'*'.repeat(id.length - 10)}${id.slice(-4)}` : '*'.repeat(id.length);
}

export default defineRule({
  id: 'same-project-manager',
  basis: '《招标投标法实施条例》第四十条第（三）项：不同投标人的投标文件载明的项目管理成员为同一人 (TLR 40(3))',
  description: '同一项目中不同投标人的投标文件载明同一项目负责人（按身份证号码）',
  defaults: { minBidders: 2 },
  async onOpened(tenderId, env, th) {
    const bids = await bidsEvidenceRepository.openedBids(env.db, tenderId);
    const findings: Finding[] = [];
    const idOf = (b: (typeof bids)[number]) => b.manifest.form?.projectManager?.idNumber?.toUpperCase() || null;
    for (const g of sharedValues(bids, idOf, th.minBidders)) {
      const idHash = createHash('sha256').update(g.value).digest('hex').slice(0, 16);
      findings.push({
        key: `${tenderId}:project-manager:${idHash}:${setKey(g.orgIds)}`,
        severity: 'high',
        title: `${g.orgIds.length}家投标人载明同一项目负责人`,
        tenderId,
        orgIds: g.orgIds,
        auditSeqs: g.bids.map((b) => b.decryptedSeq).filter((s): s is number => s !== null),
        fields: {
          projectManager: { names: [...new Set(g.bids.map((b) => b.manifest.form.projectManager.name))].sort(), idNumberMasked: maskIdNumber(g.value) },
          bids: g.bids.map((b) => ({ bidId: b.bidId, orgId: b.bidderOrgId, sectionId: b.sectionId })),
        },
      });
    }
    return findings;
  },
});
