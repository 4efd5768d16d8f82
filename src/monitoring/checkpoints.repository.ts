import type { Runner } from '../db';
import type { SignedCheckpoint } from '../../crypto/checkpoint-note';

export interface StoredCheckpoint extends SignedCheckpoint {
  /** Hex roots of the complete subtrees after `treeSize` leaves, largest first (crypto/merkle.ts MerkleBuilder). */
  frontier: string[];
}

type Row = Record<string, unknown>;

function fromRow(r: Row): StoredCheckpoint {
  return {
    origin: r.origin as string,
    treeSize: Number(r.tree_size),
    rootHash: String(r.root_hash).trim(),
    lastEventHash: String(r.last_event_hash).trim(),
    madeAt: new Date(r.made_at as string | Date).toISOString(),
    signerSerial: r.signer_serial as string,
    signature: r.signature as string,
    frontier: (typeof r.frontier === 'string' ? JSON.parse(r.frontier) : r.frontier) as string[],
  };
}

// Checkpoint makers (the periodic job on every worker, an operator on demand) take turns on this key.
const CHECKPOINT_LOCK_KEY = 4_902_772;

export const checkpointsRepository = {
  async lock(trx: Runner): Promise<void> {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [CHECKPOINT_LOCK_KEY]);
  },

  async insert(trx: Runner, c: StoredCheckpoint): Promise<void> {
    await trx('audit_checkpoints').insert({
      tree_size: c.treeSize,
      root_hash: c.rootHash,
      last_event_hash: c.lastEventHash,
      made_at: new Date(c.madeAt),
      origin: c.origin,
      signer_serial: c.signerSerial,
      signature: c.signature,
      frontier: JSON.stringify(c.frontier),
    });
  },

  async latest(db: Runner): Promise<StoredCheckpoint | null> {
    const row = await db('audit_checkpoints').orderBy('tree_size', 'desc').first();
    return row ? fromRow(row) : null;
  },

  async get(db: Runner, treeSize: number): Promise<StoredCheckpoint | null> {
    const row = await db('audit_checkpoints').where({ tree_size: treeSize }).first();
    return row ? fromRow(row) : null;
  },

  /** Newest first. */
  async list(db: Runner, filter: { beforeSize?: number; limit: number }): Promise<StoredCheckpoint[]> {
    const q = db('audit_checkpoints').orderBy('tree_size', 'desc').limit(filter.limit);
    if (filter.beforeSize) q.where('tree_size', '<', filter.beforeSize);
    return (await q).map(fromRow);
  },

  /** Oldest first, a page at a time, up to `maxSize` (an export's bound). */
  async pageAfter(db: Runner, afterSize: number, maxSize: number, limit: number): Promise<StoredCheckpoint[]> {
    const rows = await db('audit_checkpoints').where('tree_size', '>', afterSize).andWhere('tree_size', '<=', maxSize).orderBy('tree_size').limit(limit);
    return rows.map(fromRow);
  },

  /** The chain hashes of events after `afterSeq` up to `uptoSeq`, in seq order: the Merkle tree's leaves. */
  async chainHashes(db: Runner, afterSeq: number, uptoSeq: number, limit: number): Promise<Array<{ seq: number; hash: string }>> {
    const rows = await db('audit_events').select('seq', 'hash').where('seq', '>', afterSeq).andWhere('seq', '<=', uptoSeq).orderBy('seq').limit(limit);
    return rows.map((r: Row) => ({ seq: Number(r.seq), hash: String(r.hash).trim() }));
  },
};
