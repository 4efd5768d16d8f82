/**
 * Locality-sensitive hashing over MinHash signatures (banding, Leskovec–Rajaraman–Ullman ch. 3): the signature is cut
 * into `bands` bands of `rows` values; two documents become a candidate pair when any band is equal. The chance of
 * that is 1 − (1 − J^rows)^bands — with 32 × 8 over 256 bins: 0.997 at J = 0.8, 0.12 at J = 0.5, 0.0001 at J = 0.2 —
 * so only near pairs are ever looked at: the work grows with documents plus candidate pairs, not with all pairs.
 */
import { fmix32 } from './shingles';

export interface LshOptions {
  bands: number;
  rows: number;
  /**
   * A bucket holding documents of more groups than this is boilerplate every bidder copied (a form from the tender
   * documents): it is skipped rather than expanded into all its pairs.
   */
  maxGroupsPerBucket: number;
}

export const DEFAULT_LSH: LshOptions = { bands: 32, rows: 8, maxGroupsPerBucket: Number.POSITIVE_INFINITY };

/**
 * Candidate pairs [i, j] (i < j) of documents of different groups (bidders) sharing at least one band, each once.
 * `groups[i]` is document i's group.
 */
export function lshCandidates(signatures: readonly Uint32Array[], groups: readonly number[], opts: Partial<LshOptions> = {}): Array<[number, number]> {
  const { bands, rows, maxGroupsPerBucket } = { ...DEFAULT_LSH, ...opts };
  const n = signatures.length;
  const seen = new Set<number>();
  const pairs: Array<[number, number]> = [];
  for (let band = 0; band < bands; band++) {
    const buckets = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const sig = signatures[i]!;
      if (sig.length < bands * rows) throw new RangeError(`a signature of ${sig.length} values has no room for ${bands} × ${rows}`);
      let h = band;
      for (let r = band * rows; r < (band + 1) * rows; r++) h = fmix32((Math.imul(h, 0x01000193) ^ sig[r]!) | 0);
      const bucket = buckets.get(h);
      if (bucket) bucket.push(i);
      else buckets.set(h, [i]);
    }
    for (const bucket of buckets.values()) {
      if (bucket.length < 2) continue;
      if (new Set(bucket.map((i) => groups[i])).size > maxGroupsPerBucket) continue;
      for (let x = 0; x < bucket.length; x++) {
        for (let y = x + 1; y < bucket.length; y++) {
          const i = bucket[x]!;
          const j = bucket[y]!;
          if (groups[i] === groups[j]) continue;
          const key = i * n + j;
          if (seen.has(key)) continue;
          seen.add(key);
          pairs.push([i, j]);
        }
      }
    }
  }
  return pairs;
}
