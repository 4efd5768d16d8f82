/**
 * Just enough ASN.1 for the pages' two cryptographic jobs — finding one's wrapped key in a CMS envelope and
 * writing a detached CMS signature — with no library: the reader walks BER (openssl writes envelopes with
 * indefinite lengths), the writer emits DER.
 */

export interface Tlv {
  tag: number;
  /** offset of the first content byte */
  contentStart: number;
  /** content length; null: indefinite (ends at an end-of-contents 00 00) */
  length: number | null;
  /** offset of the first byte of the element */
  start: number;
}

export class DerError extends Error {}

export function readTlv(buf: Uint8Array, pos: number): Tlv {
  if (pos + 2 > buf.length) throw new DerError('truncated');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let lenByte = buf[pos + 1];
  let p = pos + 2;
  let length: number | null;
  if (lenByte < 0x80) length = lenByte;
  else if (lenByte === 0x80) length = null;
  else {
    lenByte &= 0x7f;
    if (lenByte > 4 || p + lenByte > buf.length) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < lenByte; i++) length = length * 256 + buf[p++];
  }
  return { tag, contentStart: p, length, start: pos };
}

/** The offset just past the element at `pos` (past its end-of-contents when its length is indefinite). */
export function endOf(buf: Uint8Array, pos: number): number {
  const t = readTlv(buf, pos);
  if (t.length !== null) {
    const end = t.contentStart + t.length;
    if (end > buf.length) throw new DerError('truncated');
    return end;
  }
  let p = t.contentStart;
  while (!(buf[p] === 0 && buf[p + 1] === 0)) {
    if (p >= buf.length) throw new DerError('truncated');
    p = endOf(buf, p);
  }
  return p + 2;
}

/** The child elements of a constructed element. */
export function childrenOf(buf: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = t.contentStart;
  const end = t.length === null ? Infinity : t.contentStart + t.length;
  while (p < end) {
    if (t.length === null && buf[p] === 0 && buf[p + 1] === 0) break;
    const c = readTlv(buf, p);
    out.push(c);
    p = endOf(buf, p);
  }
  return out;
}

export function contentOf(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.length === null) throw new DerError('indefinite length where a definite one is needed');
  return buf.subarray(t.contentStart, t.contentStart + t.length);
}

export function bytesOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, endOf(buf, t.start));
}

// --- writing (DER) ------------------------------------------------------------

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else {
    const len: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
    head = [tag, 0x80 | len.length, ...len];
  }
  return concat([Uint8Array.from(head), content]);
}

export const seq = (...parts: Uint8Array[]) => tlv(0x30, concat(parts));
export const octets = (b: Uint8Array) => tlv(0x04, b);
export const nul = () => Uint8Array.from([0x05, 0x00]);
export const smallInt = (n: number) => tlv(0x02, Uint8Array.from([n]));
/** [n] IMPLICIT constructed, e.g. [0] certificates. */
export const ctx = (n: number, ...parts: Uint8Array[]) => tlv(0xa0 | n, concat(parts));

/** SET OF, its elements sorted by their encodings as DER requires. */
export function setOf(...parts: Uint8Array[]): Uint8Array {
  const sorted = [...parts].sort((a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  return tlv(0x31, concat(sorted));
}

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const b: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime, YYMMDDHHMMSSZ (dates before 2050, as RFC 5280 asks). */
export function utcTime(d: Date): Uint8Array {
  const two = (n: number) => String(n).padStart(2, '0');
  const s = `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return tlv(0x17, new TextEncoder().encode(s));
}

export { concat };
