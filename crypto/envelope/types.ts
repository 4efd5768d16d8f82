/**
 * Public types and the error class of the CMS envelope module.
 *
 * Like the rest of crypto/, this ships to bidders: Node built-ins only, no
 * server imports.
 */

export type EnvelopeErrorCode =
  | 'NOT_CMS'
  | 'NOT_AUTH_ENVELOPED'
  | 'UNSUPPORTED_ALGORITHM'
  | 'MALFORMED'
  | 'TRUNCATED'
  | 'TRAILING_DATA'
  | 'NO_MATCHING_RECIPIENT'
  | 'KEY_UNWRAP_FAILED'
  | 'TAG_MISMATCH'
  | 'SIZE_MISMATCH';

export class EnvelopeError extends Error {
  constructor(
    public code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

export type RecipientId =
  | { kind: 'issuerAndSerial'; issuerDerHex: string; serialHex: string }
  | { kind: 'subjectKeyIdentifier'; skiHex: string };

export interface RecipientSummary {
  /**
   * How the recipient's certificate is identified. `issuerDerHex` is the
   * issuer Name exactly as encoded in the envelope; `serialHex` is the
   * lower-case hex of the INTEGER's content octets (the form
   * `normalizeSerialHex` in pki.ts produces).
   */
  rid: RecipientId;
  /** 'rsaes-oaep-sha256' (OAEP, SHA-256, MGF1-SHA-256, empty label), otherwise the algorithm OID. */
  keyEncryption: 'rsaes-oaep-sha256' | string;
  encryptedKey: Buffer;
}

export interface EnvelopeInspection {
  recipients: RecipientSummary[];
  /** GCM nonce (12 bytes). */
  nonce: Buffer;
  /** Tag length in bytes from GCMParameters (12 when absent, 16 in what this module writes). */
  icvLen: number;
  /** The `mac` field: the GCM authentication tag. */
  tag: Buffer;
  /** Length of the ciphertext (= plaintext length under GCM), summed over BER chunks. */
  encryptedContentLength: number;
  /** Length of the whole envelope in bytes. */
  totalLength: number;
  /** Hex SHA-256 of the whole envelope; empty when the inspector was asked not to hash (its caller does). */
  sha256: string;
}

export type RecipientKey = { privateKeyPem: string; certificatePem: string };
export type DecryptionKey = RecipientKey | { contentKey: Buffer };
