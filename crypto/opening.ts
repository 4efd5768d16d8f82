/**
 * What a bidder signs when it hands its content key to the platform during the decryption window: the SHA-256 of a
 * fixed label, the bid's id and the key. Binding the bid id stops a key signed for one bid being replayed for
 * another; the label keeps the signature from meaning anything else.
 */
import crypto from 'node:crypto';

export const CONTENT_KEY_LABEL = 'gz-content-key:v1';

export function contentKeyDigest(bidId: string, contentKey: Buffer): string {
  return crypto
    .createHash('sha256')
    .update(`${CONTENT_KEY_LABEL}:${bidId}:`, 'utf8')
    .update(contentKey)
    .digest('hex');
}
