/**
 * RFC 6962 Merkle trees: the Certificate Transparency reference vectors (the 8-leaf tree of RFC 6962's reference
 * implementation, certificate-transparency merkle_tree_test), then cross-checks on every size and every index: proofs
 * verify, any changed proof, leaf, index, size or root fails.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  consistencyProof,
  consistencyRanges,
  EMPTY_ROOT,
  inclusionProof,
  inclusionRanges,
  leafHash,
  MerkleBuilder,
  nodeHash,
  RangeHasher,
  rootOf,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../../crypto/merkle';

const CT_LEAF_DATA = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const CT_LEAVES = CT_LEAF_DATA.map(leafHash);
/** MTH of the first n leaves, n = 0..8. */
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** [leaf index (0-based), tree size, audit path]. */
const CT_INCLUSION: Array<[number, number, string[]]> = [
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
/** [first size, second size, consistency proof]. */
const CT_CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];

const hex = (bs: Buffer[]) => bs.map(toHex);
const flipped = (b: Uint8Array, byte = 0) => {
  const c = Buffer.from(b);
  c[byte] ^= 0x01;
  return c;
};

/** RFC 6962 §2.1 MTH written as the recursion the RFC states, to check the iterative builder against. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

describe('merkle (RFC 6962)', () => {
  const many = Array.from({ length: 70 }, (_, i) => leafHash(crypto.createHash('sha256').update(`event ${i}`).digest()));

  it('when the CT reference leaves are hashed, then every tree head of size 0..8 is the published one', () => {
    assert.equal(toHex(EMPTY_ROOT), CT_ROOTS[0]);
    for (let n = 0; n <= 8; n++) assert.equal(toHex(rootOf(CT_LEAVES.slice(0, n))), CT_ROOTS[n], `size ${n}`);
  });

  it('when the CT reference inclusion proofs are made, then they are the published paths and verify', () => {
    for (const [index, size, path] of CT_INCLUSION) {
      const proof = inclusionProof(CT_LEAVES, index, size);
      assert.deepEqual(hex(proof), path, `leaf ${index} of ${size}`);
      assert.ok(verifyInclusion(CT_LEAVES[index]!, index, size, proof, Buffer.from(CT_ROOTS[size]!, 'hex')));
    }
  });

  it('when the CT reference consistency proofs are made, then they are the published ones and verify', () => {
    for (const [first, second, path] of CT_CONSISTENCY) {
      const proof = consistencyProof(CT_LEAVES, first, second);
      assert.deepEqual(hex(proof), path, `${first} → ${second}`);
      assert.ok(verifyConsistency(first, second, proof, Buffer.from(CT_ROOTS[first]!, 'hex'), Buffer.from(CT_ROOTS[second]!, 'hex')));
    }
  });

  it('when leaves are pushed one by one, then each root equals the recursive MTH, and a builder resumed from a frontier agrees', () => {
    const b = new MerkleBuilder();
    for (let n = 1; n <= many.length; n++) {
      b.push(many[n - 1]!);
      assert.equal(toHex(b.root()), toHex(referenceRoot(many.slice(0, n))), `size ${n}`);
      const resumed = MerkleBuilder.fromFrontier(n, b.frontier());
      for (const l of many.slice(n)) resumed.push(l);
      assert.equal(toHex(resumed.root()), toHex(referenceRoot(many)), `resumed at ${n}`);
    }
    assert.throws(() => MerkleBuilder.fromFrontier(7, b.frontier().slice(0, 1)), /frontier/);
  });

  it('when every leaf of every tree up to 70 is proved, then the proof verifies and every altered proof, leaf, index or root fails', () => {
    for (let size = 1; size <= many.length; size++) {
      const root = rootOf(many.slice(0, size));
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(many, i, size);
        assert.equal(proof.length, inclusionRanges(i, size).length);
        assert.ok(verifyInclusion(many[i]!, i, size, proof, root), `leaf ${i} of ${size}`);
        assert.ok(!verifyInclusion(flipped(many[i]!), i, size, proof, root));
        assert.ok(!verifyInclusion(many[i]!, i, size, proof, flipped(root, 31)));
        if (size > 1) {
          assert.ok(!verifyInclusion(many[i]!, (i + 1) % size, size, proof, root), `index ${i}→${(i + 1) % size} of ${size}`);
        }
        for (let p = 0; p < proof.length; p++) {
          const bad = proof.map((h, j) => (j === p ? flipped(h, 7) : h));
          assert.ok(!verifyInclusion(many[i]!, i, size, bad, root), `proof[${p}] altered, leaf ${i} of ${size}`);
        }
        assert.ok(!verifyInclusion(many[i]!, i, size, [...proof, many[0]!], root), 'an extra hash');
        if (proof.length) assert.ok(!verifyInclusion(many[i]!, i, size, proof.slice(0, -1), root), 'a hash short');
      }
    }
  });

  it('when every pair of sizes up to 40 is proved consistent, then the proof verifies and every altered proof or root fails', () => {
    const roots = Array.from({ length: 41 }, (_, n) => rootOf(many.slice(0, n)));
    for (let second = 1; second <= 40; second++) {
      for (let first = 1; first <= second; first++) {
        const proof = consistencyProof(many, first, second);
        assert.ok(verifyConsistency(first, second, proof, roots[first]!, roots[second]!), `${first} → ${second}`);
        assert.ok(!verifyConsistency(first, second, proof, flipped(roots[first]!), roots[second]!));
        assert.ok(!verifyConsistency(first, second, proof, roots[first]!, flipped(roots[second]!)));
        for (let p = 0; p < proof.length; p++) {
          const bad = proof.map((h, j) => (j === p ? flipped(h, 3) : h));
          assert.ok(!verifyConsistency(first, second, bad, roots[first]!, roots[second]!), `proof[${p}] altered, ${first} → ${second}`);
        }
        if (first < second) {
          // a history rewritten below the old size: the new tree no longer extends the old one
          const rewritten = many.slice(0, second).map((l, i) => (i === first - 1 ? flipped(l) : l));
          assert.ok(!verifyConsistency(first, second, consistencyProof(rewritten, first, second), roots[first]!, rootOf(rewritten)));
        }
      }
    }
  });

  it('when a RangeHasher is fed the leaves once, then it yields the MTH of each range, in the order the ranges were given', () => {
    const ranges = consistencyRanges(13, 57);
    const h = new RangeHasher(ranges);
    for (let i = 0; i < h.needed; i++) h.push(many[i]!);
    assert.deepEqual(hex(h.hashes()), ranges.map((r) => toHex(rootOf(many.slice(r.start, r.end)))));
    assert.throws(() => new RangeHasher([{ start: 0, end: 4 }, { start: 3, end: 5 }]), /overlap/);
    assert.throws(() => inclusionRanges(5, 5), RangeError);
    assert.throws(() => consistencyRanges(0, 5), RangeError);
  });
});
