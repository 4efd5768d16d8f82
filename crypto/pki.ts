/**
 * PKI core for the bidder tool and the platform CA.
 *
 * This module ships alone to bidders: it must not import anything from the
 * server (no express, knex, src/...). Only Node built-ins and node-forge.
 *
 * Split of responsibilities:
 *  - Node's native `crypto` does key generation, challenge signatures,
 *    hashing and the certificate signature check (fast, OpenSSL-backed).
 *  - node-forge builds and parses X.509 certificates, PKCS#10 CSRs and
 *    PKCS#12 files (node's crypto has no API for producing these).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as nativeSign,
  verify as nativeVerify,
  constants as cryptoConstants,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import forge from 'node-forge';

const { pki, asn1 } = forge;

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

export type CertificateUsage = 'signing' | 'encryption' | 'opening' | 'tsa' | 'ca';

export const CERTIFICATE_USAGES: readonly CertificateUsage[] = ['signing', 'encryption', 'opening', 'tsa', 'ca'];

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface SubjectFields {
  commonName: string;
  organizationName?: string;
  organizationalUnitName?: string;
  countryName?: string;
  /** X.520 serialNumber (2.5.4.5), e.g. the unified social credit code. */
  serialNumber?: string;
}

export interface CsrInfo {
  subject: SubjectFields;
  publicKeyPem: string;
}

export interface CaMaterial {
  certificatePem: string;
  privateKeyPem: string;
}

export interface IssueOptions {
  ca: CaMaterial;
  publicKeyPem: string;
  subject: SubjectFields;
  usage: CertificateUsage;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateInfo {
  serialHex: string;
  subject: SubjectFields;
  issuer: SubjectFields;
  notBefore: Date;
  notAfter: Date;
  publicKeyPem: string;
  usage: CertificateUsage | 'unknown';
  /** Lower-case hex SHA-256 of the DER certificate, no separators. */
  fingerprintSha256: string;
}

export type ChainProblem = 'NOT_ISSUED_BY_CA' | 'NOT_YET_VALID' | 'EXPIRED' | 'WRONG_USAGE';

export type CheckResult =
  | { ok: true; info: CertificateInfo }
  | { ok: false; problem: ChainProblem; info?: CertificateInfo };

export type PkiErrorCode = 'CSR_INVALID' | 'CERT_INVALID' | 'KEY_INVALID';

export class PkiError extends Error {
  constructor(
    public code: PkiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PkiError';
  }
}

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const OID = {
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  certificatePolicies: '2.5.29.32',
} as const;

/**
 * Private certificate-policy OIDs that mark what a certificate is for.
 *
 * `encryption` and `opening` certificates have identical key-usage profiles
 * (both are CMS key-transport recipients), so the intended usage is recorded
 * as a (non-critical) certificatePolicies entry. The arc is a UUID-derived
 * OID (ITU-T X.667, 2.25.<uuid as integer>), which needs no registration:
 *   2.25.117937374615443319275852934759764472297  (platform arc)
 *     .1.1 signing  .1.2 encryption  .1.3 opening  .1.4 tsa
 */
export const USAGE_POLICY_ARC = '2.25.117937374615443319275852934759764472297.1';
const USAGE_POLICY_OIDS: Record<Exclude<CertificateUsage, 'ca'>, string> = {
  signing: `${USAGE_POLICY_ARC}.1`,
  encryption: `${USAGE_POLICY_ARC}.2`,
  opening: `${USAGE_POLICY_ARC}.3`,
  tsa: `${USAGE_POLICY_ARC}.4`,
};

const MIN_RSA_BITS = 2048;
const ACCEPTED_CSR_SIGNATURE_OIDS = new Set([
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
]);

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/** forge emits CRLF line endings; normalise to LF for files and comparisons. */
function lf(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Encodes a dotted OID as DER content bytes; BigInt handles UUID arcs (node-forge stops at 32 bits). */
export function oidToDerBytes(oid: string): Buffer {
  const parts = oid.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new RangeError(`invalid OID ${oid}`);
  const arcs = [parts[0] * 40n + parts[1], ...parts.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const bytes: number[] = [Number(arc & 0x7fn)];
    let rest = arc >> 7n;
    while (rest > 0n) {
      bytes.unshift(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    out.push(...bytes);
  }
  return Buffer.from(out);
}

/** Decodes DER OID content bytes to dotted form; BigInt handles UUID arcs. */
export function derBytesToOid(bytes: Buffer): string {
  if (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) !== 0) throw new RangeError('truncated OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let value = 0n;
  for (const b of bytes) {
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}

const USAGE_BY_POLICY_DER_HEX = new Map<string, Exclude<CertificateUsage, 'ca'>>(
  (Object.entries(USAGE_POLICY_OIDS) as [Exclude<CertificateUsage, 'ca'>, string][]).map(([usage, oid]) => [
    oidToDerBytes(oid).toString('hex'),
    usage,
  ]),
);

/** certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier } */
function usagePolicyExtension(usage: Exclude<CertificateUsage, 'ca'>): { id: string; critical: boolean; value: string } {
  const oidDer = oidToDerBytes(USAGE_POLICY_OIDS[usage]);
  const value = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, oidDer.toString('binary')),
    ]),
  ]);
  return { id: OID.certificatePolicies, critical: false, value: asn1.toDer(value).getBytes() };
}

function loadPrivateKey(privateKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (e) {
    throw new PkiError('KEY_INVALID', `cannot read private key: ${errorMessage(e)}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PkiError('KEY_INVALID', `expected an RSA private key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

function loadPublicKey(publicKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (e) {
    throw new PkiError('KEY_INVALID', `cannot read public key: ${errorMessage(e)}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PkiError('KEY_INVALID', `expected an RSA public key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

function spkiPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

function toForgePrivateKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return pki.privateKeyFromPem(pkcs8) as forge.pki.rsa.PrivateKey;
}

function toForgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  return pki.publicKeyFromPem(spkiPem(key)) as forge.pki.rsa.PublicKey;
}

/** X.520 PrintableString alphabet. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function validateSubject(subject: SubjectFields): void {
  if (!subject || typeof subject.commonName !== 'string' || subject.commonName.trim() === '') {
    throw new RangeError('subject.commonName is required');
  }
  if (subject.countryName !== undefined && !/^[A-Z]{2}$/.test(subject.countryName)) {
    throw new RangeError(`subject.countryName must be a two-letter ISO 3166 code, got "${subject.countryName}"`);
  }
}

/**
 * Builds forge attribute objects. CN, O, OU are UTF8String (Chinese names);
 * C is PrintableString (required by X.520); serialNumber is PrintableString
 * when its characters allow it (credit codes do), UTF8String otherwise.
 */
function subjectToAttributes(subject: SubjectFields): forge.pki.CertificateField[] {
  validateSubject(subject);
  const UTF8 = asn1.Type.UTF8 as unknown as forge.asn1.Class;
  const PRINTABLESTRING = asn1.Type.PRINTABLESTRING as unknown as forge.asn1.Class;
  const attrs: forge.pki.CertificateField[] = [];
  if (subject.countryName !== undefined) {
    attrs.push({ type: OID.countryName, value: subject.countryName, valueTagClass: PRINTABLESTRING });
  }
  if (subject.organizationName !== undefined && subject.organizationName !== '') {
    attrs.push({ type: OID.organizationName, value: subject.organizationName, valueTagClass: UTF8 });
  }
  if (subject.organizationalUnitName !== undefined && subject.organizationalUnitName !== '') {
    attrs.push({ type: OID.organizationalUnitName, value: subject.organizationalUnitName, valueTagClass: UTF8 });
  }
  attrs.push({ type: OID.commonName, value: subject.commonName, valueTagClass: UTF8 });
  if (subject.serialNumber !== undefined && subject.serialNumber !== '') {
    attrs.push({
      type: OID.serialNumber,
      value: subject.serialNumber,
      valueTagClass: PRINTABLE.test(subject.serialNumber) ? PRINTABLESTRING : UTF8,
    });
  }
  return attrs;
}

interface ParsedAttr {
  type?: string;
  value?: unknown;
  valueTagClass?: number;
}

/** Decodes a raw attribute value (forge keeps the DER content bytes). */
function decodeAttributeValue(attr: ParsedAttr): string {
  const raw = typeof attr.value === 'string' ? attr.value : '';
  switch (attr.valueTagClass) {
    case asn1.Type.UTF8:
      return forge.util.decodeUtf8(raw);
    case asn1.Type.BMPSTRING: {
      // UCS-2 big endian
      let s = '';
      for (let i = 0; i + 1 < raw.length; i += 2) s += String.fromCharCode((raw.charCodeAt(i) << 8) | raw.charCodeAt(i + 1));
      return s;
    }
    case 28: {
      // UniversalString (UCS-4 big endian)
      let s = '';
      for (let i = 0; i + 3 < raw.length; i += 4) {
        s += String.fromCodePoint(
          ((raw.charCodeAt(i) << 24) | (raw.charCodeAt(i + 1) << 16) | (raw.charCodeAt(i + 2) << 8) | raw.charCodeAt(i + 3)) >>> 0,
        );
      }
      return s;
    }
    default:
      // PrintableString / IA5String / T61String: single-byte
      return raw;
  }
}

function attributesToSubject(attrs: ParsedAttr[]): SubjectFields {
  const first = (oid: string): string | undefined => {
    const a = attrs.find((x) => x.type === oid);
    return a ? decodeAttributeValue(a) : undefined;
  };
  const subject: SubjectFields = { commonName: first(OID.commonName) ?? '' };
  const o = first(OID.organizationName);
  if (o !== undefined) subject.organizationName = o;
  const ou = first(OID.organizationalUnitName);
  if (ou !== undefined) subject.organizationalUnitName = ou;
  const c = first(OID.countryName);
  if (c !== undefined) subject.countryName = c;
  const sn = first(OID.serialNumber);
  if (sn !== undefined) subject.serialNumber = sn;
  return subject;
}

/**
 * Copies a parsed name so forge re-encodes it byte-for-byte: forge keeps the
 * raw UTF-8 bytes of parsed UTF8String values but re-encodes UTF8String values
 * on output, so those must be decoded first (otherwise the issuer name would
 * be double-encoded and no longer match the CA's subject).
 */
function reencodableAttributes(attrs: ParsedAttr[]): forge.pki.CertificateField[] {
  return attrs.map((a) => ({
    type: a.type,
    valueTagClass: a.valueTagClass as forge.asn1.Class | undefined,
    value: a.valueTagClass === asn1.Type.UTF8 ? forge.util.decodeUtf8(String(a.value ?? '')) : (a.value as string),
  }));
}

/**
 * Canonical form of a certificate serial: lower-case hex of the DER INTEGER
 * content, i.e. minimal length, with a 00 prefix when the high bit is set.
 */
export function normalizeSerialHex(serialHex: string): string {
  let hex = serialHex.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw new RangeError(`serial must be hexadecimal, got "${serialHex}"`);
  if (hex.length % 2 === 1) hex = '0' + hex;
  hex = hex.replace(/^(00)+/, '');
  if (hex === '') throw new RangeError('serial must be a positive integer');
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
  if (hex.length > 42 || (hex.length === 42 && !hex.startsWith('00'))) {
    throw new RangeError('serial must be at most 20 octets (RFC 5280)');
  }
  return hex;
}

export function randomSerialHex(): string {
  for (;;) {
    const hex = randomBytes(16).toString('hex');
    if (/[1-9a-f]/.test(hex)) return normalizeSerialHex(hex);
  }
}

function readForgeCertificate(pem: string, what = 'certificate'): forge.pki.Certificate {
  try {
    return pki.certificateFromPem(pem);
  } catch (e) {
    throw new PkiError('CERT_INVALID', `cannot read ${what}: ${errorMessage(e)}`);
  }
}

function readNativeCertificate(pem: string, what = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new PkiError('CERT_INVALID', `cannot read ${what}: ${errorMessage(e)}`);
  }
}

interface ForgeExt {
  name?: string;
  id?: string;
  critical?: boolean;
  value?: string;
  [flag: string]: unknown;
}

function findExt(cert: forge.pki.Certificate, name: string): ForgeExt | undefined {
  return (cert.extensions as ForgeExt[]).find((e) => e.name === name);
}

function usagePolicyOf(cert: forge.pki.Certificate): Exclude<CertificateUsage, 'ca'> | undefined {
  const ext = (cert.extensions as ForgeExt[]).find((e) => e.id === OID.certificatePolicies);
  if (!ext || typeof ext.value !== 'string') return undefined;
  try {
    const seq = asn1.fromDer(ext.value);
    for (const info of seq.value as forge.asn1.Asn1[]) {
      const oidNode = (info.value as forge.asn1.Asn1[])[0];
      if (!oidNode || typeof oidNode.value !== 'string') continue;
      const usage = USAGE_BY_POLICY_DER_HEX.get(Buffer.from(oidNode.value, 'binary').toString('hex'));
      if (usage) return usage;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Determines a certificate's usage from its extensions. The usage policy
 * marker decides between profiles that share key usages (encryption vs
 * opening); the key-usage extensions must match the profile the marker names,
 * otherwise the usage is 'unknown'. Without a marker (foreign certificates)
 * the usage is inferred from key usages alone, key transport meaning
 * 'encryption'.
 */
function detectUsage(cert: forge.pki.Certificate): CertificateUsage | 'unknown' {
  const bc = findExt(cert, 'basicConstraints');
  const ku = findExt(cert, 'keyUsage');
  const eku = findExt(cert, 'extKeyUsage');
  if (bc?.cA === true) return ku && ku.keyCertSign !== true ? 'unknown' : 'ca';
  if (!ku) return 'unknown';

  const isTsa = eku?.timeStamping === true && eku.critical === true && ku.digitalSignature === true;
  const isSigning =
    ku.digitalSignature === true && ku.nonRepudiation === true && ku.keyEncipherment !== true && eku?.timeStamping !== true;
  const isKeyTransport = ku.keyEncipherment === true && ku.digitalSignature !== true && ku.nonRepudiation !== true;

  const marker = usagePolicyOf(cert);
  if (marker) {
    switch (marker) {
      case 'tsa':
        return isTsa ? 'tsa' : 'unknown';
      case 'signing':
        return isSigning ? 'signing' : 'unknown';
      case 'encryption':
      case 'opening':
        return isKeyTransport ? marker : 'unknown';
    }
  }
  if (isTsa) return 'tsa';
  if (isSigning) return 'signing';
  if (isKeyTransport) return 'encryption';
  return 'unknown';
}

function extensionsForUsage(usage: CertificateUsage): ForgeExt[] {
  switch (usage) {
    case 'signing':
      return [
        { name: 'keyUsage', critical: true, digitalSignature: true, nonRepudiation: true },
        { name: 'extKeyUsage', clientAuth: true, emailProtection: true },
        usagePolicyExtension('signing'),
      ];
    case 'encryption':
    case 'opening':
      return [
        { name: 'keyUsage', critical: true, keyEncipherment: true, dataEncipherment: true },
        usagePolicyExtension(usage),
      ];
    case 'tsa':
      return [
        { name: 'keyUsage', critical: true, digitalSignature: true, nonRepudiation: true },
        // RFC 3161 §2.3: timeStamping must be the only EKU and critical.
        { name: 'extKeyUsage', critical: true, timeStamping: true },
        usagePolicyExtension('tsa'),
      ];
    case 'ca':
      throw new RangeError('issueCertificate does not issue CA certificates (the root has pathLen 0); use createRootCa');
    default:
      throw new RangeError(`unknown certificate usage "${String(usage)}"`);
  }
}

function assertDates(notBefore: Date, notAfter: Date): void {
  if (!(notBefore instanceof Date) || Number.isNaN(notBefore.getTime())) throw new RangeError('notBefore is not a valid date');
  if (!(notAfter instanceof Date) || Number.isNaN(notAfter.getTime())) throw new RangeError('notAfter is not a valid date');
  if (notAfter.getTime() <= notBefore.getTime()) throw new RangeError('notAfter must be after notBefore');
}

// ---------------------------------------------------------------------------
// Keys and CSRs
// ---------------------------------------------------------------------------

export function generateRsaKeyPair(bits = 2048): KeyPairPem {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS) throw new RangeError(`RSA key size must be at least ${MIN_RSA_BITS} bits`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export function createCsr(keys: KeyPairPem, subject: SubjectFields): string {
  const priv = loadPrivateKey(keys.privateKeyPem);
  const derivedPub = createPublicKey(priv);
  if (keys.publicKeyPem) {
    const givenPub = loadPublicKey(keys.publicKeyPem);
    if (!spkiDer(givenPub).equals(spkiDer(derivedPub))) {
      throw new PkiError('KEY_INVALID', 'public key does not belong to the private key');
    }
  }
  const csr = pki.createCertificationRequest();
  csr.publicKey = toForgePublicKey(derivedPub);
  csr.setSubject(subjectToAttributes(subject));
  csr.sign(toForgePrivateKey(priv), forge.md.sha256.create());
  return lf(pki.certificationRequestToPem(csr));
}

export function parseAndVerifyCsr(csrPem: string): CsrInfo {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = pki.certificationRequestFromPem(csrPem);
  } catch (e) {
    throw new PkiError('CSR_INVALID', `cannot read CSR: ${errorMessage(e)}`);
  }
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new PkiError('CSR_INVALID', 'CSR self-signature is invalid');
  if (!csr.signatureOid || !ACCEPTED_CSR_SIGNATURE_OIDS.has(csr.signatureOid)) {
    throw new PkiError('CSR_INVALID', `CSR signature algorithm ${csr.signatureOid ?? '?'} is not accepted (need RSA with SHA-256 or better)`);
  }
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!publicKey || !publicKey.n) throw new PkiError('CSR_INVALID', 'CSR has no RSA public key');
  if (publicKey.n.bitLength() < MIN_RSA_BITS) {
    throw new PkiError('CSR_INVALID', `CSR key is ${publicKey.n.bitLength()} bits; at least ${MIN_RSA_BITS} required`);
  }
  const subject = attributesToSubject(csr.subject.attributes as ParsedAttr[]);
  if (subject.commonName.trim() === '') throw new PkiError('CSR_INVALID', 'CSR subject has no commonName');
  const publicKeyPem = spkiPem(createPublicKey(lf(pki.publicKeyToPem(publicKey))));
  return { subject, publicKeyPem };
}

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

export function createRootCa(subject: SubjectFields, opts: { notBefore: Date; validityDays: number }): CaMaterial {
  if (!(opts.validityDays > 0)) throw new RangeError('validityDays must be positive');
  const notAfter = new Date(opts.notBefore.getTime() + opts.validityDays * 86_400_000);
  assertDates(opts.notBefore, notAfter);

  const keys = generateRsaKeyPair(3072);
  const priv = createPrivateKey(keys.privateKeyPem);
  const cert = pki.createCertificate();
  cert.publicKey = toForgePublicKey(createPublicKey(keys.publicKeyPem));
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = notAfter;
  const attrs = subjectToAttributes(subject);
  cert.setSubject(attrs);
  cert.setIssuer(subjectToAttributes(subject));
  const ski = cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ski },
  ]);
  cert.sign(toForgePrivateKey(priv), forge.md.sha256.create());
  return { certificatePem: lf(pki.certificateToPem(cert)), privateKeyPem: keys.privateKeyPem };
}

export function issueCertificate(opts: IssueOptions): string {
  const extensions = extensionsForUsage(opts.usage);
  assertDates(opts.notBefore, opts.notAfter);
  const serial = normalizeSerialHex(opts.serialHex);

  const caCert = readForgeCertificate(opts.ca.certificatePem, 'CA certificate');
  if (findExt(caCert, 'basicConstraints')?.cA !== true) {
    throw new PkiError('CERT_INVALID', 'the given CA certificate is not a CA (basicConstraints cA is not set)');
  }
  const caKey = loadPrivateKey(opts.ca.privateKeyPem);
  const caCertPub = createPublicKey(lf(pki.publicKeyToPem(caCert.publicKey)));
  if (!spkiDer(createPublicKey(caKey)).equals(spkiDer(caCertPub))) {
    throw new PkiError('KEY_INVALID', 'CA private key does not match the CA certificate');
  }
  const subjectKey = loadPublicKey(opts.publicKeyPem);

  // Authority key identifier: the CA's own SKI when present, else computed
  // the same way (SHA-1 of the CA's RSAPublicKey), as OpenSSL does.
  const caSkiExt = findExt(caCert, 'subjectKeyIdentifier');
  const caKeyId =
    typeof caSkiExt?.subjectKeyIdentifier === 'string'
      ? forge.util.hexToBytes(caSkiExt.subjectKeyIdentifier)
      : caCert.generateSubjectKeyIdentifier().getBytes();

  const cert = pki.createCertificate();
  cert.publicKey = toForgePublicKey(subjectKey);
  cert.serialNumber = serial;
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  cert.setSubject(subjectToAttributes(opts.subject));
  cert.setIssuer(reencodableAttributes(caCert.subject.attributes as ParsedAttr[]));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId },
  ]);
  cert.sign(toForgePrivateKey(caKey), forge.md.sha256.create());
  return lf(pki.certificateToPem(cert));
}

export function parseCertificate(pem: string): CertificateInfo {
  const native = readNativeCertificate(pem);
  const cert = readForgeCertificate(pem);
  return {
    serialHex: cert.serialNumber.toLowerCase(),
    subject: attributesToSubject(cert.subject.attributes as ParsedAttr[]),
    issuer: attributesToSubject(cert.issuer.attributes as ParsedAttr[]),
    notBefore: new Date(cert.validity.notBefore.getTime()),
    notAfter: new Date(cert.validity.notAfter.getTime()),
    publicKeyPem: spkiPem(native.publicKey),
    usage: detectUsage(cert),
    fingerprintSha256: createHash('sha256').update(native.raw).digest('hex'),
  };
}

/**
 * Checks that `certPem` was issued (and signed) by `caCertPem`, is valid at
 * `at`, and, when `expectedUsage` is given, has that usage. Revocation is not
 * checked here (the server holds the revocation list). Malformed input is
 * reported by throwing PkiError('CERT_INVALID').
 */
export function checkCertificate(certPem: string, caCertPem: string, at: Date, expectedUsage?: CertificateUsage): CheckResult {
  const info = parseCertificate(certPem);
  const cert = readNativeCertificate(certPem);
  const ca = readNativeCertificate(caCertPem, 'CA certificate');
  const caForge = readForgeCertificate(caCertPem, 'CA certificate');

  // checkIssued compares names, key identifiers and the issuer's key usage;
  // verify checks the signature with the CA's public key (OpenSSL-backed).
  let signedByCa = false;
  try {
    signedByCa = findExt(caForge, 'basicConstraints')?.cA === true && cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    signedByCa = false;
  }
  if (!signedByCa) return { ok: false, problem: 'NOT_ISSUED_BY_CA', info };

  const t = at.getTime();
  if (t < info.notBefore.getTime()) return { ok: false, problem: 'NOT_YET_VALID', info };
  if (t > info.notAfter.getTime()) return { ok: false, problem: 'EXPIRED', info };
  if (expectedUsage !== undefined && info.usage !== expectedUsage) return { ok: false, problem: 'WRONG_USAGE', info };
  return { ok: true, info };
}

// ---------------------------------------------------------------------------
// Challenge signatures
// ---------------------------------------------------------------------------

export function signChallenge(privateKeyPem: string, message: string): string {
  const key = loadPrivateKey(privateKeyPem);
  return nativeSign('sha256', Buffer.from(message, 'utf8'), {
    key,
    padding: cryptoConstants.RSA_PKCS1_PADDING,
  }).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function verifyChallengeSignature(certOrPublicKeyPem: string, message: string, signatureBase64: string): boolean {
  try {
    if (typeof certOrPublicKeyPem !== 'string' || typeof message !== 'string' || typeof signatureBase64 !== 'string') return false;
    const sigText = signatureBase64.replace(/\s+/g, '');
    if (sigText === '' || !BASE64.test(sigText)) return false;
    const key = certOrPublicKeyPem.includes('CERTIFICATE-----')
      ? new X509Certificate(certOrPublicKeyPem).publicKey
      : createPublicKey(certOrPublicKeyPem);
    if (key.asymmetricKeyType !== 'rsa') return false;
    return nativeVerify(
      'sha256',
      Buffer.from(message, 'utf8'),
      { key, padding: cryptoConstants.RSA_PKCS1_PADDING },
      Buffer.from(sigText, 'base64'),
    );
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// PKCS#12
// ---------------------------------------------------------------------------

/**
 * Bundles key + certificate + CA certificate into a password-protected
 * PKCS#12: the key is shrouded with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC),
 * integrity is an HMAC-SHA1 MAC (what Windows/macOS/browser importers expect).
 * Opens with OpenSSL 3 without -legacy.
 *
 * Non-ASCII passwords: PBES2 takes the password as UTF-8 bytes while the
 * PKCS#12 MAC key derivation takes it as a BMPString (RFC 7292 B.1). forge
 * uses one string for both, so the MAC is computed here separately.
 */
export function toPkcs12(keyPem: string, certPem: string, caPem: string, password: string): Buffer {
  const key = loadPrivateKey(keyPem);
  const cert = readForgeCertificate(certPem);
  const caCert = readForgeCertificate(caPem, 'CA certificate');
  const certPub = createPublicKey(lf(pki.publicKeyToPem(cert.publicKey)));
  if (!spkiDer(createPublicKey(key)).equals(spkiDer(certPub))) {
    throw new PkiError('KEY_INVALID', 'private key does not match the certificate');
  }
  const friendlyName = attributesToSubject(cert.subject.attributes as ParsedAttr[]).commonName;
  const count = 10_000;
  const options = {
    algorithm: 'aes256' as const,
    prfAlgorithm: 'sha256', // passed through to pki.encryptPrivateKeyInfo
    count,
    saltSize: 16,
    friendlyName,
    useMac: false,
  };
  const pfx = forge.pkcs12.toPkcs12Asn1(toForgePrivateKey(key), [cert, caCert], forge.util.encodeUtf8(password), options);

  // PFX ::= SEQUENCE { version, authSafe ContentInfo { data, [0] OCTET STRING }, macData }
  const pfxItems = pfx.value as forge.asn1.Asn1[];
  const authSafeContent = (((pfxItems[1]!.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!.value) as string;
  const macSalt = forge.random.getBytesSync(16);
  const macKey = forge.pkcs12.generateKey(password, forge.util.createBuffer(macSalt), 3, count, 20);
  const hmac = forge.hmac.create();
  hmac.start(forge.md.sha1.create(), macKey.getBytes());
  hmac.update(authSafeContent);
  const U = asn1.Class.UNIVERSAL;
  const T = asn1.Type;
  pfxItems.push(
    asn1.create(U, T.SEQUENCE, true, [
      asn1.create(U, T.SEQUENCE, true, [
        asn1.create(U, T.SEQUENCE, true, [
          asn1.create(U, T.OID, false, asn1.oidToDer(pki.oids.sha1!).getBytes()),
          asn1.create(U, T.NULL, false, ''),
        ]),
        asn1.create(U, T.OCTETSTRING, false, hmac.getMac().getBytes()),
      ]),
      asn1.create(U, T.OCTETSTRING, false, macSalt),
      asn1.create(U, T.INTEGER, false, asn1.integerToDer(count).getBytes()),
    ]),
  );
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary');
}
