/**
 * Verifying a candidate pair on the two texts themselves (only candidate pairs are ever read twice): the exact
 * Jaccard similarity of their shingle sets, how much of each is contained in the other, and one short excerpt both
 * contain — evidence a regulator can read without being handed the documents (at most EXCERPT_MAX characters).
 */
import { normalise, shingleHashes, DEFAULT_SHINGLE_CHARS } from './shingles';

/** The longest excerpt quoted as evidence. */
export const EXCERPT_MAX = 80;

export interface Verified {
  similarity: number;
  /** Share of A's shingles found in B, and of B's in A. */
  containmentAinB: number;
  containmentBinA: number;
  /** A passage both documents contain, as written in A (whitespace folded), at most EXCERPT_MAX characters. */
  excerpt: string;
}

export interface VerifyOptions {
  shingleChars?: number;
  /** Shingle hashes to start the excerpt from first (the pair's own shared fingerprints, boilerplate aside). */
  prefer?: ReadonlySet<number>;
}

export function verifyPair(a: string, b: string, opts: VerifyOptions = {}): Verified {
  const k = opts.shingleChars ?? DEFAULT_SHINGLE_CHARS;
  const ha = shingleHashes(a, k);
  const hb = shingleHashes(b, k);
  // sets as sorted typed arrays: a few sorts and one merge, no per-shingle objects for texts of a million characters
  const ua = sortedUnique(ha);
  const ub = sortedUnique(hb);
  let inter = 0;
  for (let i = 0, j = 0; i < ua.length && j < ub.length; ) {
    if (ua[i]! < ub[j]!) i++;
    else if (ua[i]! > ub[j]!) j++;
    else {
      inter++;
      i++;
      j++;
    }
  }
  const union = ua.length + ub.length - inter;
  return {
    similarity: union === 0 ? 0 : inter / union,
    containmentAinB: ua.length === 0 ? 0 : inter / ua.length,
    containmentBinA: ub.length === 0 ? 0 : inter / ub.length,
    excerpt: commonExcerpt(a, b, ha, hb, ub, opts.prefer),
  };
}

function sortedUnique(h: Uint32Array): Uint32Array {
  const s = Uint32Array.from(h).sort();
  let n = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) s[n++] = s[i]!;
  return s.subarray(0, n);
}

function has(sorted: Uint32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else if (sorted[mid]! > x) hi = mid - 1;
    else return true;
  }
  return false;
}

/** Starting points tried for the excerpt, at most. */
const EXCERPT_TRIES = 64;

/**
 * The longest common run (up to EXCERPT_MAX) from the first shingles of A that B has too — those in `prefer` first
 * (what the pair shares and other bidders do not), any shared one otherwise.
 */
function commonExcerpt(a: string, b: string, ha: Uint32Array, hb: Uint32Array, ub: Uint32Array, prefer?: ReadonlySet<number>): string {
  const pick = (ok: (h: number) => boolean) => {
    const starts: number[] = [];
    for (let p = 0; p < ha.length && starts.length < EXCERPT_TRIES; p++) if (ok(ha[p]!) && has(ub, ha[p]!)) starts.push(p);
    return starts;
  };
  let starts = prefer && prefer.size > 0 ? pick((h) => prefer.has(h)) : [];
  if (starts.length === 0) starts = pick(() => true);
  if (starts.length === 0) return '';
  const firstInB = new Map<number, number>(starts.map((p) => [ha[p]!, -1]));
  for (let q = 0; q < hb.length; q++) if (firstInB.get(hb[q]!) === -1) firstInB.set(hb[q]!, q);
  const na = normalise(a);
  const nb = normalise(b);
  let best = { start: -1, length: 0 };
  for (const pa of starts) {
    const pb = firstInB.get(ha[pa]!)!;
    let l = 0;
    while (pa + l < na.chars.length && pb + l < nb.chars.length && l < EXCERPT_MAX && na.chars[pa + l] === nb.chars[pb + l]) l++;
    if (l > best.length) best = { start: pa, length: l };
    if (best.length >= EXCERPT_MAX) break;
  }
  if (best.length === 0) return '';
  const from = na.offsets[best.start]!;
  const to = na.offsets[best.start + best.length - 1]! + 1;
  return [...a.slice(from, to).replace(/\s+/g, ' ')].slice(0, EXCERPT_MAX).join('');
}
