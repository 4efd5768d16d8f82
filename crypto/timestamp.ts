/**
 * RFC 3161 time-stamp queries, responses and tokens.
 *
 * The platform's TSA stamps an envelope's SHA-256 when the upload is accepted;
 * the token is the bidder's receipt and verifies with the stock OpenSSL tool:
 *   openssl ts -verify -data envelope.bin -in receipt.tsr -CAfile ca.pem
 *
 * A token is a CMS SignedData (built with crypto/signature.ts) whose
 * encapsulated content is a DER TSTInfo. The signed attributes include the
 * ESS signingCertificateV2 attribute (RFC 5035), which RFC 3161 §2.4.1 and
 * `openssl ts -verify` require.
 *
 * Like crypto/pki.ts and crypto/signature.ts this module ships to bidders:
 * Node built-ins and node-forge only.
 */
import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { checkCertificate, normalizeSerialHex, PkiError } from './pki';
import {
  buildSignedData,
  buf,
  children,
  der,
  derToPem,
  findSignerCertificate,
  hasEssSigningCertificate,
  isTag,
  OIDS,
  parseDer,
  parseSignedData,
  pemToDer,
  primitive,
  readOid,
  readSmallInt,
  readTime,
  SignatureError,
  toDerBuffer,
  uintMagnitude,
  verifySignerInfo,
  type ParsedSignedData,
} from './signature';

type Asn1 = forge.asn1.Asn1;
const U = forge.asn1.Class.UNIVERSAL;
const CTX = forge.asn1.Class.CONTEXT_SPECIFIC;
const T = forge.asn1.Type;

export type TimestampErrorCode = 'MALFORMED' | 'NOT_GRANTED' | 'IMPRINT_MISMATCH' | 'BAD_SIGNATURE' | 'UNTRUSTED' | 'WRONG_TSA';

export class TimestampError extends Error {
  constructor(
    public code: TimestampErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TimestampError';
  }
}

/**
 * TSA policy under which receipts are issued (TSTInfo.policy): "bid-envelope receipt policy v1", under the
 * project's own UUID-based arc (2.25.<uuid>, needing no registration; crypto/pki.ts uses `.1` of it for usage
 * markers). A trading centre that publishes its own TSA policy passes its OID as `policyOid`.
 */
export const RECEIPT_POLICY_OID = '2.25.117937374615443319275852934759764472297.2.1';

export interface TimeStampInfo {
  genTime: Date;
  /** TSTInfo serialNumber, canonical lower-case hex (see normalizeSerialHex). */
  serialHex: string;
  /** The stamped SHA-256 (messageImprint), lower-case hex. */
  sha256Hex: string;
  policyOid: string;
  /** Nonce as its unsigned big-endian magnitude (leading zero bytes dropped), or null. */
  nonce: Buffer | null;
  /** The TSA (signer) certificate when the token includes it, else null. */
  tsaCertificatePem: string | null;
}

const PKI_STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function fail(code: TimestampErrorCode, message: string): never {
  throw new TimestampError(code, message);
}

/** Runs `fn`, turning SignatureError codes into TimestampError codes. */
function mapped<R>(fn: () => R, codes: Partial<Record<SignatureError['code'], TimestampErrorCode>> = {}): R {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SignatureError) throw new TimestampError(codes[e.code] ?? 'MALFORMED', e.message);
    if (e instanceof PkiError && e.code === 'CERT_INVALID') throw new TimestampError('MALFORMED', e.message);
    throw e;
  }
}

function hexDigest(sha256Hex: string): Buffer {
  if (typeof sha256Hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256Hex)) {
    throw new RangeError('sha256Hex must be 64 hexadecimal characters');
  }
  return Buffer.from(sha256Hex, 'hex');
}

/** MessageImprint ::= SEQUENCE { hashAlgorithm (sha256, NULL params as OpenSSL writes), hashedMessage } */
function messageImprint(digest: Buffer): Asn1 {
  return der.seq([der.algorithm(OIDS.sha256, true), der.octets(digest)]);
}

function readMessageImprint(node: Asn1 | undefined): Buffer {
  const mi = children(node, 'messageImprint');
  const alg = children(mi[0], 'messageImprint hashAlgorithm');
  const oid = readOid(alg[0], 'messageImprint hashAlgorithm');
  if (oid !== OIDS.sha256) {
    throw new SignatureError('UNSUPPORTED_ALGORITHM', `messageImprint hash algorithm ${oid} is not supported (SHA-256 only)`);
  }
  if (alg[1] !== undefined && !isTag(alg[1], U, T.NULL)) throw new SignatureError('MALFORMED', 'messageImprint hash parameters must be NULL or absent');
  const digest = primitive(mi[1], T.OCTETSTRING, 'hashedMessage');
  if (digest.length !== 32) throw new SignatureError('MALFORMED', 'hashedMessage is not a SHA-256 digest');
  return digest;
}

function readNonce(node: Asn1): Buffer {
  const content = primitive(node, T.INTEGER, 'nonce');
  if (content.length === 0 || content[0]! & 0x80) throw new SignatureError('MALFORMED', 'nonce must be a non-negative INTEGER');
  return uintMagnitude(content);
}

function nonceNode(nonce: Buffer): Asn1 {
  if (!Buffer.isBuffer(nonce) || nonce.length === 0) throw new RangeError('nonce must be a non-empty Buffer');
  return der.uint(nonce);
}

function toGrantedDate(d: Date, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError(`${what} is not a valid date`);
  return d;
}

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

/**
 * DER TimeStampReq { version 1, messageImprint (SHA-256), nonce?, certReq TRUE }.
 * Without `nonce` no nonce is sent (pass e.g. randomBytes(8) to get one).
 */
export function createTimeStampQuery(sha256Hex: string, nonce?: Buffer): Buffer {
  const items = [der.int(1), messageImprint(hexDigest(sha256Hex))];
  if (nonce !== undefined) items.push(nonceNode(nonce));
  items.push(der.bool(true));
  return toDerBuffer(der.seq(items));
}

/**
 * Parses a DER TimeStampReq. Only SHA-256 imprints are accepted (MALFORMED
 * otherwise). reqPolicy and extensions are read past but not returned.
 */
export function parseTimeStampQuery(derBytes: Buffer): { sha256Hex: string; nonce: Buffer | null; certReq: boolean } {
  return mapped(() => {
    const req = children(parseDer(derBytes, 'time-stamp query'), 'TimeStampReq');
    if (readSmallInt(req[0], 'TimeStampReq version') !== 1) throw new SignatureError('MALFORMED', 'TimeStampReq version must be 1');
    const digest = readMessageImprint(req[1]);
    let i = 2;
    if (isTag(req[i], U, T.OID)) {
      readOid(req[i], 'reqPolicy');
      i++;
    }
    let nonce: Buffer | null = null;
    if (isTag(req[i], U, T.INTEGER)) nonce = readNonce(req[i++]!);
    let certReq = false;
    if (isTag(req[i], U, T.BOOLEAN)) certReq = primitive(req[i++], T.BOOLEAN, 'certReq')[0] !== 0;
    if (isTag(req[i], CTX, 0)) i++; // extensions
    if (i !== req.length) throw new SignatureError('MALFORMED', 'unexpected field in TimeStampReq');
    return { sha256Hex: digest.toString('hex'), nonce, certReq };
  });
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/**
 * Issues a granted DER TimeStampResp. The token's certificates contain the
 * TSA certificate plus `extraCertificatesPem`. genTime keeps milliseconds
 * (GeneralizedTime 'YYYYMMDDHHMMSS[.fff]Z', trailing fraction zeros removed as
 * DER requires); no accuracy field is written. The TSA certificate's usage is
 * not checked here (verifyTimeStampResponse does).
 */
export function createTimeStampResponse(opts: {
  sha256Hex: string;
  tsa: { certificatePem: string; privateKeyPem: string };
  serialHex: string;
  genTime: Date;
  policyOid?: string;
  nonce?: Buffer | null;
  extraCertificatesPem?: string[];
}): Buffer {
  const genTime = toGrantedDate(opts.genTime, 'genTime');
  const serial = Buffer.from(normalizeSerialHex(opts.serialHex), 'hex');
  const policy = opts.policyOid ?? RECEIPT_POLICY_OID;
  if (!/^[0-2](\.\d+)+$/.test(policy)) throw new RangeError(`policyOid "${policy}" is not a dotted OID`);

  const tst: Asn1[] = [der.int(1), der.oid(policy), messageImprint(hexDigest(opts.sha256Hex)), der.uint(serial), der.generalizedTime(genTime)];
  if (opts.nonce) tst.push(nonceNode(opts.nonce));
  const tstInfo = toDerBuffer(der.seq(tst));

  const token = buildSignedData({
    eContentType: OIDS.tstInfo,
    eContent: tstInfo,
    contentDigest: createHash('sha256').update(tstInfo).digest(),
    signer: opts.tsa,
    signingTime: genTime,
    extraCertificatesPem: opts.extraCertificatesPem,
  });
  const status = der.seq([der.int(0)]);
  return toDerBuffer(der.seq([status, parseDer(token, 'token')]));
}

interface ParsedResponse {
  token: Buffer;
  info: TimeStampInfo;
  signedData: ParsedSignedData;
  tsaCertDer: Buffer | null;
}

function parseTstInfo(content: Buffer): Omit<TimeStampInfo, 'tsaCertificatePem'> {
  const tst = children(parseDer(content, 'TSTInfo'), 'TSTInfo');
  if (readSmallInt(tst[0], 'TSTInfo version') !== 1) throw new SignatureError('MALFORMED', 'TSTInfo version must be 1');
  const policyOid = readOid(tst[1], 'TSTInfo policy');
  const digest = readMessageImprint(tst[2]);
  const serial = uintMagnitude(primitive(tst[3], T.INTEGER, 'TSTInfo serialNumber'));
  if (!isTag(tst[4], U, T.GENERALIZEDTIME)) throw new SignatureError('MALFORMED', 'TSTInfo genTime must be a GeneralizedTime');
  const genTime = readTime(tst[4], 'TSTInfo genTime');
  let i = 5;
  if (isTag(tst[i], U, T.SEQUENCE)) i++; // accuracy
  if (isTag(tst[i], U, T.BOOLEAN)) i++; // ordering
  let nonce: Buffer | null = null;
  if (isTag(tst[i], U, T.INTEGER)) nonce = readNonce(tst[i++]!);
  if (isTag(tst[i], CTX, 0)) i++; // tsa name
  if (isTag(tst[i], CTX, 1)) i++; // extensions
  if (i !== tst.length) throw new SignatureError('MALFORMED', 'unexpected field in TSTInfo');
  let serialHex = serial.toString('hex');
  try {
    serialHex = normalizeSerialHex(serialHex);
  } catch {
    // foreign TSA with a non-conforming serial: keep the raw hex
  }
  return { genTime, serialHex, sha256Hex: digest.toString('hex'), policyOid, nonce };
}

function parseResponse(derBytes: Buffer): ParsedResponse {
  return mapped(() => {
    const resp = children(parseDer(derBytes, 'time-stamp response'), 'TimeStampResp');
    const statusInfo = children(resp[0], 'PKIStatusInfo');
    const status = readSmallInt(statusInfo[0], 'PKIStatus');
    if (status !== 0 && status !== 1) {
      const text = isTag(statusInfo[1], U, T.SEQUENCE)
        ? (statusInfo[1].value as Asn1[])
            .filter((n) => isTag(n, U, T.UTF8))
            .map((n) => buf(n.value as string).toString('utf8'))
            .join('; ')
        : '';
      fail('NOT_GRANTED', `time-stamp request not granted: ${PKI_STATUS_TEXT[status] ?? `status ${status}`}${text ? ` (${text})` : ''}`);
    }
    if (resp[1] === undefined) throw new SignatureError('MALFORMED', 'granted response carries no time-stamp token');
    if (resp.length > 2) throw new SignatureError('MALFORMED', 'unexpected field in TimeStampResp');
    const signedData = parseSignedData(resp[1]);
    if (signedData.eContentType !== OIDS.tstInfo) throw new SignatureError('MALFORMED', `token content type is ${signedData.eContentType}, not id-ct-TSTInfo`);
    if (signedData.eContent === null) throw new SignatureError('MALFORMED', 'token has no TSTInfo content');
    const tst = parseTstInfo(signedData.eContent);
    let tsaCertDer: Buffer | null = null;
    try {
      tsaCertDer = findSignerCertificate(signedData);
    } catch (e) {
      if (!(e instanceof SignatureError && e.code === 'NO_SIGNER_CERTIFICATE')) throw e;
    }
    const info: TimeStampInfo = { ...tst, tsaCertificatePem: tsaCertDer ? derToPem(tsaCertDer, 'CERTIFICATE') : null };
    return { token: toDerBuffer(resp[1]), info, signedData, tsaCertDer };
  });
}

/**
 * Reads a TimeStampResp without verifying it: NOT_GRANTED when the status is
 * neither granted nor grantedWithMods, MALFORMED on bad structure. `token` is
 * the DER TimeStampToken (ContentInfo), e.g. for storage.
 */
export function parseTimeStampResponse(derBytes: Buffer): { token: Buffer; info: TimeStampInfo } {
  const { token, info } = parseResponse(derBytes);
  return { token, info };
}

/**
 * Fully verifies a TimeStampResp for `sha256Hex`:
 *  - the imprint is SHA-256 and equals `sha256Hex` (IMPRINT_MISMATCH);
 *  - the CMS signature over the TSTInfo is valid, including the mandatory ESS
 *    signing-certificate attribute (BAD_SIGNATURE);
 *  - the signer certificate (from the token, or `tsaCertificatePem` when the
 *    token was issued without certificates) was issued by the CA and was valid
 *    at `at` (default: genTime) (UNTRUSTED), and is a TSA certificate
 *    (WRONG_TSA).
 */
export function verifyTimeStampResponse(
  derBytes: Buffer,
  opts: { sha256Hex: string; caCertificatePem: string; at?: Date; tsaCertificatePem?: string },
): TimeStampInfo {
  const expected = hexDigest(opts.sha256Hex);
  const { info, signedData, tsaCertDer: embedded } = parseResponse(derBytes);
  if (info.sha256Hex !== expected.toString('hex')) {
    fail('IMPRINT_MISMATCH', 'the time-stamp token is over a different SHA-256');
  }

  let tsaCertDer = embedded;
  if (tsaCertDer === null && opts.tsaCertificatePem !== undefined) {
    const given = mapped(() => pemToDer(opts.tsaCertificatePem!));
    tsaCertDer = mapped(() => findSignerCertificate({ ...signedData, certificates: [given] }), { NO_SIGNER_CERTIFICATE: 'UNTRUSTED' });
  }
  if (tsaCertDer === null) fail('UNTRUSTED', 'the token does not include the TSA certificate');

  mapped(
    () => {
      if (!hasEssSigningCertificate(signedData.signer)) {
        throw new SignatureError('BAD_SIGNATURE', 'the token lacks the ESS signing-certificate attribute (RFC 3161 §2.4.1)');
      }
      verifySignerInfo(signedData, tsaCertDer, createHash('sha256').update(signedData.eContent!).digest());
    },
    { DIGEST_MISMATCH: 'BAD_SIGNATURE', BAD_SIGNATURE: 'BAD_SIGNATURE', UNSUPPORTED_ALGORITHM: 'BAD_SIGNATURE' },
  );

  const tsaPem = derToPem(tsaCertDer, 'CERTIFICATE');
  const at = opts.at ?? info.genTime;
  const check = mapped(() => checkCertificate(tsaPem, opts.caCertificatePem, at, 'tsa'));
  if (!check.ok) {
    if (check.problem === 'WRONG_USAGE') fail('WRONG_TSA', 'the token is not signed by a time-stamping (TSA) certificate');
    if (check.problem === 'NOT_ISSUED_BY_CA') fail('UNTRUSTED', 'the TSA certificate was not issued by the given CA');
    fail('UNTRUSTED', `the TSA certificate was not valid at ${at.toISOString()} (${check.problem})`);
  }
  return { ...info, tsaCertificatePem: tsaPem };
}
