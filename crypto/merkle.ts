/**
 * The Merkle tree of Certificate Transparency (RFC 6962 §2.1), over the audit chain in seq order: leaf i is the chain
 * hash of the event with seq i + 1. Pure and dependency-free (Node's SHA-256 only), so the platform, the offline
 * verifier and a bidder's own check compute the same thing.
 *
 *   leaf hash  = SHA-256(0x00 || leaf bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH(D[n])  = MTH(D[0:k]) node MTH(D[k:n]), k the largest power of two < n; MTH of no leaves = SHA-256("")
 *
 * Roots are computed bottom-up with a stack of complete subtrees (the "compact range" of the tree), so a whole-log
 * root keeps O(log n) hashes in memory and hashes each node once. Proofs are lists of subtree hashes over disjoint
 * ranges of leaves; `RangeHasher` fills them from one sequential pass over the leaves, so a proof for a log of any
 * size is made while streaming its leaves from the database, without holding them.
 */
import crypto from 'node:crypto';

export const HASH_BYTES = 32;
export const EMPTY_ROOT: Buffer = crypto.hash('sha256', Buffer.alloc(0), 'buffer');

const leafScratch = Buffer.alloc(1 + HASH_BYTES);
const nodeScratch = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeScratch[0] = 0x01;

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  if (data.length === HASH_BYTES) {
    // the audit log's leaves are 32-byte chain hashes: no allocation but the result
    leafScratch[0] = 0x00;
    leafScratch.set(data, 1);
    return crypto.hash('sha256', leafScratch, 'buffer');
  }
  return crypto.hash('sha256', Buffer.concat([Buffer.of(0x00), data]), 'buffer');
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return crypto.hash('sha256', nodeScratch, 'buffer');
}

/** The largest power of two strictly below n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number) => n >= 1 && splitPoint(n * 2) === n;

// Inside the builder, hashes are 32-character latin1 strings: Node hashes into a string about twice as fast as into
// a new Buffer, and a whole-log root is hundreds of thousands of node hashes.
const builderLeaf = Buffer.alloc(1 + HASH_BYTES);
const builderNode = Buffer.alloc(1 + 2 * HASH_BYTES);
builderNode[0] = 0x01;

function nodeHashL(left: string, right: string): string {
  builderNode.write(left, 1, 'latin1');
  builderNode.write(right, 1 + HASH_BYTES, 'latin1');
  return crypto.hash('sha256', builderNode, 'binary');
}

const asLatin1 = (h: Uint8Array) => Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('latin1');

/**
 * Appends leaf hashes one at a time and answers the root of what it holds. The stack holds the roots of the maximal
 * complete subtrees, largest first (one per set bit of the size); folding them right to left gives RFC 6962's MTH.
 */
export class MerkleBuilder {
  private stack: string[] = [];
  private count = 0;

  /** Resumes from a frontier a previous builder gave (the checkpoint after which new leaves are appended). */
  static fromFrontier(size: number, frontier: readonly Uint8Array[]): MerkleBuilder {
    let bits = 0;
    for (let s = size; s > 0; s = Math.floor(s / 2)) bits += s % 2;
    if (frontier.length !== bits) throw new Error(`a tree of ${size} leaves has ${bits} frontier hashes, not ${frontier.length}`);
    const b = new MerkleBuilder();
    b.stack = frontier.map(asLatin1);
    b.count = size;
    return b;
  }

  get size(): number {
    return this.count;
  }

  /** A leaf hash (already SHA-256(0x00 || data)). */
  push(leaf: Uint8Array): void {
    this.pushL(asLatin1(leaf));
  }

  /** The leaf for an audit event: its chain hash (64 hex digits) hashed as a leaf. */
  pushChainHash(hex: string): void {
    builderLeaf[0] = 0x00;
    if (builderLeaf.write(hex, 1, 'hex') !== HASH_BYTES) throw new Error('a chain hash is 64 hex digits');
    this.pushL(crypto.hash('sha256', builderLeaf, 'binary'));
  }

  private pushL(leaf: string): void {
    let node = leaf;
    // each trailing 1-bit of the old size is a complete subtree the new leaf completes a sibling for
    for (let s = this.count; s % 2 === 1; s = (s - 1) / 2) node = nodeHashL(this.stack.pop()!, node);
    this.stack.push(node);
    this.count++;
  }

  /** The roots of the complete subtrees, largest first: with the size, all a later builder needs to carry on. */
  frontier(): Buffer[] {
    return this.stack.map((h) => Buffer.from(h, 'latin1'));
  }

  root(): Buffer {
    if (this.stack.length === 0) return Buffer.from(EMPTY_ROOT);
    let acc = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) acc = nodeHashL(this.stack[i]!, acc);
    return Buffer.from(acc, 'latin1');
  }
}

/** MTH over leaf hashes already made. */
export function rootOf(leaves: Iterable<Uint8Array>): Buffer {
  const b = new MerkleBuilder();
  for (const l of leaves) b.push(l);
  return b.root();
}

/** A half-open range of leaf indices [start, end): a proof carries the MTH of each. */
export interface LeafRange {
  start: number;
  end: number;
}

function checkSize(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  }
}

/** The ranges whose MTHs form the audit path of leaf `index` in a tree of `size` (RFC 6962 §2.1.1), in proof order. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  checkSize(index, size);
  const out: LeafRange[] = [];
  // PATH(m, D[a:b]) walked top-down; the proof lists the siblings bottom-up
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      start += k;
      m -= k;
    }
  }
  return out.reverse();
}

/** The ranges whose MTHs form the consistency proof from size `first` to size `second` (RFC 6962 §2.1.2). */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) {
    throw new RangeError(`no consistency proof from ${first} to ${second}`);
  }
  const out: LeafRange[] = [];
  // SUBPROOF(m, D[a:b], b0) walked top-down; the proof lists its nodes bottom-up
  let start = 0;
  let end = second;
  let m = first;
  let whole = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      start += k;
      m -= k;
      whole = false;
    }
  }
  // the old tree is a complete subtree of the new one here: the verifier has its root, unless it is only a part of it
  if (!whole) out.push({ start, end });
  return out.reverse();
}

/**
 * Computes the MTH of each of a set of disjoint ranges from one pass over the leaves in order. Leaves outside every
 * range are skipped; memory is O(log n) per range.
 */
export class RangeHasher {
  private readonly order: Array<{ range: LeafRange; slot: number }>;
  private readonly results: Array<Buffer | undefined>;
  private current = 0;
  private builder: MerkleBuilder | null = null;
  private next = 0;

  constructor(ranges: readonly LeafRange[]) {
    this.order = ranges.map((range, slot) => ({ range, slot })).sort((a, b) => a.range.start - b.range.start);
    this.results = ranges.map(() => undefined);
    for (let i = 1; i < this.order.length; i++) {
      if (this.order[i]!.range.start < this.order[i - 1]!.range.end) throw new Error('RangeHasher: ranges overlap');
    }
  }

  /** The leaf with the next index (0, 1, 2, …). */
  push(leaf: Uint8Array): void {
    const index = this.next++;
    const r = this.order[this.current];
    if (!r || index < r.range.start) return;
    this.builder ??= new MerkleBuilder();
    this.builder.push(leaf);
    if (index + 1 === r.range.end) {
      this.results[r.slot] = this.builder.root();
      this.builder = null;
      this.current++;
    }
  }

  /** The leaf index the last range ends at: no leaf after it is needed. */
  get needed(): number {
    return this.order.reduce((max, r) => Math.max(max, r.range.end), 0);
  }

  get done(): boolean {
    return this.current === this.order.length;
  }

  hashes(): Buffer[] {
    if (!this.done) throw new Error(`RangeHasher: only ${this.next} leaves pushed, ${this.needed} needed`);
    return this.results as Buffer[];
  }
}

function hashRanges(leaves: readonly Uint8Array[], ranges: LeafRange[]): Buffer[] {
  const h = new RangeHasher(ranges);
  for (let i = 0; i < h.needed; i++) h.push(leaves[i]!);
  return h.hashes();
}

/** The audit path of leaf `index` in the tree of the first `size` of `leaves` (leaf hashes). */
export function inclusionProof(leaves: readonly Uint8Array[], index: number, size = leaves.length): Buffer[] {
  if (size > leaves.length) throw new RangeError(`tree of ${size} from ${leaves.length} leaves`);
  return hashRanges(leaves, inclusionRanges(index, size));
}

/** The consistency proof from the tree of the first `first` leaves to that of the first `second`. */
export function consistencyProof(leaves: readonly Uint8Array[], first: number, second = leaves.length): Buffer[] {
  if (second > leaves.length) throw new RangeError(`tree of ${second} from ${leaves.length} leaves`);
  if (first === second) return [];
  return hashRanges(leaves, consistencyRanges(first, second));
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** RFC 9162 §2.1.3.2: does `proof` put leaf hash `leaf` at `index` of the tree of `size` with root `root`? */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (proof.some((p) => p.length !== HASH_BYTES)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `second` (root `secondRoot`) extends that of `first`? */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) return false;
  if (proof.some((p) => p.length !== HASH_BYTES)) return false;
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}

export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export function fromHex(hex: string, what = 'hash'): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${what} is not 64 hex digits`);
  return Buffer.from(hex, 'hex');
}
