/**
 * The audit chain, first version (EB 49). Every state-changing use case appends one event inside its own
 * transaction, so the record and the change commit together or not at all.
 */
import type { Clock } from '../shared/clock';
import type { ActionContext } from '../shared/access';
import type { Db, Runner } from '../db';
import { GENESIS_HASH, hashAuditRecord, type AuditRecord } from '../../crypto/audit-hash';
import { auditRepository, type StoredAuditEvent } from './audit.repository';

export interface AuditEntry {
  action: string;
  objectType?: string;
  objectId?: string;
  tenderId?: string | null;
  /** What was done, with ids and figures: never a key, a password, a nonce answer or bid content. */
  payload?: Record<string, unknown>;
}

// Names that must never reach the chain. A payload carrying one is a programming error, refused loudly.
const SECRET_KEYS = /^(password|passwordHash|privateKey|privateKeyPem|contentKey|cek|share|shares|token|secret|signature)$/i;

function assertNoSecrets(value: unknown, path = 'payload'): void {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEYS.test(k)) throw new Error(`audit ${path}.${k}: secret material may not be recorded`);
    assertNoSecrets(v, `${path}.${k}`);
  }
}

export type ChainProblem = 'SEQ_GAP' | 'PREV_HASH_MISMATCH' | 'HASH_MISMATCH';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number | null;
  headHash: string | null;
  firstBroken?: { seq: number; problem: ChainProblem; expected: string; found: string };
}

export class AuditService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Appends to the chain within `trx` (the use case's transaction). Returns the event's sequence number. */
  async append(trx: Runner, ctx: ActionContext, entry: AuditEntry): Promise<StoredAuditEvent> {
    const payload = entry.payload ?? {};
    assertNoSecrets(payload);
    const head = await auditRepository.lockHead(trx);
    const record: AuditRecord = {
      seq: (head?.seq ?? 0) + 1,
      occurredAt: this.clock.now(),
      actorUserId: ctx.actor?.userId ?? null,
      actorOrgId: ctx.actor?.orgId ?? null,
      actorOrgType: ctx.actor?.orgType ?? null,
      actorRole: ctx.actor?.role ?? null,
      certSerial: ctx.actor?.certSerial ?? null,
      clientIp: ctx.meta.ip,
      userAgent: ctx.meta.userAgent,
      deviceFingerprint: ctx.meta.deviceFingerprint,
      requestId: ctx.meta.requestId,
      action: entry.action,
      objectType: entry.objectType ?? null,
      objectId: entry.objectId ?? null,
      tenderId: entry.tenderId ?? null,
      // jsonb normalises what it stores; hash what a reader will get back
      payload: JSON.parse(JSON.stringify(payload)),
      prevHash: head?.hash ?? GENESIS_HASH,
    };
    const event = { ...record, hash: hashAuditRecord(record) };
    await auditRepository.insert(trx, event);
    return event;
  }

  /** Appends in a transaction of its own (for events with no business change, e.g. a failed login). */
  async record(ctx: ActionContext, entry: AuditEntry): Promise<StoredAuditEvent> {
    return this.db.transaction((trx) => this.append(trx, ctx, entry));
  }

  /** Walks the whole chain and names the first row that breaks it. */
  async verify(onProgress?: (checked: number) => void): Promise<VerifyResult> {
    return verifyChain(this.db, onProgress);
  }

  list(filter: Parameters<typeof auditRepository.list>[1]) {
    return auditRepository.list(this.db, filter);
  }
}

export async function verifyChain(db: Runner, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  const PAGE = 1000;
  let prev: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  let checked = 0;
  for (;;) {
    const page = await auditRepository.pageAfter(db, prev.seq, PAGE);
    for (const event of page) {
      const broken = (problem: ChainProblem, expected: string, found: string): VerifyResult => ({
        ok: false,
        checked,
        headSeq: prev.seq || null,
        headHash: prev.seq ? prev.hash : null,
        firstBroken: { seq: event.seq, problem, expected, found },
      });
      // a deleted row shows as a gap; a reordering as a prev_hash that names another row
      if (event.seq !== prev.seq + 1) return broken('SEQ_GAP', String(prev.seq + 1), String(event.seq));
      if (event.prevHash !== prev.hash) return broken('PREV_HASH_MISMATCH', prev.hash, event.prevHash);
      const { hash, ...record } = event;
      const recomputed = hashAuditRecord(record);
      if (recomputed !== hash) return broken('HASH_MISMATCH', recomputed, hash);
      prev = { seq: event.seq, hash };
      checked++;
    }
    onProgress?.(checked);
    if (page.length < PAGE) break;
  }
  return { ok: true, checked, headSeq: prev.seq || null, headHash: prev.seq ? prev.hash : null };
}
