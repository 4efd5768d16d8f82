/**
 * The same person named as project manager (项目负责人) in the bids of different bidders: deemed collusion
 * (TLR 40(3)); and the same contact person (联系人), in government procurement (GP87 37). A project manager is their
 * resident ID number (GB 11643): two bids naming the same name with different ID numbers are two namesakes, not a
 * finding. A contact is their phone number, by its digits (a name alone is too common to mean one person). Both are
 * personal data: the alert shows them masked and keys on their hash.
 */
import { createHash } from 'node:crypto';
import { maskIdNumber } from '../../../crypto/package';
import { bidsEvidenceRepository } from './bids-evidence.repository';
import { defineRule, setKey, type Finding } from './rule';
import { sharedValues } from './same-bid-tool';

/** 138****5678: the first three and the last four digits. */
export function maskPhone(digits: string): string {
  return digits.length > 7 ? `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}` : '*'.repeat(digits.length);
}

const hashOf = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

export default defineRule({
  id: 'same-project-manager',
  basis: '《招标投标法实施条例》第四十条第（三）项：不同投标人的投标文件载明的项目管理成员为同一人；《政府采购货物和服务招标投标管理办法》第三十七条：联系人为同一人 (TLR 40(3); GP87 37)',
  description: '同一项目中不同投标人的投标文件载明同一项目负责人（按身份证号码）或同一联系人（按联系电话）',
  defaults: { minBidders: 2 },
  async onOpened(tenderId, env, th) {
    const bids = await bidsEvidenceRepository.openedBids(env.db, tenderId);
    const findings: Finding[] = [];
    const idOf = (b: (typeof bids)[number]) => b.manifest.form?.projectManager?.idNumber?.toUpperCase() || null;
    for (const g of sharedValues(bids, idOf, th.minBidders)) {
      findings.push({
        key: `${tenderId}:project-manager:${hashOf(g.value)}:${setKey(g.orgIds)}`,
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
    // the digits of the phone: "029-8888 1234" and "02988881234" are one number
    const phoneOf = (b: (typeof bids)[number]) => (b.manifest.contact?.phone ? b.manifest.contact.phone.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '') : null) || null;
    for (const g of sharedValues(bids, phoneOf, th.minBidders)) {
      findings.push({
        key: `${tenderId}:contact:${hashOf(g.value)}:${setKey(g.orgIds)}`,
        severity: 'high',
        title: `${g.orgIds.length}家投标人载明同一联系人`,
        tenderId,
        orgIds: g.orgIds,
        auditSeqs: g.bids.map((b) => b.decryptedSeq).filter((s): s is number => s !== null),
        fields: {
          contact: { names: [...new Set(g.bids.map((b) => b.manifest.contact!.name))].sort(), phoneMasked: maskPhone(g.value) },
          bids: g.bids.map((b) => ({ bidId: b.bidId, orgId: b.bidderOrgId, sectionId: b.sectionId })),
        },
      });
    }
    return findings;
  },
});
