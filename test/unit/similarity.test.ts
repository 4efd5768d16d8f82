/**
 * The similarity algorithms behind rule similar-bids (src/monitoring/similarity): shingles, one-permutation MinHash,
 * LSH banding, winnowing containment and the verification of a pair. Deterministic: texts come from a seeded
 * generator of construction-bid-like Chinese.
 */
import assert from 'node:assert/strict';
import { normalise, shingleHashes, ShingleHasher } from '../../src/monitoring/similarity/shingles';
import { estimateJaccard, OnePermutationMinHash } from '../../src/monitoring/similarity/minhash';
import { lshCandidates } from '../../src/monitoring/similarity/lsh';
import { sharedFingerprints, Winnower } from '../../src/monitoring/similarity/containment';
import { boilerplateLimit, similarPairs } from '../../src/monitoring/similarity/compare';
import { sketchText, Sketcher } from '../../src/monitoring/similarity/sketch';
import { EXCERPT_MAX, verifyPair } from '../../src/monitoring/similarity/verify';
import { bidText, lightlyEdited as edited } from '../monitoring/bid-texts';

/** The text as compared: whitespace and punctuation dropped. */
const flat = (s: string) => String.fromCharCode(...normalise(s).chars);

describe('similarity: shingles', () => {
  it('hashes the same text the same whatever the chunking, ignoring whitespace, punctuation and ASCII case', () => {
    const text = bidText(1, 2000);
    const whole = shingleHashes(text);
    const streamed: number[] = [];
    const h = new ShingleHasher(10);
    const buf = new Uint32Array(37);
    for (let i = 0; i < text.length; i += 37) streamed.push(...buf.subarray(0, h.hashInto(text.slice(i, i + 37), buf)));
    assert.deepEqual(Uint32Array.from(streamed), whole);
    assert.deepEqual(shingleHashes('混凝土 浇筑， 养护。Test ABC 钢筋'), shingleHashes('混凝土浇筑养护testabc钢筋'));
    assert.equal(normalise(' 甲，乙 ').chars.length, 2);
    assert.equal(shingleHashes('短文本').length, 0);
  });
});

describe('similarity: MinHash and LSH', () => {
  it('estimates Jaccard similarity within a few points of the exact figure', () => {
    const a = bidText(2, 20_000);
    for (const share of [0.05, 0.3, 0.7]) {
      const b = edited(a, 3, share);
      const exact = verifyPair(a, b).similarity;
      const est = estimateJaccard(sketchText(a)!.signature, sketchText(b)!.signature);
      assert.ok(Math.abs(est - exact) < 0.08, `share ${share}: estimate ${est} vs exact ${exact}`);
    }
    assert.ok(estimateJaccard(sketchText(a)!.signature, sketchText(bidText(4, 20_000))!.signature) < 0.05);
  });

  it('densifies a short document: identical short texts agree everywhere, an empty one has no signature', () => {
    const text = bidText(5, 150);
    assert.equal(estimateJaccard(sketchText(text)!.signature, sketchText(text)!.signature), 1);
    assert.equal(new OnePermutationMinHash(256).signature(), null);
  });

  it('makes near duplicates of different groups candidates, not unrelated texts nor the same group', () => {
    const base = bidText(6, 10_000);
    const sigs = [base, edited(base, 7, 0.05), bidText(8, 10_000), edited(base, 9, 0.05)].map((t) => sketchText(t)!.signature);
    const pairs = lshCandidates(sigs, [0, 1, 2, 0]);
    assert.deepEqual(pairs.sort(), [[0, 1], [1, 3]]);
  });
});

describe('similarity: containment and verification', () => {
  it('finds a small text inside a large one, which their Jaccard similarity does not show', () => {
    const small = bidText(10, 3000);
    const large = bidText(11, 40_000) + small + bidText(12, 40_000);
    const [s, l] = [sketchText(small)!, sketchText(large)!];
    assert.ok(estimateJaccard(s.signature, l.signature) < 0.1);
    const counts = sharedFingerprints([s.fingerprints, l.fingerprints], [0, 1], 2);
    const containment = counts.shared.get(0 * 2 + 1)! / counts.kept[0]!;
    assert.ok(containment > 0.95, `containment ${containment}`);
    const v = verifyPair(small, large);
    assert.ok(v.containmentAinB > 0.99 && v.containmentBinA < 0.05 && v.similarity < 0.05);
    assert.ok(v.excerpt.length > 20 && [...v.excerpt].length <= EXCERPT_MAX);
    assert.ok(flat(small).includes(flat(v.excerpt)) && flat(large).includes(flat(v.excerpt)));
  });

  it('winnows at least one fingerprint from every window, and a fingerprint of more groups than allowed is boilerplate', () => {
    const text = bidText(13, 5000);
    const w = new Winnower(16);
    const hashes = shingleHashes(text);
    w.addAll(hashes.subarray(0, 1000));
    w.addAll(hashes.subarray(1000));
    const fp = new Set(w.fingerprints());
    for (let i = 0; i + 16 <= hashes.length; i += 97) assert.ok(hashes.slice(i, i + 16).some((h) => fp.has(h)));
    const template = bidText(14, 3000);
    const docs = [0, 1, 2, 3].map((g) => sketchText(template + bidText(20 + g, 3000))!.fingerprints);
    const counts = sharedFingerprints(docs, [0, 1, 2, 3], boilerplateLimit(4, 0.5));
    assert.ok(counts.boilerplate.size > 50);
    assert.ok([...counts.shared.values()].every((n) => n < 5), 'the common template makes no pair alike');
  });

  it('quotes a passage both contain, at most 80 characters, and no excerpt for unrelated texts', () => {
    const a = bidText(30, 5000);
    const b = edited(a, 31, 0.1);
    const v = verifyPair(a, b);
    assert.ok(v.similarity > 0.6);
    assert.ok([...v.excerpt].length <= EXCERPT_MAX && v.excerpt.length >= 40);
    assert.ok(flat(b).includes(flat(v.excerpt)) && flat(a).includes(flat(v.excerpt)));
    const u = verifyPair(bidText(32, 3000), bidText(33, 3000));
    assert.ok(u.similarity < 0.02);
  });
});

describe('similarity: 300 documents', () => {
  it('finds exactly the planted near-duplicate and containment pairs among 300 bidders sharing a template', () => {
    const template = bidText(100, 1500);
    const texts: string[] = [];
    for (let i = 0; i < 300; i++) texts.push(template + bidText(1000 + i, 4000));
    // planted: near duplicates (light edits of another bidder's text) and one bidder's section inside another's
    texts[17] = edited(texts[3]!, 1, 0.05);
    texts[250] = edited(texts[120]!, 2, 0.03);
    texts[88] = texts[88]! + texts[41]!.slice(1500, 4500);
    texts[199] = bidText(5000, 800) + texts[7]!.slice(2000, 5000) + bidText(5001, 800);
    const sketches = texts.map((t) => {
      const s = new Sketcher();
      for (let i = 0; i < t.length; i += 4096) s.push(t.slice(i, i + 4096));
      return s.finish()!;
    });
    const groups = texts.map((_, i) => i);
    const { pairs, boilerplate } = similarPairs(sketches, groups, { minSimilarity: 0.8, minContainment: 0.5, maxGroups: boilerplateLimit(300, 0.5) });
    assert.ok(boilerplate.size > 20, 'the template every bidder shares');
    assert.deepEqual(pairs.map((p) => [p.i, p.j]), [[3, 17], [7, 199], [41, 88], [120, 250]]);
    const near = pairs.filter((p) => p.similarity >= 0.8).map((p) => [p.i, p.j]);
    assert.deepEqual(near, [[3, 17], [120, 250]]);
    const p41 = pairs.find((p) => p.i === 41)!;
    assert.ok(p41.containmentIinJ > 0.5 && p41.similarity < 0.8);
  });
});
