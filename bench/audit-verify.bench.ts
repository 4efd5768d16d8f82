/**
 * Offline verification of the audit log: how fast a regulator's `npm run audit:verify -- --export DIR` checks an
 * export, against the machine's raw SHA-256 over the same bytes in the same run.
 *
 * Workload: EVENTS (default 200,000; `--size-mib N` is read as N thousand events) realistic audit events — logins,
 * tenders, bid submissions with their SHA-256, sizes and certificate serials, openings, deposits; Chinese text,
 * addresses, user agents — chained as the platform chains them (crypto/audit-hash.ts), written as events.ndjson lines
 * (canonical JSON with the hash), with a signed checkpoint every 10,000 events (crypto/checkpoint-note.ts, RSA-2048 signer
 * issued by a test root).
 *
 * Baseline, same run, same bytes: each event's canonical record (what its hash is over), as UTF-8 bytes in memory,
 * hashed with one `createHash('sha256')` per event, hex digest. Also shown: the same with Node's one-shot
 * `crypto.hash`. The verifier is given the events.ndjson lines as bytes in memory, as the CLI reads them.
 *
 * Figures:
 * - chain verification rate (ExportVerifier over the lines: every hash recomputed, prev links, seq order — and, with
 *   it, the Merkle leaves and the checkpoints' roots and signatures), events/s, against the baseline: ratio ≥ 0.3;
 * - informational: the same against the one-shot baseline; the Merkle root of the whole log from its chain hashes
 *   (leaf hashing included), in ms.
 * Each is the best of ROUNDS runs (machines here are noisy).
 */
import crypto from 'node:crypto';
import { createRootCa, generateRsaKeyPair, issueCertificate, parseCertificate, randomSerialHex } from '../crypto/pki';
import { canonicalJson, GENESIS_HASH, hashAuditRecord, type AuditRecord } from '../crypto/audit-hash';
import { logOrigin, signCheckpoint, type SignedCheckpoint } from '../crypto/checkpoint-note';
import { ExportVerifier } from '../src/monitoring/export-verify';
import { leafHash, MerkleBuilder, toHex } from '../crypto/merkle';
import { DAY_MS } from '../src/shared/clock';
import { round } from './support/data';
import type { BenchOptions, BenchResult } from './support/types';

const DEFAULT_THOUSANDS = 200;
const CHECKPOINT_EVERY = 10_000;
const ROUNDS = 3;
const RATIO_TARGET = 0.3;
const T0 = Date.parse('2026-11-23T01:00:00Z');

const uuid = (n: number, salt: number) => {
  const h = crypto.createHash('md5').update(`${salt}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const hex = (n: number, bytes: number) => crypto.createHash('sha256').update(String(n)).digest('hex').slice(0, bytes * 2);

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'gz-bidtool/1.4.2 (win32 x64; node 20.20.2)',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];

/** One realistic event of the i-th kind in a rotation of what a trading day records. */
function eventAt(i: number, prevHash: string): AuditRecord {
  const org = uuid(i % 500, 1);
  const tender = uuid(i % 2000, 2);
  const base = {
    seq: i + 1,
    occurredAt: new Date(T0 + i * 1500),
    actorUserId: uuid(i % 1500, 3),
    actorOrgId: org,
    actorOrgType: 'bidder',
    actorRole: i % 3 === 0 ? 'admin' : 'staff',
    certSerial: hex(i % 1500, 16),
    clientIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    userAgent: AGENTS[i % AGENTS.length]!,
    deviceFingerprint: i % 4 === 0 ? null : hex(i % 900, 12),
    requestId: uuid(i, 4),
    objectType: null as string | null,
    objectId: null as string | null,
    tenderId: null as string | null,
    prevHash,
  };
  switch (i % 6) {
    case 0:
      return { ...base, action: 'auth.login', payload: { method: 'certificate', certificateSerial: base.certSerial } };
    case 1:
      return {
        ...base, action: 'bid.submit', objectType: 'bid', objectId: uuid(i, 5), tenderId: tender,
        payload: { sectionId: uuid(i % 3000, 6), sha256: hex(i, 32), size: 10_000_000 + (i * 7919) % 90_000_000, signerCertificateSerial: base.certSerial, receiptSerial: hex(i, 16), supersedes: null },
      };
    case 2:
      return {
        ...base, action: 'tender.create', actorOrgType: 'agency', objectType: 'tender', objectId: tender, tenderId: tender,
        payload: { code: `XYZB-2026-${String(i % 10000).padStart(4, '0')}`, name: '西安市第三十中学体育馆建设工程施工', region: '陕西省西安市碑林区', sections: 2, method: 'open' },
      };
    case 3:
      return { ...base, action: 'bid-upload.start', objectType: 'bid_upload', objectId: uuid(i, 7), tenderId: tender, payload: { sectionId: uuid(i % 3000, 6), size: 52_428_800, sha256: hex(i + 1, 32) } };
    case 4:
      return {
        ...base, action: 'opening.decrypt', actorOrgType: 'agency', objectType: 'bid', objectId: uuid(i, 8), tenderId: tender,
        payload: { sectionId: uuid(i % 3000, 6), bidder: '陕西秦川建设工程有限公司', priceFen: 123_456_700 + i, durationDays: 180, qualityStandard: '合格' },
      };
    default:
      return {
        ...base, action: 'deposit.credit', actorUserId: null, actorOrgId: null, actorOrgType: null, actorRole: null, certSerial: null, userAgent: null,
        objectType: 'deposit_credit', objectId: hex(i, 10), tenderId: tender,
        payload: { amountFen: 500_000, payerAccount: `61050110${String(i % 99999).padStart(8, '0')}`, payerName: '陕西秦川建设工程有限公司', txnId: `T${i}`, channel: 'notification' },
      };
  }
}

function bestOf(rounds: number, fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const events = Math.round((opts.sizeMiB ?? DEFAULT_THOUSANDS) * 1000);
  opts.log(`generating ${events.toLocaleString('en')} chained events…`);
  const lines: Buffer[] = new Array(events);
  const records: Buffer[] = new Array(events);
  const hashes: string[] = new Array(events);
  const ca = createRootCa({ commonName: 'bench root', organizationName: 'bench', countryName: 'CN' }, { notBefore: new Date(T0 - DAY_MS), validityDays: 3650 });
  const keys = generateRsaKeyPair();
  const signerPem = issueCertificate({
    ca, publicKeyPem: keys.publicKeyPem, subject: { commonName: 'bench signer', organizationName: 'bench', countryName: 'CN' }, usage: 'signing',
    serialHex: randomSerialHex(), notBefore: new Date(T0 - DAY_MS), notAfter: new Date(T0 + 3000 * DAY_MS),
  });
  const signerSerial = parseCertificate(signerPem).serialHex;
  const checkpoints: SignedCheckpoint[] = [];
  const tree = new MerkleBuilder();
  let prev = GENESIS_HASH;
  let bytes = 0;
  for (let i = 0; i < events; i++) {
    const record = eventAt(i, prev);
    const hash = hashAuditRecord(record);
    records[i] = Buffer.from(canonicalJson(record), 'utf8');
    lines[i] = Buffer.from(canonicalJson({ ...record, hash }), 'utf8');
    hashes[i] = hash;
    bytes += records[i]!.length;
    tree.push(leafHash(Buffer.from(hash, 'hex'))); // the generic path here, the fast one measured below
    if ((i + 1) % CHECKPOINT_EVERY === 0 || i + 1 === events) {
      const fields = { origin: logOrigin('bench'), treeSize: i + 1, rootHash: toHex(tree.root()), lastEventHash: hash, madeAt: new Date(T0 + i * 1500).toISOString() };
      checkpoints.push({ ...fields, signerSerial, signature: signCheckpoint(fields, keys.privateKeyPem) });
    }
    prev = hash;
  }
  const avg = Math.round(bytes / events);
  opts.log(`  ${avg} bytes per canonical record on average, ${checkpoints.length} checkpoints`);

  // the baseline: one createHash per event over the same canonical record bytes
  let sink = 0;
  const rawMs = bestOf(ROUNDS, () => {
    for (let i = 0; i < events; i++) sink ^= crypto.createHash('sha256').update(records[i]!).digest('hex').charCodeAt(0);
  });
  const oneShotMs = bestOf(ROUNDS, () => {
    for (let i = 0; i < events; i++) sink ^= crypto.hash('sha256', records[i]!, 'hex').charCodeAt(0);
  });

  let verdict = '';
  const verifyMs = bestOf(ROUNDS, () => {
    const v = new ExportVerifier({ checkpoints, caPem: ca.certificatePem, signerPem });
    for (let i = 0; i < events; i++) v.lineBytes(lines[i]!);
    const r = v.finish();
    if (!r.ok || r.events !== events || r.checkpoints !== checkpoints.length) throw new Error(`verification failed: ${r.message}`);
    verdict = r.message;
  });
  opts.log(`  ${verdict.slice(0, 120)}…`);

  const merkleMs = bestOf(ROUNDS, () => {
    const b = new MerkleBuilder();
    for (let i = 0; i < events; i++) b.pushChainHash(hashes[i]!);
    if (toHex(b.root()) !== checkpoints.at(-1)!.rootHash) throw new Error('Merkle root differs from the last checkpoint');
  });
  if (sink === -1) opts.log('');

  const rate = (ms: number) => events / (ms / 1000);
  const ours = rate(verifyMs);
  const raw = rate(rawMs);
  const oneShot = rate(oneShotMs);
  const ratio = ours / raw;
  const workload = `${events.toLocaleString('en')} events (~${avg} B canonical each), ${checkpoints.length} signed checkpoints, best of ${ROUNDS}`;
  opts.log(`  verify ${round(verifyMs)} ms, createHash ${round(rawMs)} ms, crypto.hash ${round(oneShotMs)} ms, Merkle root ${round(merkleMs)} ms`);
  return [
    {
      figure: 'export verification rate (chain + Merkle + checkpoints)',
      value: round(ours, 0),
      unit: 'events/s',
      baseline: { name: 'SHA-256, one createHash per event, same bytes', value: round(raw, 0), unit: 'events/s' },
      ratio: round(ratio, 3),
      target: `ratio ≥ ${RATIO_TARGET}`,
      pass: ratio >= RATIO_TARGET,
      workload,
    },
    {
      figure: 'export verification vs one-shot crypto.hash',
      value: round(ours, 0),
      unit: 'events/s',
      baseline: { name: 'SHA-256, crypto.hash one-shot, same bytes', value: round(oneShot, 0), unit: 'events/s' },
      ratio: round(ours / oneShot, 3),
      target: 'info',
      pass: true,
      workload,
    },
    {
      figure: 'Merkle root of the whole log',
      value: round(merkleMs, 1),
      unit: 'ms',
      target: 'info',
      pass: true,
      workload: `${events.toLocaleString('en')} chain hashes → RFC 6962 root (leaf hashing included)`,
    },
  ];
}
