/**
 * The history of tenders as the rules across tenders read it: who bid in which section and who won it, and a tender's
 * bidders with their legal representatives. Only sections whose opening has read the bids out: before that, who is
 * bidding is secret (TL 22) and no rule may name it.
 */
import type { Runner } from '../../db';

/** Opening states in which the bidders are public: the prices have been read out (EB 30). */
export const OPENED_STATES = ['announcing', 'objections', 'recorded', 'closed'] as const;

export interface Participation {
  tenderId: string;
  tenderCode: string;
  sectionId: string;
  bidderOrgId: string;
  /** The section's winner by its award notice. */
  winnerOrgId: string;
  /** The bid's submission on the audit chain. */
  auditSeq: number;
}

export interface TenderBidder {
  sectionId: string;
  sectionSeq: number;
  bidderOrgId: string;
  name: string;
  legalRepresentative: string | null;
  auditSeq: number;
}

export const historyRepository = {
  /**
   * Each bidder's current bid in each awarded section of a tender opened with its deadline from `since` to `until`:
   * one row per (section, bidder), in section order. Sections without an award (still evaluated, failed for want of
   * bids) tell nothing about who wins and are left out.
   */
  async decidedParticipations(db: Runner, range: { since: Date; until: Date }): Promise<Participation[]> {
    const rows = await db('bids as b')
      .join('tenders as t', 't.id', 'b.tender_id')
      .join('openings as o', 'o.tender_id', 't.id')
      .join('awards as a', 'a.section_id', 'b.section_id')
      .where('b.status', 'current')
      .whereIn('o.state', OPENED_STATES as unknown as string[])
      .where('t.bid_deadline', '>=', range.since)
      .where('t.bid_deadline', '<=', range.until)
      .orderBy(['b.section_id', 'b.bidder_org_id'])
      .select('t.id as tender_id', 't.code as tender_code', 'b.section_id', 'b.bidder_org_id', 'a.winner_org_id', 'b.audit_seq');
    return rows.map((r) => ({ tenderId: r.tender_id, tenderCode: r.tender_code, sectionId: r.section_id, bidderOrgId: r.bidder_org_id, winnerOrgId: r.winner_org_id, auditSeq: Number(r.audit_seq) }));
  },

  /** A tender's bidders (current bids) per section, with their organisations' legal representatives. */
  async biddersOfTender(db: Runner, tenderId: string): Promise<TenderBidder[]> {
    const rows = await db('bids as b')
      .join('sections as s', 's.id', 'b.section_id')
      .join('organisations as g', 'g.id', 'b.bidder_org_id')
      .where({ 'b.tender_id': tenderId, 'b.status': 'current' })
      .orderBy(['s.seq', 'b.bidder_org_id'])
      .select('b.section_id', 's.seq', 'b.bidder_org_id', 'g.name', 'g.legal_representative', 'b.audit_seq');
    return rows.map((r) => ({ sectionId: r.section_id, sectionSeq: Number(r.seq), bidderOrgId: r.bidder_org_id, name: r.name, legalRepresentative: r.legal_representative ?? null, auditSeq: Number(r.audit_seq) }));
  },

  /** Organisations' names, for the alerts' titles. */
  async orgNames(db: Runner, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db('organisations').whereIn('id', ids).select('id', 'name');
    return new Map(rows.map((r) => [r.id as string, r.name as string]));
  },
};
