/** The only knex for tenders, sections, documents, clarifications and custodians. */
import type { Runner } from '../db';
import type { TenderType } from './tenders.rules';

export type TenderStatus = 'draft' | 'published' | 'sealed' | 'terminated';
export type DecryptionFailurePolicy = 'withdraw' | 'custodian-open';

export interface Tender {
  id: string;
  code: string;
  name: string;
  type: TenderType;
  tendererOrgId: string;
  agencyOrgId: string;
  region: string | null;
  description: string;
  status: TenderStatus;
  documentsIssuedAt: Date | null;
  bidDeadline: Date;
  originalDeadline: Date;
  decryptionWindowMinutes: number;
  decryptionFailurePolicy: DecryptionFailurePolicy;
  custodianThreshold: number;
  openingCertificateSerial: string | null;
  createdByUserId: string;
  publishedAt: Date | null;
  sealedAt: Date | null;
  terminatedAt: Date | null;
  terminationReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Section {
  id: string;
  tenderId: string;
  seq: number;
  name: string;
  estimatedPriceFen: number;
  depositFen: number;
}

export interface TenderDocument {
  id: string;
  tenderId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  blobKey: string;
  uploadedAt: Date;
}

export interface Clarification {
  id: string;
  tenderId: string;
  seq: number;
  title: string;
  body: string;
  affectsBidPreparation: boolean;
  issuedAt: Date;
  deadlineBefore: Date;
  deadlineAfter: Date;
}

type Row = Record<string, any>;
const date = (v: unknown) => (v ? new Date(v as string) : null);

const tender = (r: Row): Tender => ({
  id: r.id,
  code: r.code,
  name: r.name,
  type: r.type,
  tendererOrgId: r.tenderer_org_id,
  agencyOrgId: r.agency_org_id,
  region: r.region ?? null,
  description: r.description,
  status: r.status,
  documentsIssuedAt: date(r.documents_issued_at),
  bidDeadline: new Date(r.bid_deadline),
  originalDeadline: new Date(r.original_deadline),
  decryptionWindowMinutes: r.decryption_window_minutes,
  decryptionFailurePolicy: r.decryption_failure_policy,
  custodianThreshold: r.custodian_threshold,
  openingCertificateSerial: r.opening_certificate_serial ?? null,
  createdByUserId: r.created_by_user_id,
  publishedAt: date(r.published_at),
  sealedAt: date(r.sealed_at),
  terminatedAt: date(r.terminated_at),
  terminationReason: r.termination_reason ?? null,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const section = (r: Row): Section => ({
  id: r.id,
  tenderId: r.tender_id,
  seq: r.seq,
  name: r.name,
  estimatedPriceFen: Number(r.estimated_price_fen),
  depositFen: Number(r.deposit_fen),
});

const document = (r: Row): TenderDocument => ({
  id: r.id,
  tenderId: r.tender_id,
  fileName: r.file_name,
  contentType: r.content_type,
  sizeBytes: Number(r.size_bytes),
  sha256: String(r.sha256).trim(),
  blobKey: r.blob_key,
  uploadedAt: new Date(r.uploaded_at),
});

const clarification = (r: Row): Clarification => ({
  id: r.id,
  tenderId: r.tender_id,
  seq: r.seq,
  title: r.title,
  body: r.body,
  affectsBidPreparation: r.affects_bid_preparation,
  issuedAt: new Date(r.issued_at),
  deadlineBefore: new Date(r.deadline_before),
  deadlineAfter: new Date(r.deadline_after),
});

export interface TenderFilter {
  /** Tenders visible to an organisation: any non-draft, plus its own drafts. Unset: all. */
  visibleToOrgId?: string;
  /** Only the tenders an organisation runs (as agency) or owns (as tenderer). */
  involvingOrgId?: string;
  status?: TenderStatus;
  type?: TenderType;
  q?: string;
  limit: number;
  offset: number;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export const tendersRepository = {
  async nextCodeNumber(db: Runner): Promise<number> {
    const { rows } = await db.raw("SELECT nextval('tender_code_seq') AS n");
    return Number(rows[0].n);
  },

  async insertTender(
    db: Runner,
    t: Omit<Tender, 'id' | 'status' | 'documentsIssuedAt' | 'openingCertificateSerial' | 'publishedAt' | 'sealedAt' | 'terminatedAt' | 'terminationReason' | 'updatedAt'>,
  ): Promise<Tender> {
    const [row] = await db('tenders')
      .insert({
        code: t.code,
        name: t.name,
        type: t.type,
        tenderer_org_id: t.tendererOrgId,
        agency_org_id: t.agencyOrgId,
        region: t.region,
        description: t.description,
        bid_deadline: t.bidDeadline,
        original_deadline: t.originalDeadline,
        decryption_window_minutes: t.decryptionWindowMinutes,
        decryption_failure_policy: t.decryptionFailurePolicy,
        custodian_threshold: t.custodianThreshold,
        created_by_user_id: t.createdByUserId,
        created_at: t.createdAt,
        updated_at: t.createdAt,
      })
      .returning('*');
    return tender(row);
  },

  async updateTender(db: Runner, id: string, patch: Partial<Record<string, unknown>>, at: Date): Promise<Tender> {
    const [row] = await db('tenders')
      .where({ id })
      .update({ ...patch, updated_at: at })
      .returning('*');
    return tender(row);
  },

  /** forUpdate: the caller changes the tender; forShare: the caller needs it unchanged until it commits. */
  async findTender(db: Runner, id: string, opts: { forUpdate?: boolean; forShare?: boolean } = {}): Promise<Tender | null> {
    const q = db('tenders').where({ id }).first();
    if (opts.forUpdate) q.forUpdate();
    else if (opts.forShare) q.forShare();
    const row = await q;
    return row ? tender(row) : null;
  },

  async listTenders(db: Runner, f: TenderFilter): Promise<{ items: Tender[]; total: number }> {
    const base = db('tenders');
    if (f.visibleToOrgId) {
      const org = f.visibleToOrgId;
      base.where((w) => w.whereNot('status', 'draft').orWhere('agency_org_id', org).orWhere('tenderer_org_id', org));
    }
    if (f.involvingOrgId) {
      const org = f.involvingOrgId;
      base.where((w) => w.where('agency_org_id', org).orWhere('tenderer_org_id', org));
    }
    if (f.status) base.where('status', f.status);
    if (f.type) base.where('type', f.type);
    if (f.q) {
      const like = `%${escapeLike(f.q)}%`;
      base.where((w) => w.where('name', 'like', like).orWhere('code', 'like', like));
    }
    const [{ n }] = await base.clone().count({ n: '*' });
    const rows = await base.orderBy('created_at', 'desc').orderBy('id').limit(f.limit).offset(f.offset);
    return { items: rows.map(tender), total: Number(n) };
  },

  async insertSections(db: Runner, tenderId: string, sections: Array<Omit<Section, 'id' | 'tenderId'>>): Promise<Section[]> {
    if (!sections.length) return [];
    const rows = await db('sections')
      .insert(
        sections.map((s) => ({
          tender_id: tenderId,
          seq: s.seq,
          name: s.name,
          estimated_price_fen: s.estimatedPriceFen,
          deposit_fen: s.depositFen,
        })),
      )
      .returning('*');
    return rows.map(section);
  },

  async deleteSections(db: Runner, tenderId: string): Promise<void> {
    await db('sections').where({ tender_id: tenderId }).delete();
  },

  async listSections(db: Runner, tenderId: string): Promise<Section[]> {
    return (await db('sections').where({ tender_id: tenderId }).orderBy('seq')).map(section);
  },

  async sectionsOf(db: Runner, tenderIds: string[]): Promise<Section[]> {
    if (!tenderIds.length) return [];
    return (await db('sections').whereIn('tender_id', tenderIds).orderBy('seq')).map(section);
  },

  async setCustodians(db: Runner, tenderId: string, orgIds: string[]): Promise<void> {
    await db('tender_custodians').where({ tender_id: tenderId }).delete();
    await db('tender_custodians').insert(orgIds.map((o, i) => ({ tender_id: tenderId, organisation_id: o, position: i + 1 })));
  },

  async listCustodians(db: Runner, tenderId: string): Promise<string[]> {
    return (await db('tender_custodians').where({ tender_id: tenderId }).orderBy('position')).map((r: Row) => r.organisation_id);
  },

  async insertDocument(db: Runner, d: Omit<TenderDocument, 'id'> & { uploadedByUserId: string }): Promise<TenderDocument> {
    const [row] = await db('tender_documents')
      .insert({
        tender_id: d.tenderId,
        file_name: d.fileName,
        content_type: d.contentType,
        size_bytes: d.sizeBytes,
        sha256: d.sha256,
        blob_key: d.blobKey,
        uploaded_by_user_id: d.uploadedByUserId,
        uploaded_at: d.uploadedAt,
      })
      .returning('*');
    return document(row);
  },

  async listDocuments(db: Runner, tenderId: string): Promise<TenderDocument[]> {
    return (await db('tender_documents').where({ tender_id: tenderId }).orderBy('uploaded_at')).map(document);
  },

  async findDocument(db: Runner, tenderId: string, id: string): Promise<TenderDocument | null> {
    const row = await db('tender_documents').where({ tender_id: tenderId, id }).first();
    return row ? document(row) : null;
  },

  async insertClarification(db: Runner, c: Omit<Clarification, 'id' | 'seq'> & { issuedByUserId: string }): Promise<Clarification> {
    const [{ n }] = await db('clarifications').where({ tender_id: c.tenderId }).count({ n: '*' });
    const [row] = await db('clarifications')
      .insert({
        tender_id: c.tenderId,
        seq: Number(n) + 1,
        title: c.title,
        body: c.body,
        affects_bid_preparation: c.affectsBidPreparation,
        issued_at: c.issuedAt,
        deadline_before: c.deadlineBefore,
        deadline_after: c.deadlineAfter,
        issued_by_user_id: c.issuedByUserId,
      })
      .returning('*');
    return clarification(row);
  },

  async listClarifications(db: Runner, tenderId: string): Promise<Clarification[]> {
    return (await db('clarifications').where({ tender_id: tenderId }).orderBy('seq')).map(clarification);
  },
};
