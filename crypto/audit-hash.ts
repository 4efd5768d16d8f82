/**
 * The hash of an audit event: SHA-256 over a canonical JSON form (keys sorted at every depth, times as ISO 8601 UTC)
 * of every recorded field plus the previous event's hash. Pure and dependency-free, so a regulator's offline
 * verifier computes exactly what the server computed.
 */
import crypto from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  seq: number;
  occurredAt: Date;
  actorUserId: string | null;
  actorOrgId: string | null;
  actorOrgType: string | null;
  actorRole: string | null;
  certSerial: string | null;
  clientIp: string | null;
  userAgent: string | null;
  deviceFingerprint: string | null;
  requestId: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  tenderId: string | null;
  payload: Record<string, unknown>;
  prevHash: string;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashAuditRecord(record: AuditRecord): string {
  return crypto.createHash('sha256').update(canonicalJson(record), 'utf8').digest('hex');
}
