/** The only knex for openings, sign-ins, decryptions, confirmations and objections. */
import type { Runner } from '../db';

export type OpeningState = 'signing-in' | 'decrypting' | 'failed' | 'announcing' | 'objections' | 'recorded' | 'closed';
export type DecryptionStatus = 'key-received' | 'decrypted' | 'failed';
export type BidOutcome = 'decrypted' | 'revoked' | 'withdrawn' | 'custodian-opened';
export type OpenedBy = 'bidder' | 'custodians';
/** The custodians' remedy of one bid (EB 31): waiting for k shares, opened with the rebuilt key, or failed even so. */
export type RemedyStatus = 'pending' | 'opened' | 'failed';

export interface SectionOutcome {
  sectionId: string;
  seq: number;
  validBids: number;
  failed: boolean;
}

export interface Opening {
  tenderId: string;
  state: OpeningState;
  pausedAt: Date | null;
  stateChangedAt: Date;
  decryptionStartedAt: Date | null;
  decryptionEndsAt: Date | null;
  confirmationEndsAt: Date | null;
  objectionEndsAt: Date | null;
  /** End of the custodians' remedy period, once one has begun (EB 31). */
  remedyEndsAt: Date | null;
  sectionOutcomes: SectionOutcome[];
  retenderRequired: boolean;
  recordBlobKey: string | null;
  recordSignature: Buffer | null;
  recordedAt: Date | null;
}

export interface BidDecryption {
  bidId: string;
  tenderId: string;
  status: DecryptionStatus;
  contentKeyEnc: string | null;
  keyReceivedAt: Date | null;
  decryptedAt: Date | null;
  failureCode: string | null;
  plaintextBlobKey: string | null;
  manifest: Record<string, any> | null;
  outcome: BidOutcome | null;
  cause: string | null;
  openedBy: OpenedBy | null;
  remedyStatus: RemedyStatus | null;
  remedyFailureCode: string | null;
}

export interface Objection {
  id: string;
  tenderId: string;
  bidderOrgId: string;
  raisedByUserId: string;
  text: string;
  raisedAt: Date;
  answer: string | null;
  answeredAt: Date | null;
}

type Row = Record<string, any>;
const date = (v: unknown) => (v ? new Date(v as string) : null);
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

const opening = (r: Row): Opening => ({
  tenderId: r.tender_id,
  state: r.state,
  pausedAt: date(r.paused_at),
  stateChangedAt: new Date(r.state_changed_at),
  decryptionStartedAt: date(r.decryption_started_at),
  decryptionEndsAt: date(r.decryption_ends_at),
  confirmationEndsAt: date(r.confirmation_ends_at),
  objectionEndsAt: date(r.objection_ends_at),
  remedyEndsAt: date(r.remedy_ends_at),
  sectionOutcomes: json(r.section_outcomes) ?? [],
  retenderRequired: r.retender_required,
  recordBlobKey: r.record_blob_key ?? null,
  recordSignature: r.record_signature ? Buffer.from(r.record_signature) : null,
  recordedAt: date(r.recorded_at),
});

const decryption = (r: Row): BidDecryption => ({
  bidId: r.bid_id,
  tenderId: r.tender_id,
  status: r.status,
  contentKeyEnc: r.content_key_enc ?? null,
  keyReceivedAt: date(r.key_received_at),
  decryptedAt: date(r.decrypted_at),
  failureCode: r.failure_code ?? null,
  plaintextBlobKey: r.plaintext_blob_key ?? null,
  manifest: json(r.manifest) ?? null,
  outcome: r.outcome ?? null,
  cause: r.cause ?? null,
  openedBy: r.opened_by ?? null,
  remedyStatus: r.remedy_status ?? null,
  remedyFailureCode: r.remedy_failure_code ?? null,
});

const objection = (r: Row): Objection => ({
  id: r.id,
  tenderId: r.tender_id,
  bidderOrgId: r.bidder_org_id,
  raisedByUserId: r.raised_by_user_id,
  text: r.text,
  raisedAt: new Date(r.raised_at),
  answer: r.answer ?? null,
  answeredAt: date(r.answered_at),
});

export const openingRepository = {
  async insert(db: Runner, tenderId: string, state: OpeningState, at: Date): Promise<boolean> {
    const rows = await db('openings')
      .insert({ tender_id: tenderId, state, state_changed_at: at, created_at: at })
      .onConflict('tender_id')
      .ignore()
      .returning('tender_id');
    return rows.length > 0;
  },

  async find(db: Runner, tenderId: string, forUpdate = false): Promise<Opening | null> {
    const q = db('openings').where({ tender_id: tenderId }).first();
    if (forUpdate) q.forUpdate();
    const r = await q;
    return r ? opening(r) : null;
  },

  async update(db: Runner, tenderId: string, patch: Record<string, unknown>): Promise<void> {
    if ('section_outcomes' in patch) patch = { ...patch, section_outcomes: JSON.stringify(patch.section_outcomes) };
    await db('openings').where({ tender_id: tenderId }).update(patch);
  },

  async signIn(db: Runner, s: { tenderId: string; bidderOrgId: string; userId: string; certificateSerial: string; at: Date }): Promise<boolean> {
    const rows = await db('opening_sign_ins')
      .insert({ tender_id: s.tenderId, bidder_org_id: s.bidderOrgId, user_id: s.userId, certificate_serial: s.certificateSerial, signed_in_at: s.at })
      .onConflict(['tender_id', 'bidder_org_id'])
      .ignore()
      .returning('tender_id');
    return rows.length > 0;
  },

  async signIns(db: Runner, tenderId: string): Promise<Array<{ bidderOrgId: string; signedInAt: Date }>> {
    const rows = await db('opening_sign_ins').where({ tender_id: tenderId }).orderBy('signed_in_at');
    return rows.map((r: Row) => ({ bidderOrgId: r.bidder_org_id, signedInAt: new Date(r.signed_in_at) }));
  },

  async findDecryption(db: Runner, bidId: string, forUpdate = false): Promise<BidDecryption | null> {
    const q = db('bid_decryptions').where({ bid_id: bidId }).first();
    if (forUpdate) q.forUpdate();
    const r = await q;
    return r ? decryption(r) : null;
  },

  async decryptions(db: Runner, tenderId: string): Promise<BidDecryption[]> {
    return (await db('bid_decryptions').where({ tender_id: tenderId })).map(decryption);
  },

  async receiveKey(db: Runner, bidId: string, tenderId: string, contentKeyEnc: string, at: Date): Promise<void> {
    await db('bid_decryptions')
      .insert({ bid_id: bidId, tender_id: tenderId, status: 'key-received', content_key_enc: contentKeyEnc, key_received_at: at, failure_code: null })
      .onConflict('bid_id')
      .merge(['status', 'content_key_enc', 'key_received_at', 'failure_code']);
  },

  async markDecrypted(db: Runner, bidId: string, at: Date, plaintextBlobKey: string, manifest: object, openedBy: OpenedBy = 'bidder'): Promise<void> {
    await db('bid_decryptions').where({ bid_id: bidId }).update({
      status: 'decrypted',
      decrypted_at: at,
      plaintext_blob_key: plaintextBlobKey,
      manifest: JSON.stringify(manifest),
      content_key_enc: null,
      opened_by: openedBy,
      ...(openedBy === 'custodians' ? { remedy_status: 'opened' } : {}),
    });
  },

  /** Bids whose failure was not the bidder's own enter the custodians' remedy (EB 31). */
  async startRemedy(db: Runner, tenderId: string, bidIds: string[]): Promise<void> {
    if (bidIds.length === 0) return;
    await db('bid_decryptions').where({ tender_id: tenderId, status: 'failed' }).whereIn('bid_id', bidIds).update({ remedy_status: 'pending' });
  },

  async pendingRemedies(db: Runner, tenderId: string): Promise<BidDecryption[]> {
    return (await db('bid_decryptions').where({ tender_id: tenderId, remedy_status: 'pending' }).orderBy('bid_id')).map(decryption);
  },

  async failRemedy(db: Runner, bidId: string, code: string): Promise<void> {
    await db('bid_decryptions').where({ bid_id: bidId, remedy_status: 'pending' }).update({ remedy_status: 'failed', remedy_failure_code: code });
  },

  async markFailed(db: Runner, bidId: string, failureCode: string): Promise<void> {
    await db('bid_decryptions').where({ bid_id: bidId }).update({ status: 'failed', failure_code: failureCode, content_key_enc: null });
  },

  async setOutcome(db: Runner, bidId: string, tenderId: string, outcome: BidOutcome, cause: string | null): Promise<void> {
    await db('bid_decryptions')
      .insert({ bid_id: bidId, tender_id: tenderId, status: outcome === 'decrypted' ? 'decrypted' : 'failed', outcome, cause })
      .onConflict('bid_id')
      .merge(['outcome', 'cause']);
  },

  async pendingDecryptions(db: Runner, tenderId: string): Promise<number> {
    const [{ n }] = await db('bid_decryptions').where({ tender_id: tenderId, status: 'key-received' }).count({ n: '*' });
    return Number(n);
  },

  async confirm(db: Runner, tenderId: string, bidderOrgId: string, kind: 'confirmed' | 'disputed' | 'deemed', at: Date): Promise<void> {
    await db('opening_confirmations')
      .insert({ tender_id: tenderId, bidder_org_id: bidderOrgId, kind, at })
      .onConflict(['tender_id', 'bidder_org_id'])
      .merge(['kind', 'at']);
  },

  async confirmations(db: Runner, tenderId: string): Promise<Array<{ bidderOrgId: string; kind: string; at: Date }>> {
    const rows = await db('opening_confirmations').where({ tender_id: tenderId });
    return rows.map((r: Row) => ({ bidderOrgId: r.bidder_org_id, kind: r.kind, at: new Date(r.at) }));
  },

  async insertObjection(db: Runner, o: { tenderId: string; bidderOrgId: string; userId: string; text: string; at: Date }): Promise<Objection> {
    const [r] = await db('opening_objections')
      .insert({ tender_id: o.tenderId, bidder_org_id: o.bidderOrgId, raised_by_user_id: o.userId, text: o.text, raised_at: o.at })
      .returning('*');
    return objection(r);
  },

  async answerObjection(db: Runner, id: string, tenderId: string, answer: string, userId: string, at: Date): Promise<Objection | null> {
    const [r] = await db('opening_objections')
      .where({ id, tender_id: tenderId })
      .whereNull('answer')
      .update({ answer, answered_at: at, answered_by_user_id: userId })
      .returning('*');
    return r ? objection(r) : null;
  },

  async objections(db: Runner, tenderId: string): Promise<Objection[]> {
    return (await db('opening_objections').where({ tender_id: tenderId }).orderBy('raised_at')).map(objection);
  },
};
