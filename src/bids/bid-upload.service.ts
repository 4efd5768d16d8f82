/**
 * Receiving a sealed bid (EB 26, EB 27, TL 28). A bidder declares the envelope's size, SHA-256 and detached
 * signature, then sends the bytes in one request or in ranged chunks that can be resumed after a dropped
 * connection. The request that delivers the last byte finishes the bid: the envelope is stored and checked in one
 * streaming pass, and the answer carries the time-stamped receipt. The server's clock at the last byte decides.
 * The server never sees a key or plaintext: it only checks structure, addressing, digest and signature.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { EnvelopeError, recipientMatchesCertificate, type EnvelopeInspection } from '../../crypto/envelope';
import { SignatureError, verifyDetachedSignature } from '../../crypto/signature';
import { createTimeStampResponse } from '../../crypto/timestamp';
import { randomSerialHex } from '../../crypto/pki';
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, type ActionContext, type Actor } from '../shared/access';
import { AppError, NotFound, PayloadTooLarge } from '../shared/errors';
import { bidMetrics } from '../shared/metrics';
import type { BlobStore } from '../shared/blobs';
import type { AuditService } from '../monitoring/audit.service';
import type { CertificateService } from '../identity/certificates.service';
import type { PlatformKeys } from '../identity/platform-keys';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository, type Tender } from '../tenders/tenders.repository';
import {
  BidAfterDeadline,
  BidEnvelopeMalformed,
  BidHashMismatch,
  BidMissingBidderRecipient,
  BidNotEncrypted,
  BidNotForThisTender,
  BidSignatureForeign,
  BidSignatureInvalid,
  BidTooLarge,
  SectionNotInTender,
  TenderNotAcceptingBids,
  UploadNotOpen,
  UploadOffsetMismatch,
} from './bids.errors';
import { bidsRepository as repo, type Bid, type BidUpload } from './bids.repository';
import { tapEnvelope } from './envelope-tap';
import { bidView, type BidView } from './bids.views';

export interface Submission {
  bid: BidView;
  receipt: { serialHex: string; genTime: Date; auditSeq: number; token: string };
  supersededBidId: string | null;
}

export interface ChunkResult {
  uploadId: string;
  offset: number;
  size: number;
  complete: boolean;
  /** With GET: open, complete, failed (and why) or aborted, so a client knows a dead upload at once. */
  status?: BidUpload['status'];
  failureCode?: string | null;
  bidId?: string | null;
  submission?: Submission;
}

const partKey = (uploadId: string, offset: number) => `uploads/${uploadId}/${String(offset).padStart(13, '0')}-${crypto.randomUUID()}`;
const bidKey = (tenderId: string, bidId: string) => `bids/${tenderId}/${bidId}.cms`;

export class BidUploadService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly blobs: BlobStore,
    private readonly certificates: CertificateService,
    private readonly keys: PlatformKeys,
    private readonly maxBidBytes: number,
  ) {}

  private async openTender(actor: Actor, tenderId: string): Promise<Tender> {
    const t = await tendersRepository.findTender(this.db, tenderId);
    if (!t || t.status === 'draft') throw NotFound({ resource: '招标项目' });
    if (t.status !== 'published') throw TenderNotAcceptingBids({ status: t.status });
    this.requireBeforeDeadline(t);
    return t;
  }

  /** EB 27: the server's clock decides; a bid whose last byte arrives after the deadline is not received. */
  private requireBeforeDeadline(t: Tender, at: Date = this.clock.now()): void {
    if (at.getTime() > t.bidDeadline.getTime()) throw BidAfterDeadline({ bidDeadline: t.bidDeadline.toISOString() });
  }

  /** The signature must verify over the declared digest, by a registered, valid signing certificate of the bidder. */
  private async checkSignature(actor: Actor, signature: Buffer, sha256: string): Promise<string> {
    let signerPem: string;
    try {
      signerPem = verifyDetachedSignature(signature, sha256).signerCertificatePem;
    } catch (err) {
      if (err instanceof SignatureError) throw BidSignatureInvalid({ reason: err.code });
      throw err;
    }
    const cert = await this.certificates.check(signerPem, 'signing');
    if (cert.organisationId !== actor.orgId) throw BidSignatureForeign();
    return cert.serialHex;
  }

  async start(
    ctx: ActionContext,
    tenderId: string,
    sectionId: string,
    input: { size: number; sha256: string; signature: Buffer },
  ): Promise<ChunkResult> {
    const actor = requireActor(ctx, 'bidder');
    const tender = await this.openTender(actor, tenderId);
    const sections = await tendersRepository.listSections(this.db, tender.id);
    if (!sections.some((s) => s.id === sectionId)) throw SectionNotInTender();
    if (input.size > this.maxBidBytes) throw BidTooLarge({ maxBytes: this.maxBidBytes });
    const signerSerial = await this.checkSignature(actor, input.signature, input.sha256);
    const upload = await this.db.transaction(async (trx) => {
      const u = await repo.insertUpload(trx, {
        tenderId: tender.id,
        sectionId,
        bidderOrgId: actor.orgId,
        userId: actor.userId,
        size: input.size,
        sha256: input.sha256,
        signature: input.signature,
        signerCertificateSerial: signerSerial,
        createdAt: this.clock.now(),
      });
      await this.audit.append(trx, ctx, {
        action: 'bid.upload.start',
        objectType: 'bid_upload',
        objectId: u.id,
        tenderId: tender.id,
        payload: { sectionId, size: input.size, sha256: input.sha256, signerCertificateSerial: signerSerial },
      });
      return u;
    });
    return { uploadId: upload.id, offset: 0, size: upload.size, complete: false };
  }

  /**
   * After the deadline, uploads that never finished are closed and their parts removed: an unfinished transfer
   * counts as withdrawn (EB 27). Called by the deadline job once the tender is sealed.
   */
  async expireOpenUploads(ctx: ActionContext, tenderId: string): Promise<number> {
    const open = await repo.openUploads(this.db, tenderId);
    if (open.length === 0) return 0;
    await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      for (const u of open) await repo.finishUpload(trx, u.id, 'aborted', now, { failureCode: 'DEADLINE_PASSED' });
      await this.audit.append(trx, ctx, {
        action: 'bid.uploads.expire',
        objectType: 'tender',
        objectId: tenderId,
        tenderId,
        payload: { uploads: open.map((u) => u.id) },
      });
    });
    for (const u of open) await this.deleteParts(u.partKeys);
    return open.length;
  }

  private async ownUpload(actor: Actor, uploadId: string): Promise<BidUpload> {
    const u = await repo.findUpload(this.db, uploadId);
    if (!u || u.bidderOrgId !== actor.orgId) throw NotFound({ resource: '上传' });
    return u;
  }

  async status(ctx: ActionContext, uploadId: string): Promise<ChunkResult> {
    const actor = requireActor(ctx, 'bidder');
    const u = await this.ownUpload(actor, uploadId);
    return {
      uploadId: u.id,
      offset: u.receivedBytes,
      size: u.size,
      complete: u.status === 'complete',
      status: u.status,
      failureCode: u.failureCode,
      bidId: u.bidId,
    };
  }

  async abort(ctx: ActionContext, uploadId: string): Promise<void> {
    const actor = requireActor(ctx, 'bidder');
    const u = await this.ownUpload(actor, uploadId);
    if (u.status !== 'open') throw UploadNotOpen({ status: u.status });
    await this.db.transaction(async (trx) => {
      await repo.finishUpload(trx, u.id, 'aborted', this.clock.now());
      await this.audit.append(trx, ctx, { action: 'bid.upload.abort', objectType: 'bid_upload', objectId: u.id, tenderId: u.tenderId });
    });
    await this.deleteParts(u.partKeys);
  }

  /**
   * Receives bytes at `offset`. A request carrying the whole envelope is stored and checked in a single pass; a
   * chunk is kept as a part, and the chunk completing the envelope assembles and checks the parts.
   */
  async append(ctx: ActionContext, uploadId: string, offset: number, body: Readable, contentLength: number | null): Promise<ChunkResult> {
    bidMetrics.uploadsInFlight.inc();
    try {
      return await this.appendChunk(ctx, uploadId, offset, body, contentLength);
    } finally {
      bidMetrics.uploadsInFlight.dec();
    }
  }

  private async appendChunk(ctx: ActionContext, uploadId: string, offset: number, body: Readable, contentLength: number | null): Promise<ChunkResult> {
    const actor = requireActor(ctx, 'bidder');
    const u = await this.ownUpload(actor, uploadId);
    if (u.status !== 'open') throw UploadNotOpen({ status: u.status });
    if (offset !== u.receivedBytes) throw UploadOffsetMismatch({ offset: u.receivedBytes });
    const tender = await this.openTender(actor, u.tenderId);
    const remaining = u.size - offset;
    if (contentLength !== null && contentLength > remaining) throw PayloadTooLarge({}, { remaining });

    if (offset === 0 && u.parts === 0 && contentLength === u.size) {
      const submission = await this.receiveWhole(ctx, actor, u, tender, body);
      bidMetrics.bytesReceived.inc(u.size);
      return { uploadId: u.id, offset: u.size, size: u.size, complete: true, submission };
    }

    const key = partKey(u.id, offset);
    const part = await this.blobs.put(key, body, { maxBytes: remaining });
    bidMetrics.bytesReceived.inc(part.size);
    if (!(await repo.advanceUpload(this.db, u.id, offset, key, part.size, this.clock.now()))) {
      await this.blobs.delete(key);
      const now = await repo.findUpload(this.db, u.id);
      throw UploadOffsetMismatch({ offset: now?.receivedBytes ?? offset });
    }
    const received = offset + part.size;
    if (received < u.size) return { uploadId: u.id, offset: received, size: u.size, complete: false };
    const partKeys = [...u.partKeys, key];
    const submission = await this.receiveWhole(ctx, actor, { ...u, partKeys }, tender, this.partsStream(partKeys));
    await this.deleteParts(partKeys);
    return { uploadId: u.id, offset: u.size, size: u.size, complete: true, submission };
  }

  private partsStream(keys: string[]): Readable {
    const blobs = this.blobs;
    async function* concat() {
      for (const key of keys) yield* (await blobs.get(key)) as AsyncIterable<Buffer>;
    }
    return Readable.from(concat());
  }

  private async deleteParts(keys: string[]): Promise<void> {
    for (const key of keys) await this.blobs.delete(key);
  }

  /** Stores the whole envelope while inspecting it, then checks it and, if it holds, records the bid. */
  private async receiveWhole(ctx: ActionContext, actor: Actor, u: BidUpload, tender: Tender, source: Readable): Promise<Submission> {
    const bidId = crypto.randomUUID();
    const key = bidKey(tender.id, bidId);
    const tap = tapEnvelope(source);
    // EB 27 judges the instant the last byte arrived, not when the bid's turn to be recorded comes: on a deadline
    // morning hundreds finish together and wait for the disk and the audit chain.
    let lastByteAt: Date | null = null;
    let lastByteMark = 0; // wall time, for the receipt-latency metric (platform time may be moved or frozen)
    source.once('end', () => {
      lastByteAt = this.clock.now();
      lastByteMark = performance.now();
    });
    const stored = await this.blobs.put(key, tap.stream, { maxBytes: u.size });
    try {
      if (stored.size !== u.size || stored.sha256 !== u.sha256) {
        throw BidHashMismatch({ declared: u.sha256, received: stored.sha256 }, { declaredSize: u.size, receivedSize: stored.size });
      }
      const inspection = await tap.inspection.catch((err: unknown) => {
        if (err instanceof EnvelopeError) {
          if (err.code === 'NOT_CMS' || err.code === 'NOT_AUTH_ENVELOPED' || err.code === 'UNSUPPORTED_ALGORITHM') {
            throw BidNotEncrypted({ reason: err.code });
          }
          throw BidEnvelopeMalformed({ reason: err.code });
        }
        throw err;
      });
      await this.checkAddressing(tender, actor, inspection);
      const submission = await this.record(ctx, actor, u, tender, bidId, key, inspection, lastByteAt ?? this.clock.now());
      bidMetrics.receipts.observe((performance.now() - lastByteMark) / 1000);
      return submission;
    } catch (err) {
      await this.blobs.delete(key);
      if (err instanceof AppError) {
        await this.db.transaction(async (trx) => {
          await repo.finishUpload(trx, u.id, 'failed', this.clock.now(), { failureCode: err.code });
          await this.audit.append(trx, ctx, {
            action: 'bid.refused',
            objectType: 'bid_upload',
            objectId: u.id,
            tenderId: tender.id,
            payload: { code: err.code, sectionId: u.sectionId },
          });
        });
        await this.deleteParts(u.partKeys);
      }
      throw err;
    }
  }

  /** EB 26: addressed to this tender's opening certificate, and to the bidder's own encryption certificate. */
  private async checkAddressing(tender: Tender, actor: Actor, inspection: EnvelopeInspection): Promise<void> {
    // the content key may travel only under RSA-OAEP-SHA256 (PKCS#1 v1.5 key transport is refused)
    if (inspection.recipients.some((r) => r.keyEncryption !== 'rsaes-oaep-sha256')) throw BidNotEncrypted({ reason: 'KEY_TRANSPORT_NOT_OAEP' });
    const opening = tender.openingCertificateSerial
      ? await identityRepository.findCertificate(this.db, tender.openingCertificateSerial)
      : null;
    if (!opening || !inspection.recipients.some((r) => recipientMatchesCertificate(r, opening.pem))) throw BidNotForThisTender();
    const own = await repo.bidderEncryptionCertificates(this.db, actor.orgId, this.clock.now());
    if (!inspection.recipients.some((r) => own.some((pem) => recipientMatchesCertificate(r, pem)))) throw BidMissingBidderRecipient();
  }

  private async record(
    ctx: ActionContext,
    actor: Actor,
    u: BidUpload,
    tender: Tender,
    bidId: string,
    blobKey: string,
    inspection: EnvelopeInspection,
    receivedAt: Date,
  ): Promise<Submission> {
    // The receipt is signed before any lock is taken: signing is the slow part, and bids finishing together must not
    // queue behind each other's signatures. Its time is the last byte's (EB 27); a token for a bid the transaction
    // then refuses is never handed out.
    const receiptSerial = randomSerialHex();
    const receiptToken = createTimeStampResponse({
      sha256Hex: u.sha256,
      tsa: this.keys.tsa,
      serialHex: receiptSerial,
      genTime: receivedAt,
      extraCertificatesPem: [this.keys.ca.certificatePem],
    });
    return this.db.transaction(async (trx) => {
      // shared: bids of many bidders are recorded at once, while a change of the tender (closing, a moved deadline)
      // waits for them, and they for it
      const t = (await tendersRepository.findTender(trx, tender.id, { forShare: true }))!;
      if (t.status !== 'published') throw TenderNotAcceptingBids({ status: t.status });
      // against the deadline as it stands now, at the instant the last byte arrived
      this.requireBeforeDeadline(t, receivedAt);
      // the same upload completed twice at once (a client retrying) yields one bid
      const locked = await repo.findUpload(trx, u.id, true);
      if (!locked || locked.status !== 'open') throw UploadNotOpen({ status: locked?.status ?? 'missing' });
      // a certificate revoked while the bytes were travelling no longer signs
      const signer = await identityRepository.findCertificate(trx, u.signerCertificateSerial);
      if (!signer || signer.status !== 'valid') throw BidSignatureInvalid({ reason: 'SIGNER_REVOKED' });
      await repo.lockBidderSection(trx, u.sectionId, actor.orgId);
      const previous = await repo.findCurrent(trx, u.sectionId, actor.orgId);
      const now = this.clock.now();
      const event = await this.audit.append(trx, ctx, {
        action: 'bid.submit',
        objectType: 'bid',
        objectId: bidId,
        tenderId: tender.id,
        payload: {
          sectionId: u.sectionId,
          sha256: u.sha256,
          size: u.size,
          signerCertificateSerial: u.signerCertificateSerial,
          receiptSerial,
          supersedes: previous?.id ?? null,
        },
      });
      if (previous) await repo.supersede(trx, previous.id, bidId, now);
      const bid: Bid = await repo.insertBid(trx, {
        id: bidId,
        tenderId: tender.id,
        sectionId: u.sectionId,
        bidderOrgId: actor.orgId,
        submittedByUserId: actor.userId,
        uploadId: u.id,
        status: 'current',
        blobKey,
        envelopeSha256: u.sha256,
        envelopeSize: u.size,
        signature: u.signature,
        signerCertificateSerial: u.signerCertificateSerial,
        recipients: inspection.recipients.map(({ encryptedKey: _k, ...r }) => r),
        receiptToken,
        receiptSerial,
        auditSeq: event.seq,
        receivedAt,
      });
      await repo.finishUpload(trx, u.id, 'complete', now, { bidId });
      return {
        bid: bidView(bid),
        receipt: { serialHex: receiptSerial, genTime: receivedAt, auditSeq: event.seq, token: receiptToken.toString('base64') },
        supersededBidId: previous?.id ?? null,
      };
    });
  }
}
