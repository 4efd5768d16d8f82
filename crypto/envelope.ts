/**
 * CMS AuthEnvelopedData (RFC 5083) for sealed bids: AES-256-GCM content
 * encryption (RFC 5084) and RSAES-OAEP-SHA256 key transport (RFC 4055,
 * RFC 8017) to one or more recipient certificates. Interoperable with
 * `openssl cms -encrypt/-decrypt -aes-256-gcm` both ways.
 *
 * Everything streams: bids of several GB are never held in memory. Bulk
 * cryptography is Node's native crypto (OpenSSL).
 *
 * This module ships to bidders with the rest of crypto/: Node built-ins and
 * ./pki only, no server dependency. The implementation is in ./envelope/.
 */
export {
  EnvelopeError,
  type EnvelopeErrorCode,
  type EnvelopeInspection,
  type RecipientSummary,
  type RecipientId,
  type RecipientKey,
  type DecryptionKey,
} from './envelope/types';
export { encryptStream, encryptFile } from './envelope/encrypt';
export { decryptStream, decryptFile } from './envelope/decrypt';
export { createEnvelopeInspector, inspectFile } from './envelope/inspect';
export { recipientMatchesCertificate, unwrapContentKey } from './envelope/recipients';
export { sealBuffer, openBuffer } from './envelope/buffer';
