/**
 * Threshold custody of each tender's opening key (EB 27, EB 31). At publication the key pair is generated, its
 * certificate issued, the private key encrypted under a fresh random key-encryption key (KEK), and the KEK split
 * k-of-n with Shamir's scheme (an audited library; shares of a uniformly random secret, as it advises). Each share
 * is sealed in a CMS envelope to one custodian's encryption certificate; the KEK and the private key are then
 * dropped. Only after the deadline may custodians fetch and release their shares; k released shares rebuild the key
 * in memory, for bids whose decryption failed through no fault of the bidder.
 */
import crypto from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { generateRsaKeyPair } from '../../crypto/pki';
import { sealBuffer } from '../../crypto/envelope';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, type ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import type { CertificateService } from '../identity/certificates.service';
import { identityRepository } from '../identity/identity.repository';
import { openSecret, sealSecret } from '../identity/platform-keys';
import { tendersRepository, type Tender } from '../tenders/tenders.repository';
import { canSeeTender } from '../tenders/tender-access';
import {
  CustodianCertificateMissing,
  CustodyBeforeDeadline,
  NotACustodian,
  ShareAlreadyReleased,
  ShareInvalid,
  ThresholdNotReached,
} from './custody.errors';
import { custodyRepository as repo } from './custody.repository';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import { CUSTODIAN_OPEN_JOB } from '../opening/opening.jobs';

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

function wrapKey(kek: Uint8Array, privateKeyDer: Buffer): Buffer {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', kek, iv);
  const body = Buffer.concat([c.update(privateKeyDer), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]);
}

function unwrapKey(kek: Uint8Array, wrapped: Buffer): Buffer {
  const d = crypto.createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
  d.setAuthTag(wrapped.subarray(12, 28));
  return Buffer.concat([d.update(wrapped.subarray(28)), d.final()]);
}

export interface OpeningKeyView {
  tenderId: string;
  certificateSerial: string;
  certificatePem: string;
  threshold: number;
  custodians: Array<{ organisationId: string; name: string; position: number; released: boolean; releasedAt: Date | null }>;
}

export class CustodyService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly certificates: CertificateService,
    private readonly passphrase: string,
  ) {}

  /** Called inside the publication transaction: generates, certifies, wraps, splits and seals; keeps no key. */
  async createForTender(trx: Runner, ctx: ActionContext, tender: Tender): Promise<{ certificateSerial: string }> {
    const now = this.clock.now();
    const custodianIds = await tendersRepository.listCustodians(trx, tender.id);
    const recipients: Array<{ organisationId: string; serialHex: string; pem: string }> = [];
    for (const organisationId of custodianIds) {
      const cert = await repo.custodianCertificate(trx, organisationId, now);
      if (!cert) {
        const org = await identityRepository.findOrganisation(trx, organisationId);
        throw CustodianCertificateMissing({ organisationId, organisationName: org?.name ?? organisationId });
      }
      recipients.push({ organisationId, ...cert });
    }
    const keys = generateRsaKeyPair();
    const { serialHex } = await this.certificates.issueOpeningCertificate(trx, ctx, tender, keys.publicKeyPem);
    const privateKeyDer = crypto.createPrivateKey(keys.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
    // a plain Uint8Array: the library refuses Buffer
    const kek = new Uint8Array(crypto.randomBytes(32));
    try {
      const wrapped = wrapKey(kek, privateKeyDer);
      const shares = await split(kek, recipients.length, tender.custodianThreshold);
      const sealed = await Promise.all(shares.map((s, i) => sealBuffer(Buffer.from(s), [recipients[i].pem])));
      await repo.insertOpeningKey(
        trx,
        { tenderId: tender.id, certificateSerial: serialHex, threshold: tender.custodianThreshold, shareCount: shares.length, wrappedPrivateKey: wrapped },
        now,
      );
      await repo.insertShares(
        trx,
        recipients.map((r, i) => ({
          tenderId: tender.id,
          organisationId: r.organisationId,
          position: i + 1,
          recipientCertificateSerial: r.serialHex,
          sealedShare: sealed[i],
          shareSha256: sha256(shares[i]),
        })),
      );
      for (const s of shares) s.fill(0);
      await this.audit.append(trx, ctx, {
        action: 'custody.create',
        objectType: 'opening_key',
        objectId: serialHex,
        tenderId: tender.id,
        payload: {
          threshold: tender.custodianThreshold,
          custodians: recipients.map((r, i) => ({ organisationId: r.organisationId, position: i + 1, certificateSerial: r.serialHex })),
        },
      });
      return { certificateSerial: serialHex };
    } finally {
      kek.fill(0);
      privateKeyDer.fill(0);
    }
  }

  private async tenderOf(ctx: ActionContext, tenderId: string): Promise<Tender> {
    const actor = requireActor(ctx);
    const t = await tendersRepository.findTender(this.db, tenderId);
    if (!t || !canSeeTender(actor, t)) throw NotFound({ resource: '招标项目' });
    return t;
  }

  /** The opening certificate bidders encrypt to, and the custodians' release status. Public to whoever sees the tender. */
  async openingKey(ctx: ActionContext, tenderId: string): Promise<OpeningKeyView> {
    const tender = await this.tenderOf(ctx, tenderId);
    const key = await repo.findOpeningKey(this.db, tender.id);
    if (!key) throw NotFound({ resource: '开标密钥' });
    const cert = await identityRepository.findCertificate(this.db, key.certificateSerial);
    const shares = await repo.listShares(this.db, tender.id);
    const orgs = await identityRepository.listOrganisations(this.db, { ids: shares.map((s) => s.organisationId) });
    return {
      tenderId: tender.id,
      certificateSerial: key.certificateSerial,
      certificatePem: cert!.pem,
      threshold: key.threshold,
      custodians: shares.map((s) => ({
        organisationId: s.organisationId,
        name: orgs.find((o) => o.id === s.organisationId)?.name ?? '',
        position: s.position,
        released: s.releasedAt !== null,
        releasedAt: s.releasedAt,
      })),
    };
  }

  /**
   * Before the deadline nobody may hold a share in the clear: the attempt is refused and recorded as critical
   * (EB 27; opening a bid early and leaking it is collusion, TLR 41).
   */
  private async requireAfterDeadline(ctx: ActionContext, tender: Tender, action: string): Promise<void> {
    // the clock decides (EB 27), not whether the deadline job has sealed the tender yet
    if (this.clock.now().getTime() < tender.bidDeadline.getTime()) {
      await this.alerts.recordAndRaise(
        ctx,
        {
          action: 'custody.early-access',
          objectType: 'tender',
          objectId: tender.id,
          tenderId: tender.id,
          payload: { attempted: action, bidDeadline: tender.bidDeadline.toISOString() },
        },
        { rule: 'early-key-access', severity: 'critical', title: '投标截止前试图取得或释放开标密钥分片', basis: 'EB 27; TLR 41', fields: { attempted: action } },
      );
      throw CustodyBeforeDeadline({}, { bidDeadline: tender.bidDeadline.toISOString() });
    }
  }

  /** A custodian fetches its sealed share (after the deadline) to open it locally with `bidtool release-share`. */
  async sealedShare(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const tender = await this.tenderOf(ctx, tenderId);
    const share = await repo.findShare(this.db, tender.id, actor.orgId);
    if (!share) throw NotACustodian();
    await this.requireAfterDeadline(ctx, tender, 'fetch-share');
    await this.audit.record(ctx, { action: 'custody.share.fetch', objectType: 'opening_key', tenderId: tender.id, payload: { position: share.position } });
    return {
      position: share.position,
      recipientCertificateSerial: share.recipientCertificateSerial,
      sealedShare: share.sealedShare.toString('base64'),
    };
  }

  /** A custodian releases its opened share (after the deadline); checked against the digest taken at sealing. */
  async releaseShare(ctx: ActionContext, tenderId: string, shareBase64: string) {
    const actor = requireActor(ctx);
    const tender = await this.tenderOf(ctx, tenderId);
    if (!(await repo.findShare(this.db, tender.id, actor.orgId))) throw NotACustodian();
    await this.requireAfterDeadline(ctx, tender, 'release-share');
    const shareBytes = Buffer.from(shareBase64, 'base64');
    try {
      return await this.db.transaction(async (trx) => {
        const share = (await repo.findShare(trx, tender.id, actor.orgId, true))!;
        if (share.releasedAt) throw ShareAlreadyReleased();
        if (sha256(shareBytes) !== share.shareSha256) throw ShareInvalid();
        const now = this.clock.now();
        await repo.markReleased(trx, tender.id, actor.orgId, actor.userId, now, sealSecret(shareBytes, this.passphrase));
        await this.audit.append(trx, ctx, {
          action: 'custody.share.release',
          objectType: 'opening_key',
          tenderId: tender.id,
          payload: { position: share.position, organisationId: actor.orgId },
        });
        const released = (await repo.listShares(trx, tender.id)).filter((s) => s.releasedAt).length;
        const key = (await repo.findOpeningKey(trx, tender.id))!;
        // enough shares: bids waiting for the custodians' remedy (EB 31) can be opened now (a no-op if none waits)
        if (released >= key.threshold) await enqueueInTrx(trx, { ...CUSTODIAN_OPEN_JOB, payload: { tenderId: tender.id }, runAt: now });
        return { position: share.position, released, threshold: key.threshold };
      });
    } finally {
      shareBytes.fill(0);
    }
  }

  /**
   * Rebuilds the opening private key in memory from k released shares and checks it against the opening
   * certificate. For the opening's remedy (EB 31) only; the caller must not keep, log or queue the result.
   */
  async rebuildOpeningKey(tenderId: string): Promise<{ privateKeyPem: string; certificatePem: string }> {
    const tender = await tendersRepository.findTender(this.db, tenderId);
    const key = tender && (await repo.findOpeningKey(this.db, tender.id));
    if (!tender || !key) throw NotFound({ resource: '开标密钥' });
    if (this.clock.now().getTime() < tender.bidDeadline.getTime()) throw CustodyBeforeDeadline();
    const released = (await repo.listShares(this.db, tender.id)).filter((s) => s.releasedShareEnc);
    if (released.length < key.threshold) throw ThresholdNotReached({ released: released.length, threshold: key.threshold });
    const shares = released.slice(0, key.threshold).map((s) => new Uint8Array(openSecret(s.releasedShareEnc!, this.passphrase)));
    const kek = await combine(shares);
    try {
      const der = unwrapKey(kek, key.wrappedPrivateKey);
      const privateKey = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      der.fill(0);
      const cert = (await identityRepository.findCertificate(this.db, key.certificateSerial))!;
      const certKey = new crypto.X509Certificate(cert.pem).publicKey.export({ type: 'spki', format: 'der' });
      const rebuiltKey = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      if (!certKey.equals(rebuiltKey)) throw new Error('rebuilt opening key does not match its certificate');
      return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certificatePem: cert.pem };
    } finally {
      kek.fill(0);
      for (const s of shares) s.fill(0);
    }
  }
}
