/**
 * Streaming parser for ContentInfo { id-ct-authEnvelopedData, AuthEnvelopedData }
 * (RFC 5652, RFC 5083, RFC 5084), in DER or BER (indefinite lengths,
 * constructed encryptedContent of OCTET STRING chunks as `openssl cms -stream`
 * writes). The headers are parsed into small values; the encrypted content is
 * handed to a callback chunk by chunk and never held.
 *
 *   ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
 *   AuthEnvelopedData ::= SEQUENCE {
 *     version CMSVersion (0), originatorInfo [0] IMPLICIT OPTIONAL,
 *     recipientInfos SET OF RecipientInfo, authEncryptedContentInfo EncryptedContentInfo,
 *     authAttrs [1] IMPLICIT SET OF Attribute OPTIONAL, mac OCTET STRING,
 *     unauthAttrs [2] IMPLICIT SET OF Attribute OPTIONAL }
 *   EncryptedContentInfo ::= SEQUENCE { contentType OID,
 *     contentEncryptionAlgorithm AlgorithmIdentifier, encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
 *   GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
 */
import { CLASS, OID, TAG, decodeOidContent } from './der';
import { ByteReader, type TlvHeader } from './ber-reader';
import { classifyKeyEncryption } from './recipients';
import { EnvelopeError, type EnvelopeInspection, type RecipientSummary } from './types';

export const GCM_NONCE_BYTES = 12;
/** GCM limit: 2^32 - 2 blocks of plaintext. */
export const MAX_CONTENT_BYTES = (2 ** 32 - 2) * 16;
const MAX_RECIPIENTS = 256;
const MAX_CONTENT_DEPTH = 8;
const MAX_AUTH_ATTRS = 64 * 1024;

export interface EnvelopeHeader {
  recipients: RecipientSummary[];
  nonce: Buffer;
  icvLen: number;
}

export interface ParsedEnvelope extends EnvelopeHeader {
  /** DER of the authAttrs with the SET OF tag (the GCM AAD), or null when absent. */
  aad: Buffer | null;
  tag: Buffer;
  encryptedContentLength: number;
  totalLength: number;
}

export interface ParseHandlers {
  /** Called once the headers are read, before any content. */
  onHeader?(header: EnvelopeHeader): void | Promise<void>;
  /** Each piece of encrypted content, in order (a view: copy it to keep it). */
  onContent?(chunk: Buffer): void | Promise<void>;
}

const U = CLASS.UNIVERSAL;
const C = CLASS.CONTEXT;

const PKCS7_CONTENT_ARC = '1.2.840.113549.1.7.';
const SMIME_CONTENT_ARC = '1.2.840.113549.1.9.16.1.';

async function readOid(r: ByteReader, parent: TlvHeader, what: string): Promise<string> {
  const h = await r.expect(U, TAG.OID, what, { constructed: false });
  r.checkFits(h, parent, what);
  try {
    return decodeOidContent(await r.readPrimitive(h, what, 256));
  } catch (e) {
    if (e instanceof EnvelopeError) throw e;
    throw new EnvelopeError('MALFORMED', `malformed OID in ${what}`);
  }
}

async function readSmallInteger(r: ByteReader, parent: TlvHeader, what: string): Promise<number> {
  const h = await r.expect(U, TAG.INTEGER, what, { constructed: false });
  r.checkFits(h, parent, what);
  const v = await r.readPrimitive(h, what, 4);
  if (v.length === 0 || (v[0]! & 0x80) !== 0) throw new EnvelopeError('MALFORMED', `${what} must be a small non-negative INTEGER`);
  return v.reduce((acc, b) => acc * 256 + b, 0);
}

/** The outer ContentInfo, up to and including the [0] wrapper of the content. */
async function readContentInfo(r: ByteReader): Promise<{ ci: TlvHeader; explicit: TlvHeader }> {
  if (await r.atEnd()) throw new EnvelopeError('NOT_CMS', 'the input is empty');
  const first = await r.peek(0, 'ContentInfo');
  if (first !== 0x30) throw new EnvelopeError('NOT_CMS', 'the input is not a CMS ContentInfo (DER/BER SEQUENCE expected)');
  let ci: TlvHeader;
  let oid: string;
  try {
    ci = await r.readHeader('ContentInfo');
    const oidHeader = await r.readHeader('ContentInfo.contentType');
    if (oidHeader.cls !== U || oidHeader.tag !== TAG.OID || oidHeader.constructed) throw new Error('no contentType');
    r.checkFits(oidHeader, ci, 'ContentInfo.contentType');
    oid = decodeOidContent(await r.readPrimitive(oidHeader, 'ContentInfo.contentType', 64));
  } catch (e) {
    if (e instanceof EnvelopeError && e.code === 'TRUNCATED') throw e;
    throw new EnvelopeError('NOT_CMS', 'the input is not a CMS ContentInfo');
  }
  if (oid !== OID.authEnvelopedData) {
    if (oid.startsWith(PKCS7_CONTENT_ARC) || oid.startsWith(SMIME_CONTENT_ARC)) {
      throw new EnvelopeError('NOT_AUTH_ENVELOPED', `the CMS content type is ${oid}, not id-ct-authEnvelopedData (${OID.authEnvelopedData})`);
    }
    throw new EnvelopeError('NOT_CMS', `the input is not a CMS ContentInfo (content type ${oid})`);
  }
  const explicit = await r.expect(C, 0, 'ContentInfo.content [0]', { constructed: true });
  r.checkFits(explicit, ci, 'ContentInfo.content');
  return { ci, explicit };
}

async function readRecipientInfo(r: ByteReader, set: TlvHeader): Promise<RecipientSummary> {
  const what = 'RecipientInfo';
  const ri = await r.readHeader(what);
  r.checkFits(ri, set, what);
  if (ri.cls === C && ri.tag >= 1 && ri.tag <= 4) {
    const kinds = ['', 'KeyAgreeRecipientInfo', 'KEKRecipientInfo', 'PasswordRecipientInfo', 'OtherRecipientInfo'];
    throw new EnvelopeError('UNSUPPORTED_ALGORITHM', `${kinds[ri.tag]} recipients are not supported (only key transport)`);
  }
  if (ri.cls !== U || ri.tag !== TAG.SEQUENCE || !ri.constructed) throw new EnvelopeError('MALFORMED', 'malformed RecipientInfo');

  const version = await readSmallInteger(r, ri, 'KeyTransRecipientInfo.version');
  const ridHeader = await r.readHeader('KeyTransRecipientInfo.rid');
  r.checkFits(ridHeader, ri, 'KeyTransRecipientInfo.rid');
  let rid: RecipientSummary['rid'];
  if (ridHeader.cls === U && ridHeader.tag === TAG.SEQUENCE && ridHeader.constructed) {
    const issuerHeader = await r.expect(U, TAG.SEQUENCE, 'IssuerAndSerialNumber.issuer', { constructed: true });
    r.checkFits(issuerHeader, ridHeader, 'IssuerAndSerialNumber.issuer');
    const issuer = await r.readRawElement(issuerHeader, 'IssuerAndSerialNumber.issuer', 16 * 1024);
    const serialHeader = await r.expect(U, TAG.INTEGER, 'IssuerAndSerialNumber.serialNumber', { constructed: false });
    r.checkFits(serialHeader, ridHeader, 'IssuerAndSerialNumber.serialNumber');
    const serial = await r.readPrimitive(serialHeader, 'IssuerAndSerialNumber.serialNumber', 64);
    if (serial.length === 0) throw new EnvelopeError('MALFORMED', 'empty serial number');
    await r.expectEnd(ridHeader, 'IssuerAndSerialNumber');
    if (version !== 0) throw new EnvelopeError('MALFORMED', `KeyTransRecipientInfo with issuerAndSerialNumber must be version 0, not ${version}`);
    rid = { kind: 'issuerAndSerial', issuerDerHex: issuer.toString('hex'), serialHex: serial.toString('hex') };
  } else if (ridHeader.cls === C && ridHeader.tag === 0) {
    const ski = await r.readOctets(ridHeader, 'subjectKeyIdentifier', 256);
    if (version !== 2) throw new EnvelopeError('MALFORMED', `KeyTransRecipientInfo with subjectKeyIdentifier must be version 2, not ${version}`);
    rid = { kind: 'subjectKeyIdentifier', skiHex: ski.toString('hex') };
  } else {
    throw new EnvelopeError('MALFORMED', 'malformed RecipientIdentifier');
  }

  const alg = await r.expect(U, TAG.SEQUENCE, 'keyEncryptionAlgorithm', { constructed: true });
  r.checkFits(alg, ri, 'keyEncryptionAlgorithm');
  const algOid = await readOid(r, alg, 'keyEncryptionAlgorithm.algorithm');
  let params: Buffer | null = null;
  if (await r.hasMore(alg, 'keyEncryptionAlgorithm')) {
    const p = await r.readHeader('keyEncryptionAlgorithm.parameters');
    r.checkFits(p, alg, 'keyEncryptionAlgorithm.parameters');
    if (p.length === null) {
      await r.skipContent(p, 'keyEncryptionAlgorithm.parameters'); // BER parameters: reported by OID only
    } else {
      params = await r.readRawElement(p, 'keyEncryptionAlgorithm.parameters', 4096);
    }
    await r.expectEnd(alg, 'keyEncryptionAlgorithm');
  }
  const ekHeader = await r.expect(U, TAG.OCTET_STRING, 'encryptedKey');
  r.checkFits(ekHeader, ri, 'encryptedKey');
  const encryptedKey = await r.readOctets(ekHeader, 'encryptedKey', 4096);
  await r.expectEnd(ri, 'KeyTransRecipientInfo');
  return { rid, keyEncryption: classifyKeyEncryption(algOid, params), encryptedKey };
}

async function readContentEncryptionAlgorithm(r: ByteReader, eci: TlvHeader): Promise<{ nonce: Buffer; icvLen: number }> {
  const alg = await r.expect(U, TAG.SEQUENCE, 'contentEncryptionAlgorithm', { constructed: true });
  r.checkFits(alg, eci, 'contentEncryptionAlgorithm');
  const oid = await readOid(r, alg, 'contentEncryptionAlgorithm.algorithm');
  if (oid !== OID.aes256Gcm) {
    const name = oid === OID.aes128Gcm ? 'AES-128-GCM' : oid === OID.aes192Gcm ? 'AES-192-GCM' : oid;
    throw new EnvelopeError('UNSUPPORTED_ALGORITHM', `content encryption ${name} is not supported (AES-256-GCM required)`);
  }
  if (!(await r.hasMore(alg, 'contentEncryptionAlgorithm'))) throw new EnvelopeError('MALFORMED', 'GCMParameters are missing');
  const params = await r.expect(U, TAG.SEQUENCE, 'GCMParameters', { constructed: true });
  r.checkFits(params, alg, 'GCMParameters');
  const nonceHeader = await r.expect(U, TAG.OCTET_STRING, 'GCMParameters.aes-nonce');
  r.checkFits(nonceHeader, params, 'GCMParameters.aes-nonce');
  const nonce = await r.readOctets(nonceHeader, 'GCMParameters.aes-nonce', 64);
  let icvLen = 12;
  if (await r.hasMore(params, 'GCMParameters')) icvLen = await readSmallInteger(r, params, 'GCMParameters.aes-ICVlen');
  await r.expectEnd(params, 'GCMParameters');
  await r.expectEnd(alg, 'contentEncryptionAlgorithm');
  if (nonce.length !== GCM_NONCE_BYTES) {
    throw new EnvelopeError('UNSUPPORTED_ALGORITHM', `GCM nonce of ${nonce.length} bytes is not supported (12 required)`);
  }
  if (icvLen < 12 || icvLen > 16) throw new EnvelopeError('MALFORMED', `aes-ICVlen must be 12..16, not ${icvLen}`);
  return { nonce, icvLen };
}

/**
 * Streams the encrypted content: primitive [0], or constructed [0] of
 * OCTET STRING segments (themselves possibly constructed), either length form.
 */
async function streamContent(
  r: ByteReader,
  h: TlvHeader,
  onContent: (chunk: Buffer) => void | Promise<void>,
  depth: number,
): Promise<number> {
  const what = 'encryptedContent';
  if (!h.constructed) {
    let left = h.length!;
    while (left > 0) {
      const chunk = await r.readUpTo(left, what);
      left -= chunk.length;
      await onContent(chunk);
    }
    return h.length!;
  }
  if (depth >= MAX_CONTENT_DEPTH) throw new EnvelopeError('MALFORMED', 'encryptedContent is nested too deeply');
  let total = 0;
  while (await r.hasMore(h, what)) {
    const seg = await r.expect(U, TAG.OCTET_STRING, 'an encryptedContent segment');
    r.checkFits(seg, h, what);
    total += await streamContent(r, seg, onContent, depth + 1);
  }
  return total;
}

/**
 * Parses a whole envelope from the reader. Checks framing, algorithms, every
 * length and that nothing follows the end; reports the encrypted content
 * through `handlers.onContent` as it passes.
 */
export async function parseEnvelope(r: ByteReader, handlers: ParseHandlers = {}): Promise<ParsedEnvelope> {
  const { ci, explicit } = await readContentInfo(r);

  const aed = await r.expect(U, TAG.SEQUENCE, 'AuthEnvelopedData', { constructed: true });
  r.checkFits(aed, explicit, 'AuthEnvelopedData');
  const version = await readSmallInteger(r, aed, 'AuthEnvelopedData.version');
  if (version !== 0) throw new EnvelopeError('MALFORMED', `AuthEnvelopedData version must be 0, not ${version}`);

  if (!(await r.hasMore(aed, 'AuthEnvelopedData'))) throw new EnvelopeError('MALFORMED', 'recipientInfos are missing');
  let next = await r.readHeader('AuthEnvelopedData.recipientInfos');
  if (next.cls === C && next.tag === 0 && next.constructed) {
    r.checkFits(next, aed, 'originatorInfo');
    await r.skipContent(next, 'originatorInfo');
    next = await r.readHeader('AuthEnvelopedData.recipientInfos');
  }
  if (next.cls !== U || next.tag !== TAG.SET || !next.constructed) throw new EnvelopeError('MALFORMED', 'recipientInfos (SET) expected');
  r.checkFits(next, aed, 'recipientInfos');
  const recipients: RecipientSummary[] = [];
  while (await r.hasMore(next, 'recipientInfos')) {
    if (recipients.length >= MAX_RECIPIENTS) throw new EnvelopeError('MALFORMED', `more than ${MAX_RECIPIENTS} recipients`);
    recipients.push(await readRecipientInfo(r, next));
  }
  if (recipients.length === 0) throw new EnvelopeError('MALFORMED', 'the envelope has no recipients');

  const eci = await r.expect(U, TAG.SEQUENCE, 'authEncryptedContentInfo', { constructed: true });
  r.checkFits(eci, aed, 'authEncryptedContentInfo');
  const contentType = await readOid(r, eci, 'authEncryptedContentInfo.contentType');
  if (contentType !== OID.data) {
    throw new EnvelopeError('UNSUPPORTED_ALGORITHM', `encrypted content type ${contentType} is not supported (id-data required)`);
  }
  const { nonce, icvLen } = await readContentEncryptionAlgorithm(r, eci);
  const header: EnvelopeHeader = { recipients, nonce, icvLen };
  await handlers.onHeader?.(header);

  if (!(await r.hasMore(eci, 'authEncryptedContentInfo'))) {
    throw new EnvelopeError('MALFORMED', 'the encrypted content is absent (detached content is not supported)');
  }
  const content = await r.expect(C, 0, 'encryptedContent [0]');
  r.checkFits(content, eci, 'encryptedContent');
  const encryptedContentLength = await streamContent(r, content, handlers.onContent ?? (() => undefined), 0);
  if (encryptedContentLength > MAX_CONTENT_BYTES) throw new EnvelopeError('MALFORMED', 'the encrypted content exceeds the GCM limit');
  await r.expectEnd(eci, 'authEncryptedContentInfo');

  let aad: Buffer | null = null;
  if (!(await r.hasMore(aed, 'AuthEnvelopedData'))) throw new EnvelopeError('MALFORMED', 'the mac is missing');
  next = await r.readHeader('AuthEnvelopedData.mac');
  r.checkFits(next, aed, 'AuthEnvelopedData.mac');
  if (next.cls === C && next.tag === 1 && next.constructed) {
    // RFC 5083 2.1: the AAD is the DER encoding of authAttrs with an EXPLICIT SET OF tag.
    const raw = await r.readRawElement(next, 'authAttrs', MAX_AUTH_ATTRS);
    aad = Buffer.concat([Buffer.from([0x31]), raw.subarray(1)]);
    if (!(await r.hasMore(aed, 'AuthEnvelopedData'))) throw new EnvelopeError('MALFORMED', 'the mac is missing');
    next = await r.readHeader('AuthEnvelopedData.mac');
    r.checkFits(next, aed, 'AuthEnvelopedData.mac');
  }
  if (next.cls !== U || next.tag !== TAG.OCTET_STRING) throw new EnvelopeError('MALFORMED', 'the mac (OCTET STRING) is missing');
  const tag = await r.readOctets(next, 'mac', 64);
  if (tag.length !== icvLen) throw new EnvelopeError('MALFORMED', `the mac is ${tag.length} bytes; aes-ICVlen says ${icvLen}`);
  if (await r.hasMore(aed, 'AuthEnvelopedData')) {
    const unauth = await r.readHeader('unauthAttrs');
    r.checkFits(unauth, aed, 'unauthAttrs');
    if (unauth.cls !== C || unauth.tag !== 2 || !unauth.constructed) throw new EnvelopeError('MALFORMED', 'unexpected element after the mac');
    await r.skipContent(unauth, 'unauthAttrs');
  }
  await r.expectEnd(aed, 'AuthEnvelopedData');
  await r.expectEnd(explicit, 'ContentInfo.content');
  await r.expectEnd(ci, 'ContentInfo');
  const totalLength = r.pos;
  if (!(await r.atEnd())) {
    throw new EnvelopeError('TRAILING_DATA', `data follows the end of the envelope (at byte ${totalLength})`);
  }
  return { recipients, nonce, icvLen, aad, tag, encryptedContentLength, totalLength };
}

/** Converts a parse result into the public inspection shape. */
export function toInspection(p: ParsedEnvelope, sha256: string): EnvelopeInspection {
  return {
    recipients: p.recipients,
    nonce: p.nonce,
    icvLen: p.icvLen,
    tag: p.tag,
    encryptedContentLength: p.encryptedContentLength,
    totalLength: p.totalLength,
    sha256,
  };
}
