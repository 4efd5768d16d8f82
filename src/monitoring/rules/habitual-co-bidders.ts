/**
 * Bidders that habitually bid together (陪标): a pair that met in at least `minTogether` opened and awarded tenders
 * within `periodDays`, where one of them never wins those (the other always does, or a third party does). National
 * policy names "bidders that habitually bid together" and "陪标专业户" as signals to follow (NDRC1117 §11); agreeing
 * on winners is collusion (TLR 39). A statistical signal: a warning.
 *
 * Pairs are counted from each section's own bidder list (k bidders give k(k-1)/2 pairs), so the work grows with the
 * bids made, not with the square of all bidders on the platform.
 */
import { DAY_MS } from '../../shared/clock';
import { historyRepository, type Participation } from './history.repository';
import { defineRule, setKey, type Finding } from './rule';

interface Section {
  tenderId: string;
  tenderCode: string;
  winnerOrgId: string;
  bidders: Participation[];
}

export default defineRule({
  id: 'habitual-co-bidders',
  basis: '发改法规规〔2022〕1117号第十一条（经常性共同投标、陪标专业户）；《招标投标法实施条例》第三十九条 (NDRC1117 §11; TLR 39)',
  description: '同一组投标人在一定期间内多次共同投标，且其中一方从未中标（或总由同一方中标）',
  defaults: { minTogether: 4, periodDays: 365 },
  async onSchedule(env, th) {
    const now = env.clock.now();
    const rows = await historyRepository.decidedParticipations(env.db, { since: new Date(now.getTime() - th.periodDays * DAY_MS), until: now });
    const sections = new Map<string, Section>();
    for (const r of rows) {
      const s = sections.get(r.sectionId) ?? { tenderId: r.tenderId, tenderCode: r.tenderCode, winnerOrgId: r.winnerOrgId, bidders: [] };
      s.bidders.push(r);
      sections.set(r.sectionId, s);
    }
    // pair → the sections they both bid in
    const together = new Map<string, string[]>();
    for (const [sectionId, s] of sections) {
      const orgs = [...new Set(s.bidders.map((b) => b.bidderOrgId))].sort();
      for (let i = 0; i < orgs.length; i++) {
        for (let j = i + 1; j < orgs.length; j++) {
          const pair = `${orgs[i]},${orgs[j]}`;
          together.set(pair, [...(together.get(pair) ?? []), sectionId]);
        }
      }
    }
    const candidates: Array<{ a: string; b: string; shared: Section[] }> = [];
    for (const [pair, sectionIds] of together) {
      const shared = sectionIds.map((id) => sections.get(id)!);
      if (new Set(shared.map((s) => s.tenderId)).size < th.minTogether) continue;
      const [a, b] = pair.split(',') as [string, string];
      candidates.push({ a, b, shared });
    }
    if (candidates.length === 0) return [];
    const names = await historyRepository.orgNames(env.db, [...new Set(candidates.flatMap((c) => [c.a, c.b]))]);
    const year = new Date(now.getTime() + 8 * 3_600_000).getUTCFullYear();
    const findings: Finding[] = [];
    for (const { a, b, shared } of candidates) {
      const wins = { [a]: shared.filter((s) => s.winnerOrgId === a).length, [b]: shared.filter((s) => s.winnerOrgId === b).length };
      if (wins[a]! > 0 && wins[b]! > 0) continue; // each won some: competitors, not a pairing
      const tenders = new Set(shared.map((s) => s.tenderId)).size;
      const alwaysWins = [a, b].find((o) => wins[o] === shared.length);
      const neverWins = [a, b].filter((o) => wins[o] === 0);
      const name = (o: string) => names.get(o) ?? o;
      const outcome = alwaysWins ? `均由${name(alwaysWins)}中标` : neverWins.length === 2 ? '双方均未中标' : `${name(neverWins[0]!)}从未中标`;
      // the one that never wins (the companion) first
      const orgIds = [...neverWins, ...[a, b].filter((o) => !neverWins.includes(o))];
      findings.push({
        // one alert per pair and year: the supervisors follow the pairing, not each new meeting
        key: `${setKey([a, b])}:${year}`,
        severity: 'warning',
        title: `${name(orgIds[0]!)}与${name(orgIds[1]!)}在${th.periodDays}天内共同投标${tenders}个项目，${outcome}`,
        tenderId: null,
        orgIds,
        auditSeqs: shared.flatMap((s) => s.bidders.filter((p) => p.bidderOrgId === a || p.bidderOrgId === b).map((p) => p.auditSeq)),
        fields: {
          tenders,
          sections: shared.length,
          wins,
          alwaysWins: alwaysWins ?? null,
          periodDays: th.periodDays,
          shared: shared.map((s) => ({ tenderId: s.tenderId, tenderCode: s.tenderCode, winnerOrgId: s.winnerOrgId })),
        },
      });
    }
    return findings;
  },
});
