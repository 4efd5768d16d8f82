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
  const setA = new Set(ha);
  const firstInB = new Map<number, number>();
  for (let p = 0; p < hb.length; p++) if (!firstInB.has(hb[p]!)) firstInB.set(hb[p]!, p);
  let inter = 0;
  for (const h of setA) if (firstInB.has(h)) inter++;
  const union = setA.size + firstInB.size - inter;
  return {
    similarity: union === 0 ? 0 : inter / union,
    containmentAinB: setA.size === 0 ? 0 : inter / setA.size,
    containmentBinA: firstInB.size === 0 ? 0 : inter / firstInB.size,
    excerpt: commonExcerpt(a, b, ha, firstInB, opts.prefer),
  };
}

/** The longest common run (up to EXCERPT_MAX) from the first shared shingles of A, preferred ones first. */
function commonExcerpt(a: string, b: string, ha: Uint32Array, firstInB: Map<number, number>, prefer?: ReadonlySet<number>): string {
  const na = normalise(a);
  const nb = normalise(b);
  let best = { start: -1, length: 0 };
  const tryFrom = (pa: number, pb: number) => {
    let l = 0;
    while (pa + l < na.chars.length && pb + l < nb.chars.length && l < EXCERPT_MAX && na.chars[pa + l] === nb.chars[pb + l]) l++;
    if (l > best.length) best = { start: pa, length: l };
  };
  for (const preferredOnly of prefer && prefer.size > 0 ? [true, false] : [false]) {
    let tried = 0;
    for (let p = 0; p < ha.length && tried < 64 && best.length < EXCERPT_MAX; p++) {
      const h = ha[p]!;
      if (preferredOnly && !prefer!.has(h)) continue;
      const q = firstInB.get(h);
      if (q === undefined) continue;
      tried++;
      tryFrom(p, q);
      p += Math.max(0, best.length - 1);
    }
    if (best.length > 0) break;
  }
  if (best.length === 0) return '';
  const from = na.offsets[best.start]!;
  const to = na.offsets[best.start + best.length - 1]! + 1;
  return [...a.slice(from, to).replace(/\s+/g, ' ')].slice(0, EXCERPT_MAX).join('');
}
