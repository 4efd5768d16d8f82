/**
 * The fault table: every fault a proof test injects is recorded here with what was checked afterwards, and the
 * table is printed (and written to test-output/faults.json) when the proof run ends — the operator's evidence that
 * after each fault no bid was lost, no refund was lost or paid twice, the audit chain verified and the work resumed.
 *
 * A test records its row only after asserting the outcome, so a row in the table is a checked fact; a failing test
 * records nothing and mocha reports it.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface FaultRow {
  /** What was broken, e.g. "PostgreSQL restarted", "API process SIGKILL". */
  fault: string;
  /** What the platform was doing at the time, e.g. "30 bid uploads in flight". */
  during: string;
  /** The work checked afterwards and its count, e.g. "30/30 bids with receipts, hashes equal". */
  outcome: string;
  /** Items lost (bids without receipt that had finished, refunds never paid, ...). Must be 0. */
  lost: number;
  /** Items done twice (refunds paid twice, duplicate receipts, ...). Must be 0. */
  duplicated: number;
  /** The audit chain verified from genesis after the fault. */
  auditChainVerified: boolean;
  /** How the interrupted work went on, e.g. "opening resumed at step 'decrypting'". */
  resumed: string;
}

const rows: FaultRow[] = [];

export function recordFault(row: FaultRow): void {
  rows.push(row);
}

export function faultRows(): readonly FaultRow[] {
  return rows;
}

export function formatFaultTable(list: readonly FaultRow[]): string {
  const header = ['fault', 'during', 'outcome', 'lost', 'dup', 'chain', 'resumed'];
  const cells = list.map((r) => [r.fault, r.during, r.outcome, String(r.lost), String(r.duplicated), r.auditChainVerified ? 'verified' : 'BROKEN', r.resumed]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

/** Prints the table and writes it as JSON; called once by the proof run's root after-hook. */
export function reportFaultTable(outputDir = path.resolve('test-output')): void {
  if (rows.length === 0) return;
  const clean = rows.every((r) => r.lost === 0 && r.duplicated === 0 && r.auditChainVerified);
  console.log(`\nFaults injected and outcomes (${rows.length}):\n${formatFaultTable(rows)}\n${clean ? 'zero losses, zero duplicates, audit chain verified after every fault' : 'SOME FAULTS LOST OR DUPLICATED WORK'}`);
  fs.mkdirSync(outputDir, { recursive: true });
  fs.writeFileSync(path.join(outputDir, 'faults.json'), `${JSON.stringify({ clean, rows }, null, 2)}\n`);
}
