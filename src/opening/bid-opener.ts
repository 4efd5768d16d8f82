/**
 * Opens one sealed bid with its content key: streams the envelope from the blob store through AES-256-GCM into a
 * temporary file, checks the tag, unpacks the package within its limits and checks that its manifest names this
 * tender, section and bidder; the plaintext package is then kept in the blob store for evaluation. Failures that
 * are the bidder's own come back as a code; anything else throws (the job retries it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvelopeError, decryptStream } from '../../crypto/envelope';
import { PackageError, unpackBid, type Manifest } from '../../crypto/package';
import type { BlobStore } from '../shared/blobs';
import type { Bid } from '../bids/bids.repository';

export type OpenResult =
  | { ok: true; plaintextBlobKey: string; manifest: ManifestSummary }
  | { ok: false; code: 'TAG_MISMATCH' | 'MANIFEST_MISMATCH' | 'PACKAGE_INVALID' | `ENVELOPE_${string}` };

/** What the opening keeps of a manifest: the bid form and the document list (names, sizes, digests). */
export type ManifestSummary = Pick<Manifest, 'form' | 'documents' | 'tool' | 'machineFingerprint' | 'author' | 'createdAt'>;

export class BidOpener {
  constructor(private readonly blobs: BlobStore) {}

  async open(bid: Bid, contentKey: Buffer, bidder: { creditCode: string }): Promise<OpenResult> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-open-'));
    try {
      const zipPath = path.join(dir, 'bid.zip');
      await decryptStream(await this.blobs.get(bid.blobKey), fs.createWriteStream(zipPath, { mode: 0o600 }), { contentKey });
      const manifest = await unpackBid(zipPath, path.join(dir, 'files'));
      if (manifest.tenderId !== bid.tenderId || manifest.sectionId !== bid.sectionId || manifest.bidder.creditCode !== bidder.creditCode) {
        return { ok: false, code: 'MANIFEST_MISMATCH' };
      }
      const plaintextBlobKey = `opened/${bid.tenderId}/${bid.id}.zip`;
      await this.blobs.put(plaintextBlobKey, fs.createReadStream(zipPath));
      const { form, documents, tool, machineFingerprint, author, createdAt } = manifest;
      return { ok: true, plaintextBlobKey, manifest: { form, documents, tool, machineFingerprint, author, createdAt } };
    } catch (err) {
      if (err instanceof EnvelopeError) return { ok: false, code: err.code === 'TAG_MISMATCH' ? 'TAG_MISMATCH' : `ENVELOPE_${err.code}` };
      if (err instanceof PackageError) return { ok: false, code: 'PACKAGE_INVALID' };
      throw err;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
