/**
 * Shingling for the document-similarity rule (TLR 40(4)(5)). Text is normalised by dropping what a copier changes
 * for free — whitespace and punctuation, ASCII and CJK alike — and folding ASCII case; a shingle is then `k`
 * consecutive normalised characters (UTF-16 code units). Chinese has no spaces between words, so character shingles
 * rather than word shingles: 10 characters are three to five words.
 *
 * Each shingle gets ONE 32-bit hash, computed by a rolling polynomial (one multiply-add per character whatever `k`)
 * and finished with murmur3's fmix32 so that every bit depends on every character: the MinHash bins and the winnowing
 * minimum both read that single hash (no per-permutation rehashing).
 */

/** Shingle length in normalised characters, unless the rule's threshold says otherwise. */
export const DEFAULT_SHINGLE_CHARS = 10;

const BASE = 0x01000193; // odd: multiplication by it is a bijection mod 2^32

/** Whitespace, control characters and punctuation (ASCII, CJK symbols and punctuation, full-width forms). */
export function isSkipped(c: number): boolean {
  if (c <= 0x20 || c === 0x7f || c === 0xa0 || c === 0x3000 || c === 0xfeff) return true;
  if (c < 0x80) return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
  if (c >= 0x2000 && c <= 0x206f) return true; // general punctuation, including typographic spaces and quotes
  if (c >= 0x3001 && c <= 0x303f) return true; // 、。〈〉《》「」【】〔〕…
  if (c >= 0xff01 && c <= 0xff0f) return true; // ！＂＃…／
  if (c >= 0xff1a && c <= 0xff20) return true; // ：；＜＝＞？＠
  if (c >= 0xff3b && c <= 0xff40) return true;
  if (c >= 0xff5b && c <= 0xff65) return true;
  return false;
}

/** Every UTF-16 code unit's normalised form, 0 for skipped (U+0000 is skipped anyway): one lookup per character. */
const NORMAL = (() => {
  const t = new Uint16Array(0x10000);
  for (let c = 0; c < 0x10000; c++) t[c] = isSkipped(c) ? 0 : c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  return t;
})();

/** Normalised code unit (ASCII upper case folded), or -1 when the character is skipped. */
export function normalisedCode(c: number): number {
  return NORMAL[c] || -1;
}

/** murmur3's 32-bit finaliser: an avalanche over all bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Streams text in (any chunking: the window carries over between chunks) and writes each completed shingle's hash
 * into the caller's buffer, in text order. Consumers then read the batch in loops of their own: no call per shingle
 * through an interface, which would make the hot loop polymorphic.
 */
export class ShingleHasher {
  private readonly ring: Uint16Array;
  private readonly outFactor: number;
  private pos = 0;
  private hash = 0;
  /** Normalised characters seen. */
  chars = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 2 || k > 64) throw new RangeError(`shingle size must be an integer in [2, 64], got ${k}`);
    this.ring = new Uint16Array(k);
    let f = 1;
    for (let i = 1; i < k; i++) f = Math.imul(f, BASE);
    this.outFactor = f;
  }

  /** Hashes the shingles `text` completes into `out` (room for text.length needed); returns how many. */
  hashInto(text: string, out: Uint32Array): number {
    if (out.length < text.length) throw new RangeError('the output buffer is shorter than the text');
    const k = this.k;
    const ring = this.ring;
    const outFactor = this.outFactor;
    let h = this.hash;
    let pos = this.pos;
    let chars = this.chars;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = NORMAL[text.charCodeAt(i)]!;
      if (c === 0) continue;
      const gone = ring[pos]!;
      ring[pos] = c;
      pos = pos + 1 === k ? 0 : pos + 1;
      // drop the character leaving the window (zero while the window fills), shift, add the new one
      h = (Math.imul(h - Math.imul(gone, outFactor), BASE) + c) | 0;
      chars++;
      if (chars >= k) out[n++] = fmix32(h);
    }
    this.hash = h;
    this.pos = pos;
    this.chars = chars;
    return n;
  }
}

/** The shingle hashes of a whole text, in order (for verification and tests; streaming callers use ShingleHasher). */
export function shingleHashes(text: string, k = DEFAULT_SHINGLE_CHARS): Uint32Array {
  const out = new Uint32Array(text.length);
  return out.slice(0, new ShingleHasher(k).hashInto(text, out));
}

/** The normalised text and, for each of its characters, the offset of the original character it came from. */
export function normalise(text: string): { chars: Uint16Array; offsets: Uint32Array } {
  const chars = new Uint16Array(text.length);
  const offsets = new Uint32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = normalisedCode(text.charCodeAt(i));
    if (c < 0) continue;
    chars[n] = c;
    offsets[n] = i;
    n++;
  }
  return { chars: chars.subarray(0, n), offsets: offsets.subarray(0, n) };
}
