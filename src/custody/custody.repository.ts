/** The only knex for opening keys and their shares. */
import type { Runner } from '../db';

export interface OpeningKeyRecord {
  tenderId: string;
  certificateSerial: string;
  threshold: number;
  shareCount: number;
  wrappedPrivateKey: Buffer;
}

export interface ShareRecord {
  tenderId: string;
  organisationId: string;
  position: number;
  recipientCertificateSerial: string;
  sealedShare: Buffer;
  shareSha256: string;
  releasedAt: Date | null;
  releasedByUserId: string | null;
  releasedShareEnc: string | null;
}

type Row = Record<string, any>;

const share = (r: Row): ShareRecord => ({
  tenderId: r.tender_id,
  organisationId: r.organisation_id,
  position: r.position,
  recipientCertificateSerial: r.recipient_certificate_serial,
  sealedShare: Buffer.from(r.sealed_share),
  shareSha256: String(r.share_sha256).trim(),
  releasedAt: r.released_at ? new Date(r.released_at) : null,
  releasedByUserId: r.released_by_user_id ?? null,
  releasedShareEnc: r.released_share_enc ?? null,
});

export const custodyRepository = {
  async insertOpeningKey(db: Runner, k: OpeningKeyRecord, at: Date): Promise<void> {
    await db('opening_keys').insert({
      tender_id: k.tenderId,
      certificate_serial: k.certificateSerial,
      threshold: k.threshold,
      share_count: k.shareCount,
      wrapped_private_key: k.wrappedPrivateKey,
      created_at: at,
    });
  },

  async findOpeningKey(db: Runner, tenderId: string): Promise<OpeningKeyRecord | null> {
    const r = await db('opening_keys').where({ tender_id: tenderId }).first();
    return r
      ? {
          tenderId: r.tender_id,
          certificateSerial: r.certificate_serial,
          threshold: r.threshold,
          shareCount: r.share_count,
          wrappedPrivateKey: Buffer.from(r.wrapped_private_key),
        }
      : null;
  },

  async insertShares(db: Runner, shares: Array<Omit<ShareRecord, 'releasedAt' | 'releasedByUserId' | 'releasedShareEnc'>>): Promise<void> {
    await db('opening_key_shares').insert(
      shares.map((s) => ({
        tender_id: s.tenderId,
        organisation_id: s.organisationId,
        position: s.position,
        recipient_certificate_serial: s.recipientCertificateSerial,
        sealed_share: s.sealedShare,
        share_sha256: s.shareSha256,
      })),
    );
  },

  async listShares(db: Runner, tenderId: string): Promise<ShareRecord[]> {
    return (await db('opening_key_shares').where({ tender_id: tenderId }).orderBy('position')).map(share);
  },

  async findShare(db: Runner, tenderId: string, organisationId: string, forUpdate = false): Promise<ShareRecord | null> {
    const q = db('opening_key_shares').where({ tender_id: tenderId, organisation_id: organisationId }).first();
    if (forUpdate) q.forUpdate();
    const r = await q;
    return r ? share(r) : null;
  },

  async markReleased(db: Runner, tenderId: string, organisationId: string, userId: string, at: Date, shareEnc: string): Promise<void> {
    await db('opening_key_shares')
      .where({ tender_id: tenderId, organisation_id: organisationId })
      .update({ released_at: at, released_by_user_id: userId, released_share_enc: shareEnc });
  },

  /** The newest valid encryption certificate of an active user of the organisation: the share is sealed to it. */
  async custodianCertificate(db: Runner, organisationId: string, at: Date): Promise<{ serialHex: string; pem: string } | null> {
    const r = await db('certificates as c')
      .join('users as u', 'u.id', 'c.user_id')
      .where('c.organisation_id', organisationId)
      .where('c.usage', 'encryption')
      .where('c.status', 'valid')
      .where('u.status', 'active')
      .where('c.not_before', '<=', at)
      .where('c.not_after', '>', at)
      .orderBy('c.issued_at', 'desc')
      .select('c.serial_hex', 'c.pem')
      .first();
    return r ? { serialHex: r.serial_hex, pem: r.pem } : null;
  },
};
