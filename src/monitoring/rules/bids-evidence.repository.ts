/**
 * The decrypted bids of a tender as the rules after the opening read them: each valid bid (decrypted by its bidder or
 * opened by the custodians, still current) with its bidder, section, manifest and plaintext package, the audit event
 * that recorded its decryption (the evidence on the chain), and the sections' estimated prices.
 */
import type { Runner } from '../../db';
import type { ManifestSummary } from '../../opening/bid-opener';

export interface OpenedBid {
  bidId: string;
  bidderOrgId: string;
  sectionId: string;
  manifest: ManifestSummary;
  plaintextBlobKey: string;
  /** seq of the audit event 'opening.decrypted' or 'opening.custodian-opened' for this bid, when there is one. */
  decryptedSeq: number | null;
}

export interface SectionPrice {
  id: string;
  seq: number;
  name: string;
  /** 估算价/最高投标限价 (tendering) or 预算 (procurement), integer fen: the ceiling prices are read against. */
  estimatedPriceFen: number;
}

const VALID_OUTCOMES = ['decrypted', 'custodian-opened'];
const DECRYPTION_ACTIONS = ['opening.decrypted', 'opening.custodian-opened'];

export const bidsEvidenceRepository = {
  /** The tender's valid bids after the window closed, in the order they were received. */
  async openedBids(db: Runner, tenderId: string): Promise<OpenedBid[]> {
    const rows = await db('bid_decryptions as d')
      .join('bids as b', 'b.id', 'd.bid_id')
      .where({ 'd.tender_id': tenderId, 'd.status': 'decrypted', 'b.status': 'current' })
      .whereIn('d.outcome', VALID_OUTCOMES)
      .whereNotNull('d.plaintext_blob_key')
      .select('d.bid_id', 'b.bidder_org_id', 'b.section_id', 'd.manifest', 'd.plaintext_blob_key')
      .orderBy([{ column: 'b.received_at' }, { column: 'd.bid_id' }]);
    if (rows.length === 0) return [];
    const events = await db('audit_events')
      .where({ tender_id: tenderId, object_type: 'bid' })
      .whereIn('action', DECRYPTION_ACTIONS)
      .whereIn('object_id', rows.map((r) => r.bid_id))
      .select('object_id', 'seq');
    const seqOf = new Map(events.map((e) => [e.object_id as string, Number(e.seq)]));
    return rows.map((r) => ({
      bidId: r.bid_id,
      bidderOrgId: r.bidder_org_id,
      sectionId: r.section_id,
      manifest: typeof r.manifest === 'string' ? JSON.parse(r.manifest) : r.manifest,
      plaintextBlobKey: r.plaintext_blob_key,
      decryptedSeq: seqOf.get(r.bid_id) ?? null,
    }));
  },

  async sections(db: Runner, tenderId: string): Promise<SectionPrice[]> {
    const rows = await db('sections').where({ tender_id: tenderId }).orderBy('seq').select('id', 'seq', 'name', 'estimated_price_fen');
    return rows.map((r) => ({ id: r.id, seq: r.seq, name: r.name, estimatedPriceFen: Number(r.estimated_price_fen) }));
  },
};
