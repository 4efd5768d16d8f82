/**
 * Signed checkpoints of the audit chain (architecture: "periodic signed checkpoints (a Merkle root) let a regulator
 * verify the log offline and a bidder verify its receipt is in it"; EB 49). A checkpoint covers events 1..n: their
 * RFC 6962 Merkle root (leaves = the events' chain hashes), the last event's chain hash, the time, signed with the
 * platform's document-signing key. Each new one hashes only the events after the previous one (from its frontier),
 * and checks their hash chain on the way: the platform never signs over a broken chain.
 *
 * Is making a checkpoint itself recorded in the chain? The periodic job records nothing: the signed row is its own
 * record, and an event per checkpoint would make the log grow every time, so every run would find "new" events and
 * sign again forever. An operator's request on demand is a person's act and is recorded (EB 49) — once, after the
 * checkpoint it made, so it is covered by the next one and causes at most one more.
 */
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { MINUTE_MS } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import { formatShanghai } from '../shared/time';
import { enqueueInTrx, hasOpenJob } from '../shared/queue/outbox.repository';
import { parseCertificate } from '../../crypto/pki';
import type { PlatformKeys } from '../identity/platform-keys';
import { canonicalJson, GENESIS_HASH, hashAuditRecord } from '../../crypto/audit-hash';
import { auditRepository } from './audit.repository';
import type { AuditService } from './audit.service';
import { checkpointsRepository as repo, type StoredCheckpoint } from './checkpoints.repository';
import { logOrigin, signCheckpoint, type SignedCheckpoint } from '../../crypto/checkpoint-note';
import { AuditChainBroken, CheckpointNotFound, ConsistencyRangeInvalid, EventNotYetCheckpointed, NoCheckpointYet } from './checkpoints.errors';
import { consistencyRanges, fromHex, inclusionRanges, leafHash, MerkleBuilder, RangeHasher, toHex, type LeafRange } from '../../crypto/merkle';
import { CHECKPOINT_JOB } from './monitoring.jobs';
import { INCLUSION_PROOF_FORMAT, type InclusionProofDocument } from '../../crypto/audit-proof';
import { exportStream } from './audit-export';

const PAGE = 2000;

export interface CheckpointView extends SignedCheckpoint {
  madeAtLocal: string;
}

export interface ConsistencyProofView {
  first: CheckpointView;
  second: CheckpointView;
  proof: string[];
}

const view = ({ frontier: _f, ...c }: StoredCheckpoint): CheckpointView => ({ ...c, madeAtLocal: formatShanghai(new Date(c.madeAt)) });

export class CheckpointService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly keys: PlatformKeys,
    private readonly opts: { platformName: string; intervalMinutes: number },
  ) {}

  /** The job's entry (and any caller's without an actor): a checkpoint if the chain grew, recorded nowhere else. */
  async makeIfGrown(): Promise<{ made: boolean; checkpoint: CheckpointView | null }> {
    const r = await this.db.transaction((trx) => this.makeIn(trx));
    return { made: r.made, checkpoint: r.checkpoint && view(r.checkpoint) };
  }

  /** An operator's "sign one now": recorded in the chain when it made one. */
  async makeNow(ctx: ActionContext): Promise<{ made: boolean; checkpoint: CheckpointView | null }> {
    requireActor(ctx, 'operator');
    return this.db.transaction(async (trx) => {
      const r = await this.makeIn(trx);
      if (r.made && r.checkpoint) {
        await this.audit.append(trx, ctx, {
          action: 'audit.checkpoint',
          objectType: 'audit_checkpoint',
          objectId: String(r.checkpoint.treeSize),
          payload: { treeSize: r.checkpoint.treeSize, rootHash: r.checkpoint.rootHash },
        });
      }
      return { made: r.made, checkpoint: r.checkpoint && view(r.checkpoint) };
    });
  }

  private async makeIn(trx: Runner): Promise<{ made: boolean; checkpoint: StoredCheckpoint | null }> {
    await repo.lock(trx);
    const last = await repo.latest(trx);
    const head = await auditRepository.head(trx);
    if (!head || head.seq <= (last?.treeSize ?? 0)) return { made: false, checkpoint: last };
    const tree = last ? MerkleBuilder.fromFrontier(last.treeSize, last.frontier.map((h) => fromHex(h))) : new MerkleBuilder();
    let prev = last ? { seq: last.treeSize, hash: last.lastEventHash } : { seq: 0, hash: GENESIS_HASH };
    while (prev.seq < head.seq) {
      const page = await auditRepository.pageAfter(trx, prev.seq, Math.min(PAGE, head.seq - prev.seq));
      if (page.length === 0) throw AuditChainBroken({ seq: prev.seq + 1, problem: 'SEQ_GAP' });
      for (const event of page) {
        const { hash, ...record } = event;
        if (event.seq !== prev.seq + 1) throw AuditChainBroken({ seq: prev.seq + 1, problem: 'SEQ_GAP' });
        if (event.prevHash !== prev.hash) throw AuditChainBroken({ seq: event.seq, problem: 'PREV_HASH_MISMATCH' });
        if (hashAuditRecord(record) !== hash) throw AuditChainBroken({ seq: event.seq, problem: 'HASH_MISMATCH' });
        tree.push(leafHash(fromHex(hash)));
        prev = { seq: event.seq, hash };
      }
    }
    const fields = {
      origin: logOrigin(this.opts.platformName),
      treeSize: tree.size,
      rootHash: toHex(tree.root()),
      lastEventHash: prev.hash,
      madeAt: this.clock.now().toISOString(),
    };
    const checkpoint: StoredCheckpoint = {
      ...fields,
      signerSerial: parseCertificate(this.keys.signer.certificatePem).serialHex,
      signature: signCheckpoint(fields, this.keys.signer.privateKeyPem),
      frontier: tree.frontier().map(toHex),
    };
    await repo.insert(trx, checkpoint);
    return { made: true, checkpoint };
  }

  async list(ctx: ActionContext, filter: { beforeSize?: number; limit: number }): Promise<CheckpointView[]> {
    requireActor(ctx, 'regulator', 'operator');
    return (await repo.list(this.db, filter)).map(view);
  }

  private async checkpointAt(treeSize?: number): Promise<StoredCheckpoint> {
    if (treeSize === undefined) {
      const latest = await repo.latest(this.db);
      if (!latest) throw NoCheckpointYet();
      return latest;
    }
    const c = await repo.get(this.db, treeSize);
    if (!c) throw CheckpointNotFound({ treeSize });
    return c;
  }

  /**
   * The proof that event `seq` is in the latest signed checkpoint (or the one of `treeSize`): what a bidder keeps
   * with its receipt. Regulators and operators may ask for any event; anyone else only for its own organisation's
   * (another's answers 404, as if it did not exist).
   */
  async inclusionProof(ctx: ActionContext, seq: number, treeSize?: number): Promise<InclusionProofDocument> {
    const actor = requireActor(ctx);
    const [event] = await auditRepository.pageAfter(this.db, seq - 1, 1);
    if (!event || event.seq !== seq || (!seesEverything(actor) && event.actorOrgId !== actor.orgId)) throw NotFound({ resource: '审计事件' });
    const checkpoint = await this.checkpointAt(treeSize);
    if (seq > checkpoint.treeSize) {
      throw EventNotYetCheckpointed({ seq, treeSize: checkpoint.treeSize, nextWithinMinutes: this.opts.intervalMinutes });
    }
    const [proof] = await this.rangeHashes(checkpoint.treeSize, [inclusionRanges(seq - 1, checkpoint.treeSize)]);
    return {
      format: INCLUSION_PROOF_FORMAT,
      event: JSON.parse(canonicalJson(event)),
      leafIndex: seq - 1,
      treeSize: checkpoint.treeSize,
      leafHash: toHex(leafHash(fromHex(event.hash))),
      proof: proof!,
      checkpoint: view(checkpoint),
      certificates: { ca: this.keys.ca.certificatePem, signer: this.keys.signer.certificatePem },
      verify: 'npm run audit:verify -- --proof <this file> --ca <the platform root certificate>',
    };
  }

  /** RFC 6962 consistency proof between two signed checkpoints: the later log extends the earlier unchanged. */
  async consistencyProof(ctx: ActionContext, first: number, second: number): Promise<ConsistencyProofView> {
    requireActor(ctx, 'regulator', 'operator');
    if (first > second) throw ConsistencyRangeInvalid({ first, second });
    const a = await this.checkpointAt(first);
    const b = await this.checkpointAt(second);
    const [proof] = first === second ? [[]] : await this.rangeHashes(b.treeSize, [consistencyRanges(first, second)]);
    return { first: view(a), second: view(b), proof: proof! };
  }

  /** Streams the leaves once and fills each set of ranges (a proof each). */
  private async rangeHashes(treeSize: number, sets: LeafRange[][]): Promise<string[][]> {
    const hashers = sets.map((ranges) => new RangeHasher(ranges));
    const needed = Math.min(treeSize, Math.max(...hashers.map((h) => h.needed)));
    for (let after = 0; after < needed; ) {
      const page = await repo.chainHashes(this.db, after, needed, PAGE);
      if (page.length === 0) break;
      for (const { seq, hash } of page) {
        const leaf = leafHash(fromHex(hash));
        for (const h of hashers) h.push(leaf);
        after = seq;
      }
    }
    return hashers.map((h) => h.hashes().map(toHex));
  }

  /** The regulator's export as NDJSON lines (audit-export.ts), read page by page. */
  exportLines(ctx: ActionContext): AsyncGenerator<string> {
    requireActor(ctx, 'regulator', 'operator');
    return exportStream(this.db, this.opts.platformName, this.clock.now());
  }

  /** At start: makes sure a run is due (each run schedules its successor; several instances converge on one slot). */
  async schedule(): Promise<void> {
    await this.db.transaction(async (trx) => {
      if (!(await hasOpenJob(trx, CHECKPOINT_JOB.name, {}))) {
        const at = this.nextSlot();
        await enqueueInTrx(trx, { ...CHECKPOINT_JOB, payload: { at: at.toISOString() }, runAt: at });
      }
    });
  }

  /**
   * The periodic run: a checkpoint if the chain grew, then the next run, once. The next run is due even when this
   * one fails (a chain found broken fails the job, visibly in the outbox, and is found again next time).
   */
  async runScheduled(): Promise<void> {
    try {
      await this.makeIfGrown();
    } finally {
      const at = this.nextSlot();
      await this.db.transaction(async (trx) => {
        if (!(await hasOpenJob(trx, CHECKPOINT_JOB.name, { at: at.toISOString() }))) {
          await enqueueInTrx(trx, { ...CHECKPOINT_JOB, payload: { at: at.toISOString() }, runAt: at });
        }
      });
    }
  }

  /** Runs fall on a grid of AUDIT_CHECKPOINT_MINUTES, so every instance computes the same next slot. */
  private nextSlot(): Date {
    const step = this.opts.intervalMinutes * MINUTE_MS;
    return new Date((Math.floor(this.clock.now().getTime() / step) + 1) * step);
  }
}
