/**
 * What an audit-log export is, for the platform that writes it and the regulator's verifier that reads it.
 *
 * As a directory (`npm run audit:export`): events.ndjson (one event per line, in seq order, canonical JSON with its
 * `hash`), checkpoints.json (the signed checkpoints, oldest first), certificates/ca.pem and signer.pem.
 */

export interface ExportContents {
  /** events.ndjson: its text, or its lines. */
  events: string | Iterable<string>;
  /** checkpoints.json, parsed or as text. */
  checkpoints: unknown;
  caPem: string;
  /** signer.pem: one or more PEM certificates. */
  signerPem: string;
}

// ---------------------------------------------------------------------------------------------------------------------
// The export as one NDJSON stream (GET /audit/export): a header, the certificates, the checkpoints, then the events,
// each event line being `{"record":"event","event":<the events.ndjson line>}`.
// ---------------------------------------------------------------------------------------------------------------------

export const EXPORT_FORMAT = 'gz-audit-export/1';
export const EVENT_RECORD_PREFIX = '{"record":"event","event":';

const CR = 0x0d;
const EVENT_RECORD_PREFIX_BYTES = Buffer.from(EVENT_RECORD_PREFIX);

/** The same on bytes: the event line inside a stream's event record, or null. */
export function eventBytesOfRecord(line: Buffer): Buffer | null {
  const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  if (end <= EVENT_RECORD_PREFIX_BYTES.length || line[end - 1] !== 0x7d) return null;
  return line.subarray(0, EVENT_RECORD_PREFIX_BYTES.length).equals(EVENT_RECORD_PREFIX_BYTES) ? line.subarray(EVENT_RECORD_PREFIX_BYTES.length, end - 1) : null;
}

/** The events.ndjson line inside a stream's event record, or null for any other record. */
export function eventLineOfRecord(line: string): string | null {
  return line.startsWith(EVENT_RECORD_PREFIX) && line.endsWith('}') ? line.slice(EVENT_RECORD_PREFIX.length, -1) : null;
}
