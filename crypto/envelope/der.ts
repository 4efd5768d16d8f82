/**
 * Minimal DER helpers over Buffers: encoding of the few structures the
 * envelope writes, and a strict definite-length reader for small, complete
 * structures (certificates, algorithm parameters). The streaming BER reader
 * for envelopes is in ber-reader.ts.
 */
import { oidToDerBytes } from '../pki';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  aes128Gcm: '2.16.840.1.101.3.4.1.6',
  aes192Gcm: '2.16.840.1.101.3.4.1.26',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  sha256: '2.16.840.1.101.3.4.2.1',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

/** Universal tag numbers used here. */
export const TAG = {
  EOC: 0,
  BOOLEAN: 1,
  INTEGER: 2,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  SEQUENCE: 16,
  SET: 17,
} as const;

export const CLASS = { UNIVERSAL: 0, APPLICATION: 1, CONTEXT: 2, PRIVATE: 3 } as const;

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/** DER length octets for a (safe-integer) length. */
export function encodeLength(len: number): Buffer {
  if (!Number.isSafeInteger(len) || len < 0) throw new RangeError(`invalid DER length ${len}`);
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  let rest = len;
  while (rest > 0) {
    bytes.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Identifier + length octets (single-byte identifiers only: tag numbers < 31). */
export function encodeHeader(identifier: number, len: number): Buffer {
  return Buffer.concat([Buffer.from([identifier]), encodeLength(len)]);
}

/** A complete TLV from a single-byte identifier and content parts. */
export function tlv(identifier: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([encodeHeader(identifier, body.length), body]);
}

export const seq = (...content: Buffer[]): Buffer => tlv(0x30, ...content);

export const oidTlv = (oid: string): Buffer => tlv(0x06, oidToDerBytes(oid));

export function smallIntegerTlv(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fff) throw new RangeError(`integer out of range: ${n}`);
  return n < 0x80 ? tlv(0x02, Buffer.from([n])) : tlv(0x02, Buffer.from([n >> 8, n & 0xff]));
}

export const octetStringTlv = (content: Buffer): Buffer => tlv(0x04, content);

/** DER SET OF: elements sorted by their encodings (X.690 11.6). */
export function setOf(elements: Buffer[]): Buffer {
  return tlv(0x31, ...[...elements].sort(Buffer.compare));
}

// ---------------------------------------------------------------------------
// Decoding (strict DER subset: definite lengths only)
// ---------------------------------------------------------------------------

export function decodeOidContent(content: Buffer): string {
  if (content.length === 0 || (content[content.length - 1]! & 0x80) !== 0) throw new Error('malformed OID');
  const arcs: bigint[] = [];
  let value = 0n;
  let started = false;
  for (const byte of content) {
    if (!started && byte === 0x80) throw new Error('malformed OID (non-minimal arc)');
    started = true;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
      started = false;
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

export interface DerNode {
  cls: number;
  constructed: boolean;
  tag: number;
  /** Offset of the identifier octet in the buffer. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

/** Reads one definite-length TLV at `pos`, which must end by `limit`. Throws Error on anything else. */
export function readDerNode(buf: Buffer, pos: number, limit = buf.length): DerNode {
  if (pos >= limit) throw new Error('unexpected end of DER data');
  const id = buf[pos]!;
  let p = pos + 1;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (p >= limit || i >= 4) throw new Error('malformed DER tag');
      const b = buf[p++]!;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw new Error('unexpected end of DER data');
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new Error('indefinite length where DER is required');
    if (n > 6 || p + n > limit) throw new Error('malformed DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > limit) throw new Error('DER element overruns its container');
  return { cls: id >> 6, constructed: (id & 0x20) !== 0, tag, start: pos, contentStart: p, end: p + len };
}

export function derChildren(buf: Buffer, node: DerNode): DerNode[] {
  if (!node.constructed) throw new Error('expected a constructed DER element');
  const out: DerNode[] = [];
  let p = node.contentStart;
  while (p < node.end) {
    const child = readDerNode(buf, p, node.end);
    out.push(child);
    p = child.end;
  }
  return out;
}

export const derContent = (buf: Buffer, node: DerNode): Buffer => buf.subarray(node.contentStart, node.end);
export const derElement = (buf: Buffer, node: DerNode): Buffer => buf.subarray(node.start, node.end);

export function isUniversal(node: DerNode, tag: number): boolean {
  return node.cls === CLASS.UNIVERSAL && node.tag === tag;
}

export function isContext(node: DerNode, tag: number): boolean {
  return node.cls === CLASS.CONTEXT && node.tag === tag;
}

/** Parses a complete buffer holding exactly one DER element. */
export function parseDerRoot(buf: Buffer): DerNode {
  const root = readDerNode(buf, 0);
  if (root.end !== buf.length) throw new Error('data after the DER element');
  return root;
}
