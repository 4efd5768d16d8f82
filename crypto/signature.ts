/**
 * Detached CMS signatures (RFC 5652 SignedData) over a bid envelope.
 *
 * The bidder signs the envelope's SHA-256 with its signing certificate; the
 * envelope itself is never embedded (detached signature), so a multi-gigabyte
 * envelope only needs to be hashed with a stream. The output is compatible
 * with `openssl cms -verify -binary -inform DER -content <file>` and this
 * module accepts detached signatures made by `openssl cms -sign -binary`.
 *
 * Like crypto/pki.ts this module ships to bidders: Node built-ins and
 * node-forge only, nothing from the server. node-forge builds and parses the
 * ASN.1; Node's native crypto hashes, signs and verifies (RSA PKCS#1 v1.5).
 *
 * Verification here is purely cryptographic: it finds the signer certificate
 * inside the SignedData and checks the signature with it. Whether that
 * certificate is trusted (issued by the platform CA, registered to the bidder,
 * not revoked, valid at the deadline) is decided by the caller.
 *
 * The "low-level CMS helpers" section at the end is shared with
 * crypto/timestamp.ts (RFC 3161 tokens are SignedData too); it is exported for
 * that reason only and is not meant as a stable API.
 */
import { createHash, createPrivateKey, createPublicKey, publicDecrypt, sign as nativeSign, verify as nativeVerify, constants as cryptoConstants, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import forge from 'node-forge';
import { derBytesToOid, normalizeSerialHex, oidToDerBytes, PkiError } from './pki';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

export type SignatureErrorCode = 'MALFORMED' | 'UNSUPPORTED_ALGORITHM' | 'DIGEST_MISMATCH' | 'BAD_SIGNATURE' | 'NO_SIGNER_CERTIFICATE';

export class SignatureError extends Error {
  constructor(
    public code: SignatureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface SigningKey {
  certificatePem: string;
  privateKeyPem: string;
}

export interface VerifiedSignature {
  signerCertificatePem: string;
  /** Canonical serial (see normalizeSerialHex) of the signer certificate. */
  signerSerialHex: string;
  /** The signingTime signed attribute: claimed by the signer, not trusted time. */
  signingTime: Date | null;
}

/** SHA-256 of a file as lower-case hex, read as a stream (constant memory). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const stream = fs.createReadStream(path);
    stream.on('error', reject);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Produces a detached CMS SignedData (DER ContentInfo) over content whose
 * SHA-256 is `sha256Hex`. Signed attributes: contentType (id-data),
 * signingTime (whole seconds: UTCTime for 1950..2049 as RFC 5652 requires),
 * messageDigest and signingCertificateV2 (RFC 5035). Throws RangeError for a
 * malformed digest and PkiError (KEY_INVALID / CERT_INVALID) when the key or
 * certificate cannot be read or do not belong together.
 */
export function signDigest(opts: { sha256Hex: string; certificatePem: string; privateKeyPem: string; signingTime: Date }): Buffer {
  return buildSignedData({
    eContentType: OIDS.data,
    eContent: null,
    contentDigest: hexDigest(opts.sha256Hex),
    signer: { certificatePem: opts.certificatePem, privateKeyPem: opts.privateKeyPem },
    signingTime: opts.signingTime,
  });
}

/** Hashes the file with a stream and signs its digest (detached). */
export async function signFile(path: string, key: SigningKey, signingTime: Date): Promise<{ signature: Buffer; sha256Hex: string }> {
  const sha256Hex = await sha256File(path);
  const signature = signDigest({ sha256Hex, certificatePem: key.certificatePem, privateKeyPem: key.privateKeyPem, signingTime });
  return { signature, sha256Hex };
}

/**
 * Verifies a detached CMS signature against the content's SHA-256.
 *
 * Checks, in order: structure (MALFORMED), digest and signature algorithms
 * (UNSUPPORTED_ALGORITHM; SHA-256 with RSA PKCS#1 v1.5 only), that the signer
 * certificate named by the SignerInfo's sid is included
 * (NO_SIGNER_CERTIFICATE), the RSA signature over the signed attributes
 * (BAD_SIGNATURE), the ESS signing-certificate attribute when present
 * (BAD_SIGNATURE if it names another certificate) and finally that the
 * messageDigest attribute equals `sha256Hex` (DIGEST_MISMATCH: a genuine
 * signature, but over other content).
 *
 * Exactly one SignerInfo is expected. A SignedData without signed attributes
 * (`openssl cms -sign -noattr`) is accepted too: its signature is then
 * checked directly against the digest. The signer certificate's trust is NOT
 * checked here. A `sha256Hex` that is not 64 hex digits (either case) is a
 * caller error: RangeError.
 */
export function verifyDetachedSignature(signatureDer: Buffer, sha256Hex: string): VerifiedSignature {
  const expected = hexDigest(sha256Hex);
  const sd = parseSignedData(signatureDer);
  if (sd.eContentType !== OIDS.data) {
    throw new SignatureError('MALFORMED', `expected a signature over data (id-data), got content type ${sd.eContentType}`);
  }
  const certDer = findSignerCertificate(sd);
  const { signingTime } = verifySignerInfo(sd, certDer, expected);
  return {
    signerCertificatePem: derToPem(certDer, 'CERTIFICATE'),
    signerSerialHex: serialHexOf(certDer),
    signingTime,
  };
}

// ---------------------------------------------------------------------------
// Low-level CMS helpers (shared with crypto/timestamp.ts; not a stable API)
// ---------------------------------------------------------------------------

/** Object identifiers used by the CMS and RFC 3161 code. */
export const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

const HASH_BY_OID: Record<string, string> = {
  [OIDS.sha1]: 'sha1',
  [OIDS.sha256]: 'sha256',
  [OIDS.sha384]: 'sha384',
  [OIDS.sha512]: 'sha512',
};

const U = asn1.Class.UNIVERSAL;
const CTX = asn1.Class.CONTEXT_SPECIFIC;
const T = asn1.Type;

export function bin(b: Buffer): string {
  return b.toString('binary');
}

export function buf(s: string): Buffer {
  return Buffer.from(s, 'binary');
}

export function toDerBuffer(node: Asn1): Buffer {
  return buf(asn1.toDer(node).getBytes());
}

/**
 * Parses DER (BER with definite or indefinite lengths is tolerated) into a
 * forge tree. BIT STRINGs are kept opaque so that re-encoding is byte-exact.
 * Throws SignatureError('MALFORMED').
 */
export function parseDer(der: Buffer, what: string): Asn1 {
  if (!Buffer.isBuffer(der) || der.length < 2) throw new SignatureError('MALFORMED', `${what} is empty or not a buffer`);
  try {
    const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
    return (asn1.fromDer as unknown as (b: string, o: typeof options) => Asn1)(bin(der), options);
  } catch (e) {
    throw new SignatureError('MALFORMED', `${what} is not valid DER: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const der = {
  seq: (items: Asn1[]): Asn1 => asn1.create(U, T.SEQUENCE, true, items),
  /** SET OF with DER ordering (elements sorted by their encodings). */
  set: (items: Asn1[]): Asn1 => asn1.create(U, T.SET, true, sortByEncoding(items)),
  oid: (oid: string): Asn1 => asn1.create(U, T.OID, false, bin(oidToDerBytes(oid))),
  nul: (): Asn1 => asn1.create(U, T.NULL, false, ''),
  bool: (v: boolean): Asn1 => asn1.create(U, T.BOOLEAN, false, v ? '\xff' : '\x00'),
  octets: (b: Buffer): Asn1 => asn1.create(U, T.OCTETSTRING, false, bin(b)),
  int: (n: number): Asn1 => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes()),
  /** Non-negative INTEGER from big-endian unsigned magnitude bytes. */
  uint: (magnitude: Buffer): Asn1 => asn1.create(U, T.INTEGER, false, bin(uintContent(magnitude))),
  /** [n] EXPLICIT (or a constructed IMPLICIT [n] holding `items`). */
  ctx: (n: number, items: Asn1[]): Asn1 => asn1.create(CTX, n as forge.asn1.Type, true, items),
  algorithm: (oid: string, nullParams: boolean): Asn1 => der.seq(nullParams ? [der.oid(oid), der.nul()] : [der.oid(oid)]),
  /** UTCTime for 1950..2049 (RFC 5652 §11.3), GeneralizedTime otherwise; whole seconds. */
  time: (d: Date): Asn1 => {
    const y = d.getUTCFullYear();
    const rest = [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
      .map((n) => String(n).padStart(2, '0'))
      .join('');
    if (y >= 1950 && y <= 2049) return asn1.create(U, T.UTCTIME, false, `${String(y % 100).padStart(2, '0')}${rest}Z`);
    return asn1.create(U, T.GENERALIZEDTIME, false, `${String(y).padStart(4, '0')}${rest}Z`);
  },
  /** GeneralizedTime with milliseconds, trailing fraction zeros removed (X.690 §11.7). */
  generalizedTime: (d: Date): Asn1 => {
    const p2 = (n: number): string => String(n).padStart(2, '0');
    let s =
      String(d.getUTCFullYear()).padStart(4, '0') +
      p2(d.getUTCMonth() + 1) +
      p2(d.getUTCDate()) +
      p2(d.getUTCHours()) +
      p2(d.getUTCMinutes()) +
      p2(d.getUTCSeconds());
    const ms = d.getUTCMilliseconds();
    if (ms !== 0) s += '.' + String(ms).padStart(3, '0').replace(/0+$/, '');
    return asn1.create(U, T.GENERALIZEDTIME, false, s + 'Z');
  },
};

function sortByEncoding(items: Asn1[]): Asn1[] {
  return items
    .map((node) => ({ node, enc: toDerBuffer(node) }))
    .sort((a, b) => Buffer.compare(a.enc, b.enc))
    .map((x) => x.node);
}

/** DER INTEGER content for a non-negative magnitude. */
function uintContent(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let m = magnitude.subarray(i);
  if (m.length === 0) m = Buffer.from([0]);
  return m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : Buffer.from(m);
}

/** Magnitude bytes of a non-negative INTEGER content (sign octet removed). */
export function uintMagnitude(content: Buffer): Buffer {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return Buffer.from(content.subarray(i));
}

// --- tree navigation with MALFORMED errors ---------------------------------

function malformed(message: string): never {
  throw new SignatureError('MALFORMED', message);
}

export function isTag(node: Asn1 | undefined, tagClass: number, type: number): boolean {
  return node !== undefined && node.tagClass === tagClass && node.type === type;
}

export function children(node: Asn1 | undefined, what: string, tagClass: number = U, type: number = T.SEQUENCE): Asn1[] {
  if (!node || node.tagClass !== tagClass || node.type !== type || !Array.isArray(node.value)) {
    malformed(`${what}: expected a constructed ${tagClass === U ? `universal ${type}` : `[${type}]`}`);
  }
  return node.value as Asn1[];
}

export function primitive(node: Asn1 | undefined, type: number, what: string): Buffer {
  if (!node || node.tagClass !== U || node.type !== type || typeof node.value !== 'string') {
    malformed(`${what}: expected universal type ${type}`);
  }
  return buf(node.value as string);
}

export function readOid(node: Asn1 | undefined, what: string): string {
  const content = primitive(node, T.OID, what);
  try {
    return derBytesToOid(content);
  } catch {
    return malformed(`${what}: bad OBJECT IDENTIFIER`);
  }
}

export function readSmallInt(node: Asn1 | undefined, what: string): number {
  const content = primitive(node, T.INTEGER, what);
  if (content.length === 0 || content.length > 4) malformed(`${what}: integer out of range`);
  return content.readIntBE(0, content.length);
}

/** Parses UTCTime / GeneralizedTime in UTC ('Z'), keeping milliseconds. */
export function readTime(node: Asn1 | undefined, what: string): Date {
  const isUtc = isTag(node, U, T.UTCTIME);
  if (!isUtc && !isTag(node, U, T.GENERALIZEDTIME)) malformed(`${what}: expected a time`);
  const s = buf((node as Asn1).value as string).toString('latin1');
  const m = isUtc
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d+))?Z$/.exec(s);
  if (!m) return malformed(`${what}: unsupported time format "${s}"`);
  let year = Number(m[1]);
  if (isUtc) year += year < 50 ? 2000 : 1900;
  const ms = !isUtc && m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-9) : 0;
  const d = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0'), ms));
  d.setUTCFullYear(year); // Date.UTC maps years 0..99 to 19xx
  if (Number.isNaN(d.getTime())) malformed(`${what}: invalid date "${s}"`);
  return d;
}

// --- PEM / certificates ----------------------------------------------------

export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) throw new PkiError('CERT_INVALID', 'not a PEM document');
  return Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
}

export function derToPem(derBytes: Buffer, label: string): string {
  const b64 = derBytes.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

interface CertFields {
  issuer: Asn1;
  issuerDer: Buffer;
  serial: Buffer; // magnitude
  ski: Buffer | null;
}

/** Extracts issuer, serial and subjectKeyIdentifier from a Certificate tree. */
function certFields(cert: Asn1): CertFields {
  const tbs = children(children(cert, 'certificate')[0], 'tbsCertificate');
  const off = isTag(tbs[0], CTX, 0) ? 1 : 0;
  const serial = uintMagnitude(primitive(tbs[off], T.INTEGER, 'certificate serial'));
  const issuer = tbs[off + 2];
  children(issuer, 'certificate issuer');
  let ski: Buffer | null = null;
  const extsWrapper = tbs.slice(off + 6).find((n) => isTag(n, CTX, 3));
  if (extsWrapper) {
    for (const ext of children(children(extsWrapper, 'extensions', CTX, 3)[0], 'extensions')) {
      const parts = children(ext, 'extension');
      if (readOid(parts[0], 'extension id') !== OIDS.subjectKeyIdentifier) continue;
      const value = primitive(parts[parts.length - 1], T.OCTETSTRING, 'extension value');
      ski = primitive(parseDer(value, 'subjectKeyIdentifier'), T.OCTETSTRING, 'subjectKeyIdentifier');
    }
  }
  return { issuer: issuer!, issuerDer: toDerBuffer(issuer!), serial, ski };
}

function serialHexOf(certDer: Buffer): string {
  const hex = certFields(parseDer(certDer, 'certificate')).serial.toString('hex');
  try {
    return normalizeSerialHex(hex);
  } catch {
    return hex;
  }
}

function readCertificatePem(pem: string): { der: Buffer; x509: X509Certificate } {
  try {
    const x509 = new X509Certificate(pem);
    return { der: x509.raw, x509 };
  } catch (e) {
    throw new PkiError('CERT_INVALID', `cannot read certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function readRsaPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new PkiError('KEY_INVALID', `cannot read private key: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new PkiError('KEY_INVALID', `expected an RSA private key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

function hexDigest(sha256Hex: string): Buffer {
  if (typeof sha256Hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256Hex)) {
    throw new RangeError('sha256Hex must be 64 hexadecimal characters');
  }
  return Buffer.from(sha256Hex, 'hex');
}

// --- building --------------------------------------------------------------

export interface BuildSignedDataOptions {
  eContentType: string;
  /** Encapsulated content, or null for a detached signature. */
  eContent: Buffer | null;
  /** SHA-256 of the content (of eContent when it is given). */
  contentDigest: Buffer;
  signer: SigningKey;
  signingTime: Date;
  /** Further certificates to include (e.g. the CA), besides the signer's. */
  extraCertificatesPem?: string[];
}

/**
 * Builds a DER ContentInfo(SignedData) with one SignerInfo (v1,
 * issuerAndSerialNumber, SHA-256, rsaEncryption) carrying the signed
 * attributes contentType, signingTime, messageDigest, signingCertificateV2.
 */
export function buildSignedData(opts: BuildSignedDataOptions): Buffer {
  if (!(opts.signingTime instanceof Date) || Number.isNaN(opts.signingTime.getTime())) throw new RangeError('signingTime is not a valid date');
  if (opts.contentDigest.length !== 32) throw new RangeError('contentDigest must be a SHA-256 digest (32 bytes)');
  const { der: certDer, x509 } = readCertificatePem(opts.signer.certificatePem);
  const key = readRsaPrivateKey(opts.signer.privateKeyPem);
  if (!createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(x509.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new PkiError('KEY_INVALID', 'private key does not match the signer certificate');
  }
  const certNode = parseDer(certDer, 'signer certificate');
  const fields = certFields(certNode);
  const extraNodes = (opts.extraCertificatesPem ?? []).map((pem) => parseDer(readCertificatePem(pem).der, 'extra certificate'));

  // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 } ; ESSCertIDv2 {
  // hashAlgorithm DEFAULT sha256 (omitted in DER), certHash, issuerSerial }
  const essCertId = der.seq([
    der.octets(createHash('sha256').update(certDer).digest()),
    der.seq([der.seq([der.ctx(4, [fields.issuer])]), der.uint(fields.serial)]),
  ]);
  const attr = (type: string, value: Asn1): Asn1 => der.seq([der.oid(type), der.set([value])]);
  const signedAttrs = der.set([
    attr(OIDS.contentType, der.oid(opts.eContentType)),
    attr(OIDS.signingTime, der.time(opts.signingTime)),
    attr(OIDS.messageDigest, der.octets(opts.contentDigest)),
    attr(OIDS.signingCertificateV2, der.seq([der.seq([essCertId])])),
  ]);
  // RFC 5652 §5.4: the signature covers the DER of the attributes with the
  // EXPLICIT SET OF tag, although they are stored as [0] IMPLICIT.
  const signature = nativeSign('sha256', toDerBuffer(signedAttrs), { key, padding: cryptoConstants.RSA_PKCS1_PADDING });
  const signedAttrsImplicit = der.ctx(0, signedAttrs.value as Asn1[]);

  const signerInfo = der.seq([
    der.int(1),
    der.seq([fields.issuer, der.uint(fields.serial)]),
    der.algorithm(OIDS.sha256, false),
    signedAttrsImplicit,
    der.algorithm(OIDS.rsaEncryption, true),
    der.octets(signature),
  ]);
  const encap = der.seq(
    opts.eContent === null ? [der.oid(opts.eContentType)] : [der.oid(opts.eContentType), der.ctx(0, [der.octets(opts.eContent)])],
  );
  const certificates = asn1.create(CTX, 0 as forge.asn1.Type, true, sortByEncoding([certNode, ...extraNodes]));
  const signedData = der.seq([
    // §5.1: version 3 when eContentType is not id-data, else 1.
    der.int(opts.eContentType === OIDS.data ? 1 : 3),
    der.set([der.algorithm(OIDS.sha256, false)]),
    encap,
    certificates,
    der.set([signerInfo]),
  ]);
  return toDerBuffer(der.seq([der.oid(OIDS.signedData), der.ctx(0, [signedData])]));
}

// --- parsing ---------------------------------------------------------------

export type SignerId = { kind: 'issuerSerial'; issuerDer: Buffer; serial: Buffer } | { kind: 'ski'; ski: Buffer };

export interface ParsedSignerInfo {
  sid: SignerId;
  digestAlgorithm: string;
  /** DER of the signed attributes re-tagged as SET OF (what is signed), or null. */
  signedAttrsDer: Buffer | null;
  /** Signed attributes by type; each entry is the list of values of one Attribute. */
  signedAttrs: Map<string, Asn1[][]>;
  signatureAlgorithm: string;
  signatureAlgorithmParams: Asn1 | undefined;
  signature: Buffer;
}

export interface ParsedSignedData {
  eContentType: string;
  eContent: Buffer | null;
  /** DER of each X.509 certificate in `certificates` (other choices skipped). */
  certificates: Buffer[];
  signer: ParsedSignerInfo;
}

/** Parses a ContentInfo(SignedData) given as DER or as an already parsed tree. */
export function parseSignedData(input: Buffer | Asn1): ParsedSignedData {
  const root = Buffer.isBuffer(input) ? parseDer(input, 'signature') : input;
  const ci = children(root, 'ContentInfo');
  if (readOid(ci[0], 'contentType') !== OIDS.signedData) malformed('ContentInfo is not signedData');
  const sd = children(children(ci[1], 'ContentInfo content', CTX, 0)[0], 'SignedData');
  let i = 0;
  readSmallInt(sd[i++], 'SignedData version');
  children(sd[i++], 'digestAlgorithms', U, T.SET);
  const encap = children(sd[i++], 'encapContentInfo');
  const eContentType = readOid(encap[0], 'eContentType');
  let eContent: Buffer | null = null;
  if (encap[1] !== undefined) {
    const inner = children(encap[1], 'eContent', CTX, 0)[0];
    // BER may split an OCTET STRING into a constructed one.
    if (inner && inner.tagClass === U && inner.type === T.OCTETSTRING && Array.isArray(inner.value)) {
      eContent = Buffer.concat((inner.value as Asn1[]).map((p) => primitive(p, T.OCTETSTRING, 'eContent segment')));
    } else {
      eContent = primitive(inner, T.OCTETSTRING, 'eContent');
    }
  }
  const certificates: Buffer[] = [];
  if (isTag(sd[i], CTX, 0)) {
    for (const choice of children(sd[i], 'certificates', CTX, 0)) {
      if (isTag(choice, U, T.SEQUENCE)) certificates.push(toDerBuffer(choice));
    }
    i++;
  }
  if (isTag(sd[i], CTX, 1)) i++; // crls
  const signerInfos = children(sd[i], 'signerInfos', U, T.SET);
  if (sd.length !== i + 1) malformed('unexpected fields after signerInfos');
  if (signerInfos.length !== 1) malformed(`expected exactly one SignerInfo, found ${signerInfos.length}`);
  return { eContentType, eContent, certificates, signer: parseSignerInfo(signerInfos[0]!) };
}

function parseSignerInfo(node: Asn1): ParsedSignerInfo {
  const si = children(node, 'SignerInfo');
  let i = 0;
  const version = readSmallInt(si[i++], 'SignerInfo version');
  const sidNode = si[i++];
  let sid: SignerId;
  if (isTag(sidNode, U, T.SEQUENCE)) {
    const parts = children(sidNode, 'issuerAndSerialNumber');
    children(parts[0], 'sid issuer');
    sid = { kind: 'issuerSerial', issuerDer: toDerBuffer(parts[0]!), serial: uintMagnitude(primitive(parts[1], T.INTEGER, 'sid serial')) };
    if (version !== 1) malformed('SignerInfo with issuerAndSerialNumber must be version 1');
  } else if (sidNode && isTag(sidNode, CTX, 0) && typeof sidNode.value === 'string') {
    sid = { kind: 'ski', ski: buf(sidNode.value) };
    if (version !== 3) malformed('SignerInfo with subjectKeyIdentifier must be version 3');
  } else {
    return malformed('SignerInfo sid is neither issuerAndSerialNumber nor subjectKeyIdentifier');
  }
  const digestAlgorithm = readOid(children(si[i++], 'digestAlgorithm')[0], 'digestAlgorithm');
  let signedAttrsDer: Buffer | null = null;
  const signedAttrs = new Map<string, Asn1[][]>();
  if (isTag(si[i], CTX, 0)) {
    const attrs = children(si[i], 'signedAttrs', CTX, 0);
    if (attrs.length === 0) malformed('signedAttrs is empty');
    for (const a of attrs) {
      const parts = children(a, 'Attribute');
      const type = readOid(parts[0], 'attribute type');
      const values = children(parts[1], 'attribute values', U, T.SET);
      signedAttrs.set(type, [...(signedAttrs.get(type) ?? []), values]);
    }
    signedAttrsDer = toDerBuffer(asn1.create(U, T.SET, true, attrs)); // original order, SET tag
    i++;
  }
  const sigAlg = children(si[i++], 'signatureAlgorithm');
  const signatureAlgorithm = readOid(sigAlg[0], 'signatureAlgorithm');
  const signature = primitive(si[i++], T.OCTETSTRING, 'signature');
  if (si[i] !== undefined && !isTag(si[i], CTX, 1)) malformed('unexpected field in SignerInfo');
  return { sid, digestAlgorithm, signedAttrsDer, signedAttrs, signatureAlgorithm, signatureAlgorithmParams: sigAlg[1], signature };
}

/** The single value of a signed attribute, undefined if absent; MALFORMED if repeated or multi-valued. */
export function singleAttr(si: ParsedSignerInfo, type: string): Asn1 | undefined {
  const entries = si.signedAttrs.get(type);
  if (!entries) return undefined;
  if (entries.length !== 1 || entries[0]!.length !== 1) malformed(`signed attribute ${type} must occur once with one value`);
  return entries[0]![0];
}

/** Finds the signer's certificate (DER) by sid; throws NO_SIGNER_CERTIFICATE. */
export function findSignerCertificate(sd: ParsedSignedData): Buffer {
  const sid = sd.signer.sid;
  for (const certDer of sd.certificates) {
    let fields: CertFields;
    try {
      fields = certFields(parseDer(certDer, 'certificate'));
    } catch {
      continue;
    }
    const match =
      sid.kind === 'issuerSerial'
        ? fields.serial.equals(sid.serial) && fields.issuerDer.equals(sid.issuerDer)
        : fields.ski !== null && fields.ski.equals(sid.ski);
    if (match) return certDer;
  }
  throw new SignatureError('NO_SIGNER_CERTIFICATE', 'the signer certificate is not included in the signature');
}

/**
 * Verifies the single SignerInfo with the given signer certificate against
 * the expected SHA-256 of the content. See verifyDetachedSignature for the
 * order of checks and the error codes.
 */
export function verifySignerInfo(sd: ParsedSignedData, signerCertDer: Buffer, expectedDigest: Buffer): { signingTime: Date | null } {
  const si = sd.signer;
  if (si.digestAlgorithm !== OIDS.sha256) throw new SignatureError('UNSUPPORTED_ALGORITHM', `digest algorithm ${si.digestAlgorithm} is not supported (SHA-256 only)`);
  if (si.signatureAlgorithm !== OIDS.rsaEncryption && si.signatureAlgorithm !== OIDS.sha256WithRSAEncryption) {
    throw new SignatureError('UNSUPPORTED_ALGORITHM', `signature algorithm ${si.signatureAlgorithm} is not supported (RSA PKCS#1 v1.5 only)`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = new X509Certificate(signerCertDer).publicKey;
  } catch (e) {
    throw new SignatureError('MALFORMED', `cannot read the signer certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw new SignatureError('UNSUPPORTED_ALGORITHM', `signer key type ${publicKey.asymmetricKeyType ?? 'unknown'} is not supported (RSA only)`);
  }

  if (si.signedAttrsDer === null) {
    // No signed attributes: the signature is over the content digest itself.
    let digestInfo: Buffer;
    try {
      digestInfo = publicDecrypt({ key: publicKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, si.signature);
    } catch {
      throw new SignatureError('BAD_SIGNATURE', 'the signature does not verify with the signer certificate');
    }
    const prefix = Buffer.from('3031300d060960864801650304020105000420', 'hex'); // DigestInfo(sha256) header
    if (digestInfo.length !== prefix.length + 32 || !digestInfo.subarray(0, prefix.length).equals(prefix)) {
      throw new SignatureError('BAD_SIGNATURE', 'the signature does not verify with the signer certificate');
    }
    if (!digestInfo.subarray(prefix.length).equals(expectedDigest)) {
      throw new SignatureError('DIGEST_MISMATCH', 'the signature is over different content');
    }
    return { signingTime: null };
  }

  // Structure of the mandatory attributes (RFC 5652 §5.3).
  const ct = singleAttr(si, OIDS.contentType);
  if (!ct) malformed('signed attributes lack contentType');
  if (readOid(ct, 'contentType attribute') !== sd.eContentType) malformed('contentType attribute differs from eContentType');
  const md = singleAttr(si, OIDS.messageDigest);
  if (!md) malformed('signed attributes lack messageDigest');
  const messageDigest = primitive(md, T.OCTETSTRING, 'messageDigest');
  const st = singleAttr(si, OIDS.signingTime);
  const signingTime = st ? readTime(st, 'signingTime') : null;

  const ok = nativeVerify('sha256', si.signedAttrsDer, { key: publicKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, si.signature);
  if (!ok) throw new SignatureError('BAD_SIGNATURE', 'the signature does not verify with the signer certificate');

  checkEssSigningCertificate(si, signerCertDer);

  if (!messageDigest.equals(expectedDigest)) {
    throw new SignatureError('DIGEST_MISMATCH', 'the signature is over different content (messageDigest differs)');
  }
  return { signingTime };
}

/** Whether the signed attributes carry an ESS signing-certificate (v1 or v2) attribute. */
export function hasEssSigningCertificate(si: ParsedSignerInfo): boolean {
  return si.signedAttrs.has(OIDS.signingCertificateV2) || si.signedAttrs.has(OIDS.signingCertificate);
}

/**
 * RFC 2634 / RFC 5035: when a signing-certificate attribute is present its
 * first ESSCertID must identify the signer certificate (hash, and issuer and
 * serial when given). Protects against certificate substitution.
 */
function checkEssSigningCertificate(si: ParsedSignerInfo, certDer: Buffer): void {
  const v2 = singleAttr(si, OIDS.signingCertificateV2);
  const v1 = v2 ? undefined : singleAttr(si, OIDS.signingCertificate);
  const attr = v2 ?? v1;
  if (!attr) return;
  const certs = children(children(attr, 'SigningCertificate')[0], 'SigningCertificate certs');
  const first = children(certs[0], 'ESSCertID');
  let j = 0;
  let hashName = 'sha1';
  if (v2) {
    hashName = 'sha256';
    if (isTag(first[0], U, T.SEQUENCE)) {
      const algOid = readOid(children(first[j++], 'ESSCertIDv2 hashAlgorithm')[0], 'ESSCertIDv2 hashAlgorithm');
      const name = HASH_BY_OID[algOid];
      if (!name) throw new SignatureError('UNSUPPORTED_ALGORITHM', `ESSCertIDv2 hash algorithm ${algOid} is not supported`);
      hashName = name;
    }
  }
  const certHash = primitive(first[j++], T.OCTETSTRING, 'ESSCertID certHash');
  if (!createHash(hashName).update(certDer).digest().equals(certHash)) {
    throw new SignatureError('BAD_SIGNATURE', 'the signing-certificate attribute names a different certificate');
  }
  if (first[j] !== undefined) {
    const issuerSerial = children(first[j], 'IssuerSerial');
    const fields = certFields(parseDer(certDer, 'certificate'));
    const serial = uintMagnitude(primitive(issuerSerial[1], T.INTEGER, 'IssuerSerial serial'));
    const names = children(issuerSerial[0], 'IssuerSerial issuer');
    const nameMatches = names.some((gn) => isTag(gn, CTX, 4) && Array.isArray(gn.value) && toDerBuffer((gn.value as Asn1[])[0]!).equals(fields.issuerDer));
    if (!serial.equals(fields.serial) || !nameMatches) {
      throw new SignatureError('BAD_SIGNATURE', 'the signing-certificate attribute names a different issuer or serial');
    }
  }
}
