/**
 * The custodians' remedy (EB 31) needs a bid's content key without the bidder: the envelope is addressed to the
 * tender's opening certificate as well (checked at upload), so the opening key rebuilt from k released shares
 * unwraps it. Only the envelope's structure is read here (one streaming pass, nothing kept); the key is the caller's
 * to zero, and neither it nor the opening key may reach a log, a job payload or an error.
 */
import { pipeline } from 'node:stream/promises';
import { createEnvelopeInspector, unwrapContentKey, type RecipientKey } from '../../crypto/envelope';
import type { BlobStore } from '../shared/blobs';

export async function unwrapWithOpeningKey(blobs: BlobStore, envelopeBlobKey: string, openingKey: RecipientKey): Promise<Buffer> {
  const { sink, result } = createEnvelopeInspector({ sha256: false });
  await pipeline(await blobs.get(envelopeBlobKey), sink);
  return unwrapContentKey(await result, openingKey);
}
