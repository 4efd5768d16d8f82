/**
 * The only knex for open data: reads tenders, sections, documents, clarifications, the opening, the bids counted at
 * it, awards and contracts, in batches (one query per table, whatever the number of tenders). It decides nothing
 * about what is public: the service asks for the bids only of tenders whose prices have been read.
 */
import type { Runner } from '../db';
import type { OcdsAward, OcdsClarification, OcdsContract, OcdsDocument, OcdsOrganisation, OcdsSection, OcdsTender } from './ocds.mapper';

type Row = Record<string, any>;
const date = (v: unknown) => (v ? new Date(v as string) : null);
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

export interface OpeningState {
  tenderId: string;
  state: string;
  /** When the decryption window closed and the prices were read (the `opening.window-closed` event). */
  windowClosedAt: Date | null;
  failedSectionIds: string[];
}

export interface CountedBid {
  tenderId: string;
  sectionId: string;
  bidderOrgId: string;
}

export type Keyed<T> = T & { tenderId: string };

export const ocdsRepository = {
  /** Published tenders among `ids` (a tender never published — a draft, or one terminated as a draft — is not here). */
  async publishedTenders(db: Runner, ids: string[]): Promise<OcdsTender[]> {
    if (!ids.length) return [];
    const rows = await db('tenders').whereIn('id', ids).whereNotNull('published_at').orderBy('published_at').orderBy('id');
    return rows.map((r: Row) => ({
      id: r.id,
      code: r.code,
      name: r.name,
      type: r.type,
      // every tender the platform publishes is an open one (公开招标): published to all, any qualified bidder may bid
      method: 'open' as const,
      description: r.description ?? '',
      tendererOrgId: r.tenderer_org_id,
      agencyOrgId: r.agency_org_id,
      publishedAt: new Date(r.published_at),
      documentsIssuedAt: new Date(r.documents_issued_at ?? r.published_at),
      originalDeadline: new Date(r.original_deadline),
      terminatedAt: date(r.terminated_at),
      terminationReason: r.termination_reason ?? null,
    }));
  },

  /** Tenders with something dated in [from, to): publication, a clarification, the reading, an award, a refusal, a contract, termination. */
  async tenderIdsWithEventsBetween(db: Runner, from: Date, to: Date): Promise<string[]> {
    const { rows } = await db.raw(
      `SELECT id AS tender_id FROM tenders
         WHERE published_at IS NOT NULL
           AND ((published_at >= :from AND published_at < :to) OR (terminated_at >= :from AND terminated_at < :to))
       UNION SELECT tender_id FROM clarifications WHERE issued_at >= :from AND issued_at < :to
       UNION SELECT tender_id FROM awards WHERE issued_at >= :from AND issued_at < :to
       UNION SELECT tender_id FROM contracts WHERE recorded_at >= :from AND recorded_at < :to
       UNION SELECT tender_id FROM audit_events
         WHERE action IN ('opening.window-closed', 'award.refusal') AND occurred_at >= :from AND occurred_at < :to
           AND tender_id IS NOT NULL`,
      { from, to },
    );
    return rows.map((r: Row) => r.tender_id as string);
  },

  async sections(db: Runner, tenderIds: string[]): Promise<Array<Keyed<OcdsSection>>> {
    const rows = await db('sections').whereIn('tender_id', tenderIds).orderBy('seq');
    return rows.map((r: Row) => ({ tenderId: r.tender_id, id: r.id, seq: Number(r.seq), name: r.name, estimatedPriceFen: Number(r.estimated_price_fen) }));
  },

  async documents(db: Runner, tenderIds: string[]): Promise<Array<Keyed<OcdsDocument>>> {
    const rows = await db('tender_documents').whereIn('tender_id', tenderIds).orderBy('uploaded_at').orderBy('id');
    return rows.map((r: Row) => ({ tenderId: r.tender_id, id: r.id, fileName: r.file_name, contentType: r.content_type, sha256: String(r.sha256).trim() }));
  },

  async clarifications(db: Runner, tenderIds: string[]): Promise<Array<Keyed<OcdsClarification>>> {
    const rows = await db('clarifications').whereIn('tender_id', tenderIds).orderBy('seq');
    return rows.map((r: Row) => ({
      tenderId: r.tender_id,
      seq: Number(r.seq),
      title: r.title,
      body: r.body,
      issuedAt: new Date(r.issued_at),
      deadlineBefore: new Date(r.deadline_before),
      deadlineAfter: new Date(r.deadline_after),
    }));
  },

  async openings(db: Runner, tenderIds: string[]): Promise<OpeningState[]> {
    const rows = await db('openings')
      .whereIn('openings.tender_id', tenderIds)
      .select('openings.tender_id', 'openings.state', 'openings.section_outcomes')
      .select(
        db.raw(
          `(SELECT min(occurred_at) FROM audit_events e WHERE e.tender_id = openings.tender_id AND e.action = 'opening.window-closed') AS window_closed_at`,
        ),
      );
    return rows.map((r: Row) => ({
      tenderId: r.tender_id,
      state: r.state,
      windowClosedAt: date(r.window_closed_at),
      failedSectionIds: ((json(r.section_outcomes) ?? []) as Array<{ sectionId: string; failed: boolean }>).filter((s) => s.failed).map((s) => s.sectionId),
    }));
  },

  /** The bids that counted at the deadline (not withdrawn, not superseded), in the order received. */
  async countedBids(db: Runner, tenderIds: string[]): Promise<CountedBid[]> {
    if (!tenderIds.length) return [];
    const rows = await db('bids').whereIn('tender_id', tenderIds).where({ status: 'current' }).orderBy('received_at').orderBy('id');
    return rows.map((r: Row) => ({ tenderId: r.tender_id, sectionId: r.section_id, bidderOrgId: r.bidder_org_id }));
  },

  async awards(db: Runner, tenderIds: string[]): Promise<Array<Keyed<OcdsAward>>> {
    const rows = await db('awards').whereIn('tender_id', tenderIds).orderBy('issued_at');
    // TLR 74: a refusal is on the record as its audit event (see award.repository.ts)
    const refusals = await db('audit_events').whereIn('tender_id', tenderIds).where({ action: 'award.refusal' }).orderBy('seq').select('tender_id', 'occurred_at', 'payload');
    const refusal = (sectionId: string) => {
      const e = refusals.find((x: Row) => json(x.payload)?.sectionId === sectionId);
      return e ? { at: new Date(e.occurred_at), reason: String(json(e.payload).reason ?? '') } : null;
    };
    return rows.map((r: Row) => ({
      tenderId: r.tender_id,
      sectionId: r.section_id,
      winnerOrgId: r.winner_org_id,
      priceFen: Number(r.price_fen),
      issuedAt: new Date(r.issued_at),
      refusal: refusal(r.section_id),
    }));
  },

  async contracts(db: Runner, tenderIds: string[]): Promise<Array<Keyed<OcdsContract>>> {
    const rows = await db('contracts').whereIn('tender_id', tenderIds).orderBy('recorded_at');
    return rows.map((r: Row) => ({
      tenderId: r.tender_id,
      sectionId: r.section_id,
      signedAt: new Date(r.signed_at),
      amountFen: Number(r.amount_fen),
      recordedAt: new Date(r.recorded_at),
    }));
  },

  /** Names, credit codes and regions only: nothing private (accounts, representatives) leaves through open data. */
  async organisations(db: Runner, ids: string[]): Promise<OcdsOrganisation[]> {
    if (!ids.length) return [];
    const rows = await db('organisations').whereIn('id', [...new Set(ids)]).select('id', 'name', 'credit_code', 'region');
    return rows.map((r: Row) => ({ id: r.id, name: r.name, creditCode: r.credit_code, region: r.region ?? null }));
  },
};
