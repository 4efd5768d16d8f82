/**
 * Bidders in one section whose legal representatives are the same person: units whose heads are one person may not
 * bid in the same section (TLR 34; GPR 18 for procurement). Looked at once the opening has made the bidders public.
 * Names are compared with whitespace (half- and full-width) removed and in NFKC form, as they are typed both ways.
 */
import { historyRepository, type TenderBidder } from './history.repository';
import { defineRule, setKey, type Finding } from './rule';

export function normaliseName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/gu, '');
}

export default defineRule({
  id: 'same-legal-representative',
  basis: '《招标投标法实施条例》第三十四条第二款；《政府采购法实施条例》第十八条：单位负责人为同一人的不同单位不得参加同一标段投标 (TLR 34; GPR 18)',
  description: '同一标段中不同投标人的法定代表人为同一人',
  defaults: { minBidders: 2 },
  async onOpened(tenderId, env, th) {
    const bidders = await historyRepository.biddersOfTender(env.db, tenderId);
    const groups = new Map<string, TenderBidder[]>();
    for (const b of bidders) {
      const rep = b.legalRepresentative ? normaliseName(b.legalRepresentative) : '';
      if (!rep) continue;
      const key = `${b.sectionId}\u0000${rep}`;
      if (!groups.get(key)?.some((x) => x.bidderOrgId === b.bidderOrgId)) groups.set(key, [...(groups.get(key) ?? []), b]);
    }
    const findings: Finding[] = [];
    for (const [key, same] of groups) {
      if (same.length < th.minBidders) continue;
      const rep = key.split('\u0000')[1]!;
      const orgIds = same.map((b) => b.bidderOrgId).sort();
      findings.push({
        key: `${tenderId}:${same[0]!.sectionId}:${setKey(orgIds)}`,
        severity: 'high',
        title: `第${same[0]!.sectionSeq}标段中${same.length}家投标人的法定代表人为同一人（${rep}）`,
        tenderId,
        orgIds,
        auditSeqs: same.map((b) => b.auditSeq),
        fields: {
          sectionId: same[0]!.sectionId,
          legalRepresentative: rep,
          bidders: same.map((b) => ({ orgId: b.bidderOrgId, name: b.name, legalRepresentative: b.legalRepresentative })),
        },
      });
    }
    return findings;
  },
});
