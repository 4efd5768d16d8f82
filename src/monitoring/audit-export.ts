/**
 * The regulator's export of the audit log (EB 49; the supervision interface, EB 48): every event as stored, every
 * signed checkpoint, and the certificates to check them with — read page by page, so a large log is never held in
 * memory. `npm run audit:export -- --out DIR` writes it as a directory, GET /audit/export streams it as NDJSON;
 * export-verify.ts checks either offline.
 */
import type { Runner } from '../db';
import { identityRepository } from '../identity/identity.repository';
import { canonicalJson } from '../../crypto/audit-hash';
import { auditRepository } from './audit.repository';
import { checkpointsRepository } from './checkpoints.repository';
import type { SignedCheckpoint } from '../../crypto/checkpoint-note';
import { EVENT_RECORD_PREFIX, EXPORT_FORMAT } from './export-format';

const PAGE = 2000;

export interface ExportHeader {
  record: 'export';
  format: typeof EXPORT_FORMAT;
  platform: string;
  exportedAt: string;
  /** Events 1..headSeq are exported: the chain's head when the export began. */
  headSeq: number;
}

export interface ExportCertificates {
  ca: string;
  signer: string;
}

export async function exportCertificates(db: Runner): Promise<ExportCertificates> {
  const ca = await identityRepository.getPlatformKey(db, 'ca');
  const signer = await identityRepository.getPlatformKey(db, 'signer');
  if (!ca?.certificatePem || !signer?.certificatePem) throw new Error('the platform keys have not been created yet (start the platform once)');
  return { ca: ca.certificatePem, signer: signer.certificatePem };
}

/** The head the export stops at, so events appended while it runs don't make it inconsistent. */
export async function exportHead(db: Runner): Promise<number> {
  return (await auditRepository.head(db))?.seq ?? 0;
}

/** events.ndjson lines (without newline): the canonical JSON of each event as stored, seq 1..headSeq. */
export async function* eventLines(db: Runner, headSeq: number): AsyncGenerator<string> {
  for (let after = 0; after < headSeq; ) {
    const page = await auditRepository.pageAfter(db, after, Math.min(PAGE, headSeq - after));
    if (page.length === 0) return;
    for (const e of page) yield canonicalJson(e);
    after = page[page.length - 1]!.seq;
  }
}

/** The signed checkpoints covering no more than headSeq events, oldest first. */
export async function* exportCheckpoints(db: Runner, headSeq: number): AsyncGenerator<SignedCheckpoint> {
  for (let after = 0; ; ) {
    const page = await checkpointsRepository.pageAfter(db, after, headSeq, PAGE);
    for (const { frontier: _f, ...c } of page) yield c;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.treeSize;
  }
}

/** The whole export as NDJSON lines: header, certificates, checkpoints, events. */
export async function* exportStream(db: Runner, platformName: string, now: Date): AsyncGenerator<string> {
  const headSeq = await exportHead(db);
  const certs = await exportCertificates(db);
  const header: ExportHeader = { record: 'export', format: EXPORT_FORMAT, platform: platformName, exportedAt: now.toISOString(), headSeq };
  yield JSON.stringify(header);
  yield JSON.stringify({ record: 'certificate', name: 'ca', pem: certs.ca });
  yield JSON.stringify({ record: 'certificate', name: 'signer', pem: certs.signer });
  for await (const c of exportCheckpoints(db, headSeq)) yield JSON.stringify({ record: 'checkpoint', checkpoint: c });
  for await (const line of eventLines(db, headSeq)) yield `${EVENT_RECORD_PREFIX}${line}}`;
}
