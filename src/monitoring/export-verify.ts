/**
 * The regulator's offline check of an audit-log export (EB 49). Pure: it reads the export's contents handed to it (no
 * database, no network) and trusts nothing in them but the CA certificate, whose fingerprint the result shows so it
 * can be compared with the one the platform publishes. (A bidder's check of one event's inclusion proof is
 * crypto/audit-proof.ts, which ships in bidtool.)
 *
 * What an export holds: export-format.ts; what can be found wrong in it: export-problems.ts.
 *
 * It checks: every event's hash recomputed from its fields, the prev-hash links and seq continuity (each problem
 * named with its seq and line); each checkpoint's signature with a signer certificate issued by the CA for signing and
 * valid when the checkpoint was made; each checkpoint's Merkle root recomputed from the events' chain hashes and its
 * last-event hash; and that successive checkpoints grow and agree with one another.
 *
 * Speed: a line written by the platform is canonical, so the bytes to hash are the line without its `"hash"` member;
 * when they hash to that value the line is exactly what the platform hashed and its seq and prev-hash are read by
 * position, without parsing. Any other line (reformatted, altered, malformed) takes the slow path: parsed, put in
 * canonical form and hashed again, so a reformatted but unaltered event still verifies.
 */
import crypto from 'node:crypto';
import { checkCertificate, parseCertificate, PkiError } from '../../crypto/pki';
import { canonicalJson, GENESIS_HASH } from '../../crypto/audit-hash';
import { checkpointSignatureValid, type SignedCheckpoint } from '../../crypto/checkpoint-note';
import { MerkleBuilder, toHex } from '../../crypto/merkle';
import type { ExportContents } from './export-format';
import type { Problem } from './export-problems';

export interface ExportVerifyResult {
  ok: boolean;
  /** Event lines read. */
  events: number;
  /** Checkpoints whose signature, signer and root all held. */
  checkpoints: number;
  headSeq: number | null;
  headHash: string | null;
  /** The latest checkpoint that held: what the signature vouches for. */
  latestCheckpoint: { treeSize: number; rootHash: string; madeAt: string } | null;
  /** SHA-256 of the CA certificate (DER), to compare with the platform's published one. */
  caFingerprintSha256: string | null;
  problems: Problem[];
  /** Problems beyond the first MAX_PROBLEMS, counted only. */
  omittedProblems: number;
  message: string;
}

export const MAX_PROBLEMS = 1000;
const HASH_MEMBER = Buffer.from(',"hash":"');
/** `,"hash":"` + 64 hex digits + `"` */
const HASH_MEMBER_LENGTH = HASH_MEMBER.length + 65;
const SEQ_MEMBER = Buffer.from(',"seq":');
const PREV_MEMBER = Buffer.from(',"prevHash":"');
const QUOTE = 0x22;
const CR = 0x0d;

const sha256Hex = (text: string) => crypto.hash('sha256', text, 'hex');

export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

interface Signer {
  serial: string;
  pem: string;
  notBefore: number;
  notAfter: number;
  trusted: boolean;
  why?: string;
}

function checkpointProblem(c: unknown): string | null {
  if (!c || typeof c !== 'object') return 'not an object';
  const x = c as Record<string, unknown>;
  if (!Number.isSafeInteger(x.treeSize) || (x.treeSize as number) < 1) return 'treeSize';
  for (const k of ['rootHash', 'lastEventHash'] as const) if (typeof x[k] !== 'string' || !/^[0-9a-f]{64}$/.test(x[k] as string)) return k;
  for (const k of ['origin', 'signerSerial', 'signature', 'madeAt'] as const) if (typeof x[k] !== 'string') return k;
  if (Number.isNaN(Date.parse(x.madeAt as string))) return 'madeAt';
  return null;
}

/** Gaps in seq as ranges, so a truncated log of a million events costs one entry. */
class Gaps {
  private ranges: Array<[number, number]> = [];
  add(from: number, to: number): void {
    this.ranges.push([from, to]);
  }
  /** Takes `seq` out of the gaps; whether it was in one. */
  fill(seq: number): boolean {
    const i = this.ranges.findIndex(([a, b]) => a <= seq && seq <= b);
    if (i < 0) return false;
    const [a, b] = this.ranges[i]!;
    const rest: Array<[number, number]> = [];
    if (a < seq) rest.push([a, seq - 1]);
    if (seq < b) rest.push([seq + 1, b]);
    this.ranges.splice(i, 1, ...rest);
    return true;
  }
  all(): Array<[number, number]> {
    return [...this.ranges].sort((x, y) => x[0] - y[0]);
  }
}

/** Feed it events.ndjson line by line (`line`), then `finish()`. Memory stays O(log n + problems). */
export class ExportVerifier {
  private readonly problems: Problem[] = [];
  private omitted = 0;
  private readonly tree = new MerkleBuilder();
  private readonly checkpoints: SignedCheckpoint[] = [];
  /** Checkpoints (by index) waiting for the tree to reach their size. */
  private readonly bySize = new Map<number, number[]>();
  /** Index → whether signature, signer, root and head held. */
  private readonly held: boolean[] = [];
  private readonly rootMatched: Array<boolean | undefined> = [];
  /** Index → whether the signature verified with a trusted signer (the platform's own claim). */
  private readonly signed: boolean[] = [];
  private readonly caFingerprint: string | null = null;
  private lineNo = 0;
  private events = 0;
  private maxSeq = 0;
  private lastSeqRead = 0;
  private head: { seq: number; hash: string } | null = null;
  private readonly gaps = new Gaps();
  /** Hashes of events whose successor has not been read yet (one entry while in order). */
  private readonly awaitingNext = new Map<number, string>();
  /** Prev-hashes of events read before their predecessor. */
  private readonly awaitingPrev = new Map<number, string>();

  constructor(input: Omit<ExportContents, 'events'>) {
    const signers: Signer[] = [];
    try {
      this.caFingerprint = parseCertificate(input.caPem).fingerprintSha256;
    } catch (err) {
      this.report({ kind: 'CERTIFICATE_INVALID', detail: `ca.pem: ${(err as Error).message}` });
    }
    const signerPems = splitPemCertificates(input.signerPem);
    if (signerPems.length === 0) this.report({ kind: 'CERTIFICATE_INVALID', detail: 'signer.pem holds no certificate' });
    for (const pem of signerPems) {
      try {
        const info = parseCertificate(pem);
        const s: Signer = { serial: info.serialHex, pem, notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime(), trusted: false };
        if (this.caFingerprint) {
          // issued by the CA, for signing; the time is checked per checkpoint below
          const check = checkCertificate(pem, input.caPem, info.notBefore, 'signing');
          s.trusted = check.ok;
          if (!check.ok) s.why = check.problem;
        } else s.why = 'no CA certificate';
        if (!s.trusted) this.report({ kind: 'CERTIFICATE_INVALID', detail: `signer certificate ${s.serial}: ${s.why}` });
        signers.push(s);
      } catch (err) {
        this.report({ kind: 'CERTIFICATE_INVALID', detail: `signer.pem: ${err instanceof PkiError ? err.message : String(err)}` });
      }
    }

    let list: unknown = input.checkpoints;
    if (typeof list === 'string') {
      try {
        list = JSON.parse(list);
      } catch {
        list = null;
      }
    }
    if (!Array.isArray(list)) {
      this.report({ kind: 'CHECKPOINT_MALFORMED', detail: 'checkpoints.json is not a JSON array' });
      list = [];
    }
    let previous: SignedCheckpoint | null = null;
    for (const raw of list as unknown[]) {
      const index = this.checkpoints.length;
      const bad = checkpointProblem(raw);
      const c = raw as SignedCheckpoint;
      this.checkpoints.push(c);
      this.held.push(false);
      this.signed.push(false);
      this.rootMatched.push(undefined);
      if (bad) {
        this.report({ kind: 'CHECKPOINT_MALFORMED', checkpoint: (raw as { treeSize?: number })?.treeSize, detail: `checkpoint #${index + 1}: bad ${bad}` });
        continue;
      }
      let good = true;
      const signer = signers.find((s) => s.serial === c.signerSerial.toLowerCase());
      if (!signer || !checkpointSignatureValid(c, signer.pem)) {
        good = false;
        this.report({
          kind: 'CHECKPOINT_FORGED',
          checkpoint: c.treeSize,
          detail: signer
            ? `the signature over checkpoint #${index + 1} (${c.treeSize} events, made ${c.madeAt}) does not verify with certificate ${signer.serial}`
            : `checkpoint #${index + 1} names signer ${c.signerSerial}, which is not in signer.pem`,
        });
      } else {
        const t = Date.parse(c.madeAt);
        if (!signer.trusted || t < signer.notBefore || t > signer.notAfter) {
          good = false;
          this.report({
            kind: 'CHECKPOINT_SIGNER_UNTRUSTED',
            checkpoint: c.treeSize,
            detail: !signer.trusted ? `signer ${signer.serial}: ${signer.why}` : `signer ${signer.serial} was not valid at ${c.madeAt}`,
          });
        }
      }
      if (previous && (c.treeSize <= previous.treeSize || Date.parse(c.madeAt) < Date.parse(previous.madeAt))) {
        this.report({
          kind: 'CHECKPOINTS_INCONSISTENT',
          checkpoint: c.treeSize,
          detail: `checkpoint #${index + 1} (${c.treeSize} events, ${c.madeAt}) does not follow the one before (${previous.treeSize} events, ${previous.madeAt})`,
        });
      }
      previous = c;
      this.held[index] = good;
      this.signed[index] = good;
      this.bySize.set(c.treeSize, [...(this.bySize.get(c.treeSize) ?? []), index]);
    }
  }

  private report(p: Problem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
    else this.omitted++;
  }

  /** A line of events.ndjson. */
  line(text: string): void {
    this.lineBytes(Buffer.from(text, 'utf8'));
  }

  /** A line of events.ndjson as its UTF-8 bytes, without the newline (the CLI reads the file this way). */
  lineBytes(bytes: Buffer): void {
    this.lineNo++;
    const line = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
    if (line.length === 0) return;
    const event = this.read(line);
    if (!event) return;
    this.events++;
    this.chain(event.seq, event.prevHash, event.hash);
    this.tree.pushChainHash(event.hash);
    const due = this.bySize.get(this.tree.size);
    if (due) this.checkRoot(due, event.hash);
  }

  /** seq, prev-hash and hash of a line, its content checked; null (and a problem) if unreadable. */
  private scratch = Buffer.alloc(4096);

  private read(line: Buffer): { seq: number; prevHash: string; hash: string } | null {
    const at = line.indexOf(HASH_MEMBER);
    if (at > 0 && line.length >= at + HASH_MEMBER_LENGTH && line[at + HASH_MEMBER_LENGTH - 1] === QUOTE) {
      const hash = line.toString('latin1', at + HASH_MEMBER.length, at + HASH_MEMBER_LENGTH - 1);
      // the bytes the hash is over: the line without its hash member, copied once into a reused buffer
      const size = line.length - HASH_MEMBER_LENGTH;
      if (this.scratch.length < size) this.scratch = Buffer.alloc(Math.max(size, this.scratch.length * 2));
      line.copy(this.scratch, 0, 0, at);
      line.copy(this.scratch, at, at + HASH_MEMBER_LENGTH);
      const body = this.scratch.subarray(0, size);
      if (crypto.hash('sha256', body, 'hex') === hash) {
        // the platform's own canonical bytes: in key order, seq and prevHash are the last members of their name
        const s = body.lastIndexOf(SEQ_MEMBER);
        const p = body.lastIndexOf(PREV_MEMBER);
        let seq = 0;
        let i = s + SEQ_MEMBER.length;
        for (; s >= 0 && i < body.length && body[i]! >= 0x30 && body[i]! <= 0x39; i++) seq = seq * 10 + body[i]! - 0x30;
        if (s >= 0 && p >= 0 && i > s + SEQ_MEMBER.length && Number.isSafeInteger(seq)) {
          return { seq, prevHash: body.toString('latin1', p + PREV_MEMBER.length, p + PREV_MEMBER.length + 64), hash };
        }
      }
    }
    return this.readSlowly(line);
  }

  private readSlowly(line: Buffer): { seq: number; prevHash: string; hash: string } | null {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line.toString('utf8'));
    } catch {
      this.report({ kind: 'EVENT_MALFORMED', line: this.lineNo, detail: `line ${this.lineNo} is not JSON` });
      return null;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.report({ kind: 'EVENT_MALFORMED', line: this.lineNo, detail: `line ${this.lineNo} is not an event object` });
      return null;
    }
    const { hash, ...record } = parsed;
    const seq = record.seq;
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash) || !Number.isSafeInteger(seq) || typeof record.prevHash !== 'string') {
      this.report({ kind: 'EVENT_MALFORMED', line: this.lineNo, seq: Number.isSafeInteger(seq) ? (seq as number) : undefined, detail: `line ${this.lineNo} lacks seq, prevHash or hash` });
      return null;
    }
    const recomputed = sha256Hex(canonicalJson(record));
    if (recomputed !== hash) {
      this.report({
        kind: 'EVENT_ALTERED',
        seq: seq as number,
        line: this.lineNo,
        detail: `event ${seq} (line ${this.lineNo}, ${String(record.action)}): its fields hash to ${recomputed}, it states ${hash}`,
      });
    }
    return { seq: seq as number, prevHash: record.prevHash, hash };
  }

  private chain(seq: number, prevHash: string, hash: string): void {
    const line = this.lineNo;
    if (seq === this.maxSeq + 1) {
      this.maxSeq = seq;
    } else if (seq > this.maxSeq + 1) {
      this.gaps.add(this.maxSeq + 1, seq - 1);
      this.maxSeq = seq;
    } else if (this.gaps.fill(seq)) {
      this.report({ kind: 'EVENTS_REORDERED', seq, line, detail: `event ${seq} is at line ${line}, after event ${this.lastSeqRead}` });
    } else {
      this.report({ kind: 'EVENT_DUPLICATED', seq, line, detail: `event ${seq} appears again at line ${line}` });
      this.lastSeqRead = seq;
      return;
    }
    this.lastSeqRead = seq;

    // links are checked by seq, so events out of order still have theirs checked, once both ends are read
    const linkBroken = (expected: string) =>
      this.report({ kind: 'CHAIN_BROKEN', seq, line, detail: `event ${seq} names ${prevHash} as the hash before it; event ${seq - 1} has ${expected}` });
    if (seq === 1) {
      if (prevHash !== GENESIS_HASH) linkBroken(GENESIS_HASH);
    } else if (this.awaitingNext.has(seq - 1)) {
      const before = this.awaitingNext.get(seq - 1)!;
      this.awaitingNext.delete(seq - 1);
      if (before !== prevHash) linkBroken(before);
    } else {
      this.awaitingPrev.set(seq, prevHash);
    }
    const after = this.awaitingPrev.get(seq + 1);
    if (after !== undefined) {
      this.awaitingPrev.delete(seq + 1);
      if (after !== hash) {
        this.report({ kind: 'CHAIN_BROKEN', seq: seq + 1, detail: `event ${seq + 1} names ${after} as the hash before it; event ${seq} has ${hash}` });
      }
    } else {
      this.awaitingNext.set(seq, hash);
    }
    if (!this.head || seq > this.head.seq) this.head = { seq, hash };
  }

  private checkRoot(indices: number[], lastHash: string): void {
    const root = toHex(this.tree.root());
    for (const i of indices) {
      const c = this.checkpoints[i]!;
      const matched = root === c.rootHash;
      this.rootMatched[i] = matched;
      if (!matched) {
        this.held[i] = false;
        this.report({
          kind: 'CHECKPOINT_ROOT_MISMATCH',
          checkpoint: c.treeSize,
          detail: `checkpoint of ${c.treeSize} events (made ${c.madeAt}) signs root ${c.rootHash}; the first ${c.treeSize} exported events give ${root}`,
        });
      }
      if (lastHash !== c.lastEventHash) {
        this.held[i] = false;
        this.report({
          kind: 'CHECKPOINT_HEAD_MISMATCH',
          checkpoint: c.treeSize,
          detail: `checkpoint of ${c.treeSize} events names last-event hash ${c.lastEventHash}; event line ${this.lineNo} has ${lastHash}`,
        });
      }
    }
  }

  finish(): ExportVerifyResult {
    for (const [from, to] of this.gaps.all()) {
      this.report({ kind: 'EVENT_MISSING', seq: from, detail: from === to ? `event ${from} is missing` : `events ${from}–${to} are missing` });
    }
    this.checkpoints.forEach((c, i) => {
      if (this.rootMatched[i] === undefined && this.bySize.has(c.treeSize)) {
        this.held[i] = false;
        this.report({ kind: 'CHECKPOINT_BEYOND_LOG', checkpoint: c.treeSize, detail: `checkpoint #${i + 1} signs ${c.treeSize} events; the export has ${this.tree.size}` });
      }
    });
    // RFC 6962 consistency between successive checkpoints: both roots recomputed from one list of leaves are
    // consistent by construction, so the question is whether the exported history agrees with both. A later one it
    // matches after an earlier one it doesn't is a history rewritten after the earlier was signed. Only checkpoints
    // the platform really signed count: a forged one is no claim of the platform's.
    const signed = this.checkpoints.map((c, i) => ({ c, i })).filter(({ i }) => this.signed[i]);
    for (let j = 1; j < signed.length; j++) {
      const { c: a, i: ia } = signed[j - 1]!;
      const { c: b, i: ib } = signed[j]!;
      if (this.rootMatched[ia] === false && this.rootMatched[ib] === true) {
        this.report({
          kind: 'CHECKPOINTS_INCONSISTENT',
          checkpoint: a.treeSize,
          detail: `the export matches checkpoint ${b.treeSize} but not the earlier ${a.treeSize}: the first ${a.treeSize} events were rewritten after ${a.madeAt}`,
        });
      }
    }
    const latestIndex = this.held.lastIndexOf(true);
    const latest = latestIndex >= 0 ? this.checkpoints[latestIndex]! : null;
    const ok = this.problems.length === 0 && this.omitted === 0;
    const total = this.problems.length + this.omitted;
    const message = ok
      ? `交易日志完整 (audit log intact): ${this.events} events, ${this.held.filter(Boolean).length} signed checkpoints verified` +
        (latest ? `, the latest covering ${latest.treeSize} events with root ${latest.rootHash}` : ', none signed yet')
      : `交易日志发现 ${total} 处问题 (audit log has ${total} problem${total === 1 ? '' : 's'}); first: ${this.problems[0]!.kind} — ${this.problems[0]!.detail}`;
    return {
      ok,
      events: this.events,
      checkpoints: this.held.filter(Boolean).length,
      headSeq: this.head?.seq ?? null,
      headHash: this.head?.hash ?? null,
      latestCheckpoint: latest && { treeSize: latest.treeSize, rootHash: latest.rootHash, madeAt: latest.madeAt },
      caFingerprintSha256: this.caFingerprint,
      problems: this.problems,
      omittedProblems: this.omitted,
      message,
    };
  }
}

function* linesOf(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    yield text.slice(start, end);
    start = end + 1;
  }
}

/** Verifies a whole export held in memory (tests, small logs). The CLI streams events.ndjson into ExportVerifier. */
export function verifyExport(contents: ExportContents): ExportVerifyResult {
  const v = new ExportVerifier(contents);
  for (const line of typeof contents.events === 'string' ? linesOf(contents.events) : contents.events) v.line(line);
  return v.finish();
}
