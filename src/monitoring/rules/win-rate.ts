/**
 * Abnormal win rates over the opened and awarded tenders of `periodDays`: a bidder that wins too often (标王: at least
 * `minBids` bids and a win rate of `highRate` or more) or never (陪标专业户: at least `neverWinMinBids` bids, no win).
 * National policy names both as signals to follow (NDRC1117 §11). Statistical: a warning.
 */
import { DAY_MS } from '../../shared/clock';
import { historyRepository, type Participation } from './history.repository';
import { defineRule, type Finding } from './rule';

export default defineRule({
  id: 'win-rate',
  basis: '发改法规规〔2022〕1117号第十一条（中标率异常偏高或偏低：“标王”“陪标专业户”） (NDRC1117 §11)',
  description: '投标人一定期间内中标率异常：投标次数较多且中标率过高，或多次投标从未中标',
  defaults: { minBids: 5, highRate: 0.6, neverWinMinBids: 8, periodDays: 365 },
  async onSchedule(env, th) {
    const now = env.clock.now();
    const rows = await historyRepository.decidedParticipations(env.db, { since: new Date(now.getTime() - th.periodDays * DAY_MS), until: now });
    const byBidder = new Map<string, Participation[]>();
    for (const r of rows) byBidder.set(r.bidderOrgId, [...(byBidder.get(r.bidderOrgId) ?? []), r]);
    const flagged: Array<{ orgId: string; kind: 'high' | 'never'; bids: Participation[]; wins: number }> = [];
    for (const [orgId, bids] of byBidder) {
      const wins = bids.filter((b) => b.winnerOrgId === orgId).length;
      if (bids.length >= th.minBids && wins / bids.length >= th.highRate) flagged.push({ orgId, kind: 'high', bids, wins });
      else if (bids.length >= th.neverWinMinBids && wins === 0) flagged.push({ orgId, kind: 'never', bids, wins });
    }
    if (flagged.length === 0) return [];
    const names = await historyRepository.orgNames(env.db, flagged.map((f) => f.orgId));
    const year = new Date(now.getTime() + 8 * 3_600_000).getUTCFullYear();
    return flagged.map(({ orgId, kind, bids, wins }): Finding => {
      const rate = wins / bids.length;
      const name = names.get(orgId) ?? orgId;
      return {
        key: `${orgId}:${kind}:${year}`,
        severity: 'warning',
        title:
          kind === 'high'
            ? `${name}在${th.periodDays}天内投标${bids.length}次中标${wins}次，中标率${Math.round(rate * 100)}%，异常偏高（标王）`
            : `${name}在${th.periodDays}天内投标${bids.length}次从未中标（陪标专业户）`,
        tenderId: null,
        orgIds: [orgId],
        auditSeqs: bids.map((b) => b.auditSeq),
        fields: {
          kind,
          bids: bids.length,
          wins,
          winRate: Number(rate.toFixed(4)),
          periodDays: th.periodDays,
          tenders: [...new Set(bids.map((b) => b.tenderCode))],
        },
      };
    });
  },
});
