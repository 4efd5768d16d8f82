/**
 * Containment: one bidder's material inside another's bid (TLR 40(5) 相互混装), which MinHash misses when a small
 * text sits inside a large one (their Jaccard is small). Winnowing (Schleimer, Wilkerson & Aiken 2003) keeps, from
 * each window of `window` consecutive shingle hashes, the minimum (rightmost on ties): any common run of at least
 * window + k − 1 characters is guaranteed to share a fingerprint, and a document keeps about 2/(window+1) of its
 * shingles (3 % at 64: some 20 000 for 2 MB of Chinese text).
 *
 * The inverted index is a sort: every (fingerprint, document) of every document packed into one Float64Array and
 * sorted, so that equal fingerprints are adjacent — O(N log N) in the fingerprints, no per-key objects. A fingerprint
 * held by more groups (bidders) than `maxGroups` is boilerplate (a clause of the tender documents everyone quotes):
 * counted for neither side. For each run of a fingerprint, each pair of its documents of different groups gets one
 * more shared fingerprint; containment of A in B is then shared(A, B) / |A's fingerprints that are not boilerplate|.
 */

/** Winnowing window, in shingles. */
export const DEFAULT_WINDOW = 64;

const NONE = 0xffffffff;
/** Document indices are packed below the fingerprint: 2^32 × 2^20 < 2^53 stays exact in a double. */
const DOC_BITS = 20;
const DOC_SCALE = 2 ** DOC_BITS;
export const MAX_DOCUMENTS = DOC_SCALE;

export class Winnower {
  private readonly ring: Uint32Array;
  private r = 0;
  private min = 0;
  private picked: number[] = [];

  constructor(readonly window = DEFAULT_WINDOW) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
    this.ring = new Uint32Array(window).fill(NONE);
  }

  /** Takes the first n hashes of a batch, in text order. */
  addAll(hashes: Uint32Array, n = hashes.length): void {
    const w = this.window;
    const ring = this.ring;
    const picked = this.picked;
    let r = this.r;
    let min = this.min;
    for (let x = 0; x < n; x++) {
      const hash = hashes[x]!;
      r = r + 1 === w ? 0 : r + 1;
      ring[r] = hash;
      if (min === r) {
        // the previous minimum just left the window: rescan for the rightmost minimum
        let m = r;
        for (let i = r === 0 ? w - 1 : r - 1; i !== r; i = i === 0 ? w - 1 : i - 1) if (ring[i]! < ring[m]!) m = i;
        min = m;
        if (ring[m] !== NONE) picked.push(ring[m]!);
      } else if (hash <= ring[min]!) {
        min = r;
        picked.push(hash);
      }
    }
    this.r = r;
    this.min = min;
  }

  /** The document's fingerprints, sorted, each once. */
  fingerprints(): Uint32Array {
    const a = Uint32Array.from(this.picked).sort();
    let n = 0;
    for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) a[n++] = a[i]!;
    this.picked = [];
    return a.slice(0, n);
  }
}

export interface SharedCounts {
  /** Shared non-boilerplate fingerprints per pair, keyed i * n + j (i < j). */
  shared: Map<number, number>;
  /** Each document's fingerprints that are not boilerplate. */
  kept: Uint32Array;
  /** The boilerplate fingerprints (held by more than maxGroups groups). */
  boilerplate: Set<number>;
}

/** Counts the fingerprints each pair of documents of different groups shares, boilerplate aside. */
export function sharedFingerprints(fingerprints: readonly Uint32Array[], groups: readonly number[], maxGroups: number): SharedCounts {
  const n = fingerprints.length;
  if (n > MAX_DOCUMENTS) throw new RangeError(`at most ${MAX_DOCUMENTS} documents`);
  let total = 0;
  for (const f of fingerprints) total += f.length;
  const packed = new Float64Array(total);
  let at = 0;
  for (let d = 0; d < n; d++) {
    const f = fingerprints[d]!;
    for (let x = 0; x < f.length; x++) packed[at++] = f[x]! * DOC_SCALE + d;
  }
  packed.sort();

  const shared = new Map<number, number>();
  const kept = new Uint32Array(n);
  const boilerplate = new Set<number>();
  // distinct groups of a run counted with a stamp per group (no set per fingerprint)
  let groupCount = 0;
  for (const g of groups) if (g + 1 > groupCount) groupCount = g + 1;
  const stamp = new Int32Array(groupCount).fill(-1);
  let run = 0;
  for (let s = 0; s < total; ) {
    const h = Math.floor(packed[s]! / DOC_SCALE);
    const base = h * DOC_SCALE;
    let e = s + 1;
    while (e < total && packed[e]! - base < DOC_SCALE) e++;
    if (e === s + 1) {
      // most fingerprints are one document's own
      kept[packed[s]! - base]!++;
      s = e;
      continue;
    }
    run++;
    let distinct = 0;
    for (let x = s; x < e; x++) {
      const g = groups[packed[x]! - base]!;
      if (stamp[g] !== run) {
        stamp[g] = run;
        distinct++;
      }
    }
    if (distinct > maxGroups) {
      boilerplate.add(h);
      s = e;
      continue;
    }
    for (let x = s; x < e; x++) kept[packed[x]! - base]!++;
    if (distinct >= 2) {
      for (let x = s; x < e; x++) {
        for (let y = x + 1; y < e; y++) {
          const i = packed[x]! - base;
          const j = packed[y]! - base;
          if (groups[i] === groups[j]) continue;
          const key = i * n + j; // sorted by document within a run, so i < j
          shared.set(key, (shared.get(key) ?? 0) + 1);
        }
      }
    }
    s = e;
  }
  return { shared, kept, boilerplate };
}

/** The fingerprints two sorted sets share. */
export function intersectSorted(a: Uint32Array, b: Uint32Array): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      out.push(a[i]!);
      i++;
      j++;
    }
  }
  return out;
}
