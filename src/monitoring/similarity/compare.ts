/**
 * Which documents of different bidders are alike, from their sketches alone: near duplicates through LSH candidates
 * whose signatures agree on at least `minSimilarity` of their bins, containment through the shared winnowed
 * fingerprints (boilerplate aside). Both are sub-quadratic: LSH buckets and the sorted fingerprint index only ever
 * pair documents that share something. The pairs found are estimates, to be verified on the text (verify.ts).
 */
import { sharedFingerprints } from './containment';
import { estimateJaccard } from './minhash';
import { lshCandidates } from './lsh';
import type { Sketch } from './sketch';

export interface CompareOptions {
  minSimilarity: number;
  minContainment: number;
  /** A fingerprint (or LSH bucket) of more groups than this is boilerplate. */
  maxGroups: number;
}

export interface SimilarPair {
  /** Document indices, i < j. */
  i: number;
  j: number;
  /** Estimated Jaccard similarity of the two shingle sets (MinHash). */
  similarity: number;
  /** Estimated share of i's (non-boilerplate) fingerprints found in j, and of j's in i. */
  containmentIinJ: number;
  containmentJinI: number;
}

/** The boilerplate limit for `bidders` bidders: more than half of them (and more than two) hold it. */
export function boilerplateLimit(bidders: number, share: number): number {
  return Math.max(2, Math.ceil(share * bidders));
}

export interface Comparison {
  pairs: SimilarPair[];
  /** Fingerprints held by more than maxGroups groups: not evidence (an excerpt is not taken from them). */
  boilerplate: ReadonlySet<number>;
}

export function similarPairs(sketches: readonly Sketch[], groups: readonly number[], opts: CompareOptions): Comparison {
  const n = sketches.length;
  const signatures = sketches.map((s) => s.signature);
  const pairs = new Map<number, SimilarPair>();
  const counts = sharedFingerprints(
    sketches.map((s) => s.fingerprints),
    groups,
    opts.maxGroups,
  );
  const contain = (i: number, j: number) => {
    const key = i * n + j;
    const shared = counts.shared.get(key) ?? 0;
    return {
      containmentIinJ: counts.kept[i]! > 0 ? shared / counts.kept[i]! : 0,
      containmentJinI: counts.kept[j]! > 0 ? shared / counts.kept[j]! : 0,
    };
  };
  for (const [i, j] of lshCandidates(signatures, groups, { maxGroupsPerBucket: opts.maxGroups })) {
    const similarity = estimateJaccard(signatures[i]!, signatures[j]!);
    if (similarity >= opts.minSimilarity) pairs.set(i * n + j, { i, j, similarity, ...contain(i, j) });
  }
  for (const key of counts.shared.keys()) {
    if (pairs.has(key)) continue;
    const i = Math.floor(key / n);
    const j = key - i * n;
    const c = contain(i, j);
    if (Math.max(c.containmentIinJ, c.containmentJinI) < opts.minContainment) continue;
    pairs.set(key, { i, j, similarity: estimateJaccard(signatures[i]!, signatures[j]!), ...c });
  }
  return { pairs: [...pairs.values()].sort((a, b) => a.i - b.i || a.j - b.j), boilerplate: counts.boilerplate };
}
