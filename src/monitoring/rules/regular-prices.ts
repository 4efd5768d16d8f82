/**
 * Prices of one section's valid bids that differ in a regular pattern — deemed collusion (TLR 40(4) 投标报价呈规律性
 * 差异) — or that look arranged: equal steps (arithmetic), equal ratios (geometric), a spread too small for
 * independent pricing, or every price packed just under the ceiling (the section's estimated price, which the
 * tender publishes as its 最高投标限价/预算). Statistical signals, not proof: severity warning. Prices are read from
 * the decrypted bid forms (开标一览表), the same figures read out at the opening, so public by now.
 */
import { bidsEvidenceRepository, type OpenedBid } from './bids-evidence.repository';
import { defineRule, setKey, type Finding } from './rule';

export type PricePattern = 'arithmetic' | 'geometric' | 'narrow-spread' | 'near-ceiling';

export interface PriceThresholds {
  minBids: number;
  /** Steps equal within this share of the mean step (arithmetic), ratios' excess over 1 likewise (geometric). */
  stepTolerance: number;
  /** (max − min) / min below this is a spread too small. */
  maxSpread: number;
  /** Every price within this share below the ceiling (and not above it). */
  nearCeiling: number;
}

const TITLES: Record<PricePattern, string> = {
  arithmetic: '报价呈等差规律',
  geometric: '报价呈等比规律',
  'narrow-spread': '报价极度接近',
  'near-ceiling': '报价集中于最高投标限价之下',
};

/** Relative spread of a list: (max − min) / mean; 0 for equal values. */
function relativeSpread(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean === 0 ? Number.POSITIVE_INFINITY : (Math.max(...xs) - Math.min(...xs)) / Math.abs(mean);
}

/**
 * The patterns a section's prices (fen) show. Equal prices are no step pattern (a step of 0 is the narrow spread's
 * business); an arithmetic sequence is not reported as geometric too.
 */
export function pricePatterns(pricesFen: number[], ceilingFen: number | null, th: PriceThresholds): Array<{ pattern: PricePattern; figures: Record<string, number> }> {
  if (pricesFen.length < th.minBids) return [];
  const p = [...pricesFen].sort((a, b) => a - b);
  const out: Array<{ pattern: PricePattern; figures: Record<string, number> }> = [];
  const diffs = p.slice(1).map((x, i) => x - p[i]!);
  const distinct = diffs.every((d) => d > 0);
  if (distinct && relativeSpread(diffs) <= th.stepTolerance) {
    out.push({ pattern: 'arithmetic', figures: { stepFen: Math.round(diffs.reduce((a, b) => a + b, 0) / diffs.length), stepSpread: relativeSpread(diffs) } });
  } else if (distinct) {
    const excess = p.slice(1).map((x, i) => x / p[i]! - 1);
    if (relativeSpread(excess) <= th.stepTolerance) {
      out.push({ pattern: 'geometric', figures: { ratio: 1 + excess.reduce((a, b) => a + b, 0) / excess.length, ratioSpread: relativeSpread(excess) } });
    }
  }
  const spread = (p[p.length - 1]! - p[0]!) / p[0]!;
  if (spread < th.maxSpread) out.push({ pattern: 'narrow-spread', figures: { spread } });
  if (ceilingFen !== null && ceilingFen > 0 && p[p.length - 1]! <= ceilingFen && p[0]! >= ceilingFen * (1 - th.nearCeiling)) {
    out.push({ pattern: 'near-ceiling', figures: { ceilingFen, lowestBelowCeiling: (ceilingFen - p[0]!) / ceilingFen } });
  }
  return out;
}

export default defineRule({
  id: 'regular-prices',
  basis: '《招标投标法实施条例》第四十条第（四）项：不同投标人的投标报价呈规律性差异 (TLR 40(4))',
  description: '同一标段有效投标的报价呈等差、等比规律，极度接近，或全部紧贴最高投标限价（至少3家）',
  defaults: { minBids: 3, stepTolerance: 0.01, maxSpread: 0.003, nearCeiling: 0.01 },
  async onOpened(tenderId, env, th) {
    const bids = await bidsEvidenceRepository.openedBids(env.db, tenderId);
    const findings: Finding[] = [];
    for (const section of await bidsEvidenceRepository.sections(env.db, tenderId)) {
      const ofSection = bids.filter((b) => b.sectionId === section.id && Number.isSafeInteger(b.manifest.form?.totalPriceFen));
      // one price per bidder: a bidder has one current bid per section
      const priced: OpenedBid[] = [...new Map(ofSection.map((b) => [b.bidderOrgId, b])).values()];
      const prices = priced.map((b) => b.manifest.form.totalPriceFen);
      for (const { pattern, figures } of pricePatterns(prices, section.estimatedPriceFen, th)) {
        const orgIds = priced.map((b) => b.bidderOrgId);
        findings.push({
          key: `${tenderId}:${section.id}:${pattern}:${setKey(orgIds)}`,
          severity: 'warning',
          title: `${section.name}：${priced.length}家投标人${TITLES[pattern]}`,
          tenderId,
          orgIds: [...orgIds].sort(),
          auditSeqs: priced.map((b) => b.decryptedSeq).filter((s): s is number => s !== null),
          fields: {
            sectionId: section.id,
            pattern,
            ...figures,
            prices: priced.map((b) => ({ orgId: b.bidderOrgId, bidId: b.bidId, totalPriceFen: b.manifest.form.totalPriceFen })).sort((a, b) => a.totalPriceFen - b.totalPriceFen),
          },
        });
      }
    }
    return findings;
  },
});
