/** The only knex for bid uploads and bids. */
import type { Runner } from '../db';
import type { RecipientSummary } from '../../crypto/envelope';

export type UploadStatus = 'open' | 'complete' | 'failed' | 'aborted';
export type BidStatus = 'current' | 'superseded' | 'withdrawn';

export interface BidUpload {
  id: string;
  tenderId: string;
  sectionId: string;
  bidderOrgId: string;
  userId: string;
  size: number;
  sha256: string;
  signature: Buffer;
  signerCertificateSerial: string;
  receivedBytes: number;
  parts: number;
  partKeys: string[];
  status: UploadStatus;
  failureCode: string | null;
  bidId: string | null;
  createdAt: Date;
}

export interface Bid {
  id: string;
  tenderId: string;
  sectionId: string;
  bidderOrgId: string;
  submittedByUserId: string;
  uploadId: string;
  status: BidStatus;
  blobKey: string;
  envelopeSha256: string;
  envelopeSize: number;
  signature: Buffer;
  signerCertificateSerial: string;
  recipients: Array<Omit<RecipientSummary, 'encryptedKey'>>;
  receiptToken: Buffer;
  receiptSerial: string;
  auditSeq: number;
  receivedAt: Date;
  supersededAt: Date | null;
  supersededByBidId: string | null;
  withdrawnAt: Date | null;
}

type Row = Record<string, any>;
const date = (v: unknown) => (v ? new Date(v as string) : null);

const upload = (r: Row): BidUpload => ({
  id: r.id,
  tenderId: r.tender_id,
  sectionId: r.section_id,
  bidderOrgId: r.bidder_org_id,
  userId: r.user_id,
  size: Number(r.size),
  sha256: String(r.sha256).trim(),
  signature: Buffer.from(r.signature),
  signerCertificateSerial: r.signer_certificate_serial,
  receivedBytes: Number(r.received_bytes),
  parts: r.parts,
  partKeys: typeof r.part_keys === 'string' ? JSON.parse(r.part_keys) : r.part_keys,
  status: r.status,
  failureCode: r.failure_code ?? null,
  bidId: r.bid_id ?? null,
  createdAt: new Date(r.created_at),
});

const bid = (r: Row): Bid => ({
  id: r.id,
  tenderId: r.tender_id,
  sectionId: r.section_id,
  bidderOrgId: r.bidder_org_id,
  submittedByUserId: r.submitted_by_user_id,
  uploadId: r.upload_id,
  status: r.status,
  blobKey: r.blob_key,
  envelopeSha256: String(r.envelope_sha256).trim(),
  envelopeSize: Number(r.envelope_size),
  signature: Buffer.from(r.signature),
  signerCertificateSerial: r.signer_certificate_serial,
  recipients: typeof r.recipients === 'string' ? JSON.parse(r.recipients) : r.recipients,
  receiptToken: Buffer.from(r.receipt_token),
  receiptSerial: r.receipt_serial,
  auditSeq: Number(r.audit_seq),
  receivedAt: new Date(r.received_at),
  supersededAt: date(r.superseded_at),
  supersededByBidId: r.superseded_by_bid_id ?? null,
  withdrawnAt: date(r.withdrawn_at),
});

export const bidsRepository = {
  async insertUpload(db: Runner, u: Omit<BidUpload, 'id' | 'receivedBytes' | 'parts' | 'partKeys' | 'status' | 'failureCode' | 'bidId'>): Promise<BidUpload> {
    const [row] = await db('bid_uploads')
      .insert({
        tender_id: u.tenderId,
        section_id: u.sectionId,
        bidder_org_id: u.bidderOrgId,
        user_id: u.userId,
        size: u.size,
        sha256: u.sha256,
        signature: u.signature,
        signer_certificate_serial: u.signerCertificateSerial,
        created_at: u.createdAt,
        updated_at: u.createdAt,
      })
      .returning('*');
    return upload(row);
  },

  async findUpload(db: Runner, id: string, forUpdate = false): Promise<BidUpload | null> {
    const q = db('bid_uploads').where({ id }).first();
    if (forUpdate) q.forUpdate();
    const row = await q;
    return row ? upload(row) : null;
  },

  /** Records a stored part only if nobody appended since `expectedOffset` was read (compare-and-set). */
  async advanceUpload(db: Runner, id: string, expectedOffset: number, partKey: string, partBytes: number, at: Date): Promise<boolean> {
    const n = await db('bid_uploads')
      .where({ id, received_bytes: expectedOffset, status: 'open' })
      .update({
        received_bytes: expectedOffset + partBytes,
        parts: db.raw('parts + 1'),
        part_keys: db.raw('part_keys || ?::jsonb', [JSON.stringify([partKey])]),
        updated_at: at,
      });
    return n > 0;
  },

  /** Closes an upload that is still open; one already closed (by a concurrent request) keeps its outcome. */
  async finishUpload(db: Runner, id: string, status: Exclude<UploadStatus, 'open'>, at: Date, extra: { bidId?: string; failureCode?: string } = {}): Promise<void> {
    await db('bid_uploads')
      .where({ id, status: 'open' })
      .update({ status, updated_at: at, bid_id: extra.bidId ?? null, failure_code: extra.failureCode ?? null });
  },

  async openUploads(db: Runner, tenderId: string): Promise<BidUpload[]> {
    return (await db('bid_uploads').where({ tender_id: tenderId, status: 'open' })).map(upload);
  },

  /** Serialises submissions of one bidder to one section until the transaction ends. */
  async lockBidderSection(db: Runner, sectionId: string, bidderOrgId: string): Promise<void> {
    await db.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`bid:${sectionId}:${bidderOrgId}`]);
  },

  async findCurrent(db: Runner, sectionId: string, bidderOrgId: string): Promise<Bid | null> {
    const row = await db('bids').where({ section_id: sectionId, bidder_org_id: bidderOrgId, status: 'current' }).first();
    return row ? bid(row) : null;
  },

  async supersede(db: Runner, id: string, byBidId: string, at: Date): Promise<void> {
    await db('bids').where({ id }).update({ status: 'superseded', superseded_at: at, superseded_by_bid_id: byBidId });
  },

  async withdraw(db: Runner, id: string, at: Date): Promise<void> {
    await db('bids').where({ id }).update({ status: 'withdrawn', withdrawn_at: at });
  },

  async insertBid(db: Runner, b: Omit<Bid, 'supersededAt' | 'supersededByBidId' | 'withdrawnAt'>): Promise<Bid> {
    const [row] = await db('bids')
      .insert({
        id: b.id,
        tender_id: b.tenderId,
        section_id: b.sectionId,
        bidder_org_id: b.bidderOrgId,
        submitted_by_user_id: b.submittedByUserId,
        upload_id: b.uploadId,
        status: b.status,
        blob_key: b.blobKey,
        envelope_sha256: b.envelopeSha256,
        envelope_size: b.envelopeSize,
        signature: b.signature,
        signer_certificate_serial: b.signerCertificateSerial,
        recipients: JSON.stringify(b.recipients),
        receipt_token: b.receiptToken,
        receipt_serial: b.receiptSerial,
        audit_seq: b.auditSeq,
        received_at: b.receivedAt,
      })
      .returning('*');
    return bid(row);
  },

  async findBid(db: Runner, id: string, forUpdate = false): Promise<Bid | null> {
    const q = db('bids').where({ id }).first();
    if (forUpdate) q.forUpdate();
    const row = await q;
    return row ? bid(row) : null;
  },

  async listBids(db: Runner, filter: { bidderOrgId: string; tenderId?: string }): Promise<Bid[]> {
    const q = db('bids').where({ bidder_org_id: filter.bidderOrgId }).orderBy('received_at', 'desc');
    if (filter.tenderId) q.where({ tender_id: filter.tenderId });
    return (await q).map(bid);
  },

  async listCurrent(db: Runner, tenderId: string, bidderOrgId?: string): Promise<Bid[]> {
    const q = db('bids').where({ tender_id: tenderId, status: 'current' }).orderBy('received_at');
    if (bidderOrgId) q.where({ bidder_org_id: bidderOrgId });
    return (await q).map(bid);
  },

  async countCurrent(db: Runner, tenderId: string): Promise<Array<{ sectionId: string; count: number }>> {
    const rows = await db('bids').where({ tender_id: tenderId, status: 'current' }).groupBy('section_id').select('section_id').count({ n: '*' });
    return rows.map((r: Row) => ({ sectionId: r.section_id, count: Number(r.n) }));
  },

  /** The bidder's encryption certificates valid now: a bid must be addressed to one of them. */
  async bidderEncryptionCertificates(db: Runner, bidderOrgId: string, at: Date): Promise<string[]> {
    const rows = await db('certificates')
      .where({ organisation_id: bidderOrgId, usage: 'encryption', status: 'valid' })
      .where('not_before', '<=', at)
      .where('not_after', '>', at)
      .select('pem');
    return rows.map((r: Row) => r.pem);
  },
};
