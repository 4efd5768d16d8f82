/**
 * Key transport: recipient certificates, KeyTransRecipientInfo encoding,
 * RSAES-OAEP-SHA256 parameters, matching and unwrapping.
 *
 * RSA runs on Node's native crypto; certificates are only sliced (issuer
 * Name, serial, subjectKeyIdentifier) with the small DER reader, so the
 * issuer is written byte-for-byte as it appears in the certificate.
 */
import {
  constants as cryptoConstants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { PkiError } from '../pki';
import {
  CLASS,
  OID,
  TAG,
  decodeOidContent,
  derChildren,
  derContent,
  derElement,
  isContext,
  isUniversal,
  oidTlv,
  octetStringTlv,
  parseDerRoot,
  readDerNode,
  seq,
  smallIntegerTlv,
  tlv,
} from './der';
import { EnvelopeError, type RecipientKey, type RecipientSummary } from './types';

export const CONTENT_KEY_BYTES = 32;
export const RSAES_OAEP_SHA256 = 'rsaes-oaep-sha256';

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

export interface RecipientCertificate {
  issuerDer: Buffer;
  /** Content octets of the serialNumber INTEGER. */
  serial: Buffer;
  /** subjectKeyIdentifier extension value, when present. */
  ski: Buffer | null;
  publicKey: KeyObject;
}

/** Reads the parts of a certificate that identify it as a CMS recipient. */
export function readRecipientCertificate(certificatePem: string): RecipientCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certificatePem);
  } catch (e) {
    throw new PkiError('CERT_INVALID', `cannot read recipient certificate: ${errorMessage(e)}`);
  }
  const der = x509.raw;
  try {
    const cert = parseDerRoot(der);
    const tbs = derChildren(der, cert)[0];
    if (!tbs || !isUniversal(tbs, TAG.SEQUENCE)) throw new Error('no tbsCertificate');
    const fields = derChildren(der, tbs);
    let i = 0;
    if (fields[0] && isContext(fields[0], 0)) i++; // [0] version
    const serialNode = fields[i];
    const issuerNode = fields[i + 2];
    if (!serialNode || !isUniversal(serialNode, TAG.INTEGER)) throw new Error('no serialNumber');
    if (!issuerNode || !isUniversal(issuerNode, TAG.SEQUENCE)) throw new Error('no issuer');
    let ski: Buffer | null = null;
    const extsWrapper = fields.find((f) => isContext(f, 3));
    if (extsWrapper) {
      const exts = derChildren(der, extsWrapper)[0];
      if (!exts) throw new Error('empty extensions');
      for (const ext of derChildren(der, exts)) {
        const parts = derChildren(der, ext);
        if (parts[0] && isUniversal(parts[0], TAG.OID) && decodeOidContent(derContent(der, parts[0])) === OID.subjectKeyIdentifier) {
          const value = parts[parts.length - 1]!;
          const inner = derContent(der, value);
          const keyId = readDerNode(inner, 0);
          if (keyId.cls === CLASS.UNIVERSAL && keyId.tag === TAG.OCTET_STRING) ski = Buffer.from(derContent(inner, keyId));
        }
      }
    }
    const publicKey = x509.publicKey;
    if (publicKey.asymmetricKeyType !== 'rsa') {
      throw new PkiError('CERT_INVALID', `recipient certificate has a ${publicKey.asymmetricKeyType ?? 'non-RSA'} key; RSA is required`);
    }
    return {
      issuerDer: Buffer.from(derElement(der, issuerNode)),
      serial: Buffer.from(derContent(der, serialNode)),
      ski,
      publicKey,
    };
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('CERT_INVALID', `cannot read recipient certificate: ${errorMessage(e)}`);
  }
}

/** Strips redundant leading zero octets so serials compare by value. */
function canonicalSerialHex(hex: string): string {
  let h = hex.toLowerCase();
  while (h.length > 2 && h.startsWith('00') && parseInt(h.slice(2, 4), 16) < 0x80) h = h.slice(2);
  return h;
}

/**
 * Whether a recipient entry names this certificate: same issuer Name (DER)
 * and serial number, or same subjectKeyIdentifier. Throws PkiError
 * CERT_INVALID when the certificate cannot be read.
 */
export function recipientMatchesCertificate(r: RecipientSummary, certificatePem: string): boolean {
  const cert = readRecipientCertificate(certificatePem);
  return matches(r, cert);
}

function matches(r: RecipientSummary, cert: RecipientCertificate): boolean {
  if (r.rid.kind === 'issuerAndSerial') {
    return (
      r.rid.issuerDerHex.toLowerCase() === cert.issuerDer.toString('hex') &&
      canonicalSerialHex(r.rid.serialHex) === canonicalSerialHex(cert.serial.toString('hex'))
    );
  }
  return cert.ski !== null && r.rid.skiHex.toLowerCase() === cert.ski.toString('hex');
}

// ---------------------------------------------------------------------------
// RSAES-OAEP-SHA256
// ---------------------------------------------------------------------------

/**
 * AlgorithmIdentifier { id-RSAES-OAEP, RSAES-OAEP-params { hashFunc [0] sha256,
 * maskGenFunc [1] mgf1(sha256) } }, pSourceFunc left at its default (empty
 * label). Hash parameters are omitted, as OpenSSL writes them (RFC 4055
 * requires readers to accept both absent and NULL).
 */
export function oaepSha256AlgorithmIdentifier(): Buffer {
  const sha256 = seq(oidTlv(OID.sha256));
  return seq(oidTlv(OID.rsaesOaep), seq(tlv(0xa0, sha256), tlv(0xa1, seq(oidTlv(OID.mgf1), sha256))));
}

/** Whether a hash AlgorithmIdentifier (DER) is sha256 with absent or NULL parameters. */
function isSha256AlgId(der: Buffer, node: ReturnType<typeof readDerNode>): boolean {
  if (!isUniversal(node, TAG.SEQUENCE)) return false;
  const parts = derChildren(der, node);
  if (!parts[0] || !isUniversal(parts[0], TAG.OID) || decodeOidContent(derContent(der, parts[0])) !== OID.sha256) return false;
  if (parts.length === 1) return true;
  return parts.length === 2 && isUniversal(parts[1]!, TAG.NULL) && parts[1]!.end === parts[1]!.contentStart;
}

/**
 * Classifies a key-encryption AlgorithmIdentifier: 'rsaes-oaep-sha256' when it
 * is OAEP with SHA-256, MGF1-SHA-256 and the empty label; the OID otherwise.
 */
export function classifyKeyEncryption(oid: string, paramsDer: Buffer | null): string {
  if (oid !== OID.rsaesOaep || paramsDer === null) return oid;
  try {
    const params = parseDerRoot(paramsDer);
    if (!isUniversal(params, TAG.SEQUENCE)) return oid;
    let hashOk = false;
    let mgfOk = false;
    let lastTag = -1;
    for (const field of derChildren(paramsDer, params)) {
      if (field.cls !== CLASS.CONTEXT || !field.constructed || field.tag <= lastTag) return oid;
      lastTag = field.tag;
      const inner = derChildren(paramsDer, field);
      if (inner.length !== 1) return oid;
      const alg = inner[0]!;
      if (field.tag === 0) {
        hashOk = isSha256AlgId(paramsDer, alg);
      } else if (field.tag === 1) {
        if (!isUniversal(alg, TAG.SEQUENCE)) return oid;
        const parts = derChildren(paramsDer, alg);
        mgfOk =
          parts.length === 2 &&
          isUniversal(parts[0]!, TAG.OID) &&
          decodeOidContent(derContent(paramsDer, parts[0]!)) === OID.mgf1 &&
          isSha256AlgId(paramsDer, parts[1]!);
      } else if (field.tag === 2) {
        // pSourceFunc: only pSpecified with an empty label is the default.
        if (!isUniversal(alg, TAG.SEQUENCE)) return oid;
        const parts = derChildren(paramsDer, alg);
        const labelOk =
          parts.length === 2 &&
          isUniversal(parts[0]!, TAG.OID) &&
          decodeOidContent(derContent(paramsDer, parts[0]!)) === OID.pSpecified &&
          isUniversal(parts[1]!, TAG.OCTET_STRING) &&
          parts[1]!.end === parts[1]!.contentStart;
        if (!labelOk) return oid;
      } else {
        return oid;
      }
    }
    return hashOk && mgfOk ? RSAES_OAEP_SHA256 : oid;
  } catch {
    return oid;
  }
}

/** KeyTransRecipientInfo, version 0, rid issuerAndSerialNumber, RSAES-OAEP-SHA256. */
export function keyTransRecipientInfo(cert: RecipientCertificate, contentKey: Buffer): Buffer {
  const encryptedKey = publicEncrypt(
    { key: cert.publicKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    contentKey,
  );
  return seq(
    smallIntegerTlv(0),
    seq(cert.issuerDer, tlv(0x02, cert.serial)),
    oaepSha256AlgorithmIdentifier(),
    octetStringTlv(encryptedKey),
  );
}

// ---------------------------------------------------------------------------
// Unwrapping
// ---------------------------------------------------------------------------

function loadRecipientKey(key: RecipientKey): { privateKey: KeyObject; cert: RecipientCertificate } {
  if (!key || typeof key.privateKeyPem !== 'string' || typeof key.certificatePem !== 'string') {
    throw new TypeError('expected { privateKeyPem, certificatePem }');
  }
  const cert = readRecipientCertificate(key.certificatePem);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.privateKeyPem);
  } catch (e) {
    throw new PkiError('KEY_INVALID', `cannot read private key: ${errorMessage(e)}`);
  }
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!derived.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new PkiError('KEY_INVALID', 'the private key does not belong to the certificate');
  }
  return { privateKey, cert };
}

/**
 * Unwraps the 32-byte content key with the private key of the recipient whose
 * certificate matches. The caller owns the returned buffer and should
 * `fill(0)` it when done.
 *
 * Throws PkiError (CERT_INVALID / KEY_INVALID) for unusable credentials,
 * EnvelopeError NO_MATCHING_RECIPIENT when no recipient names the
 * certificate, UNSUPPORTED_ALGORITHM when the matching recipients use another
 * key transport than RSAES-OAEP-SHA256, KEY_UNWRAP_FAILED when decryption fails.
 */
export function unwrapContentKey(inspection: { recipients: RecipientSummary[] }, key: RecipientKey): Buffer {
  const { privateKey, cert } = loadRecipientKey(key);
  const candidates = inspection.recipients.filter((r) => matches(r, cert));
  if (candidates.length === 0) {
    throw new EnvelopeError('NO_MATCHING_RECIPIENT', 'the envelope is not addressed to this certificate');
  }
  const usable = candidates.filter((r) => r.keyEncryption === RSAES_OAEP_SHA256);
  if (usable.length === 0) {
    throw new EnvelopeError(
      'UNSUPPORTED_ALGORITHM',
      `the recipient entry for this certificate uses key transport ${candidates[0]!.keyEncryption}; only RSAES-OAEP with SHA-256 is supported`,
    );
  }
  for (const r of usable) {
    let contentKey: Buffer;
    try {
      contentKey = privateDecrypt(
        { key: privateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        r.encryptedKey,
      );
    } catch {
      continue;
    }
    if (contentKey.length === CONTENT_KEY_BYTES) return contentKey;
    contentKey.fill(0);
  }
  throw new EnvelopeError('KEY_UNWRAP_FAILED', 'the content key cannot be unwrapped with this private key');
}
