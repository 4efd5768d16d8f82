/** What the console's views share: the API's shapes, organisation names, loading and empty states. */
import { get } from '../lib/api';
import { h } from '../lib/dom';
import type { Severity, Status } from './labels';

export interface Alert {
  id: string;
  rule: string;
  severity: Severity;
  title: string;
  basis: string;
  tenderId: string | null;
  subjectOrgId: string | null;
  evidence: { auditSeqs: number[]; fields?: Record<string, unknown> };
  status: Status;
  raisedAt: string;
  statusChangedAt: string;
  dueAt: string | null;
  dueEstimated: boolean;
  handledAt: string | null;
  subjectOrgName?: string | null;
  tenderCode?: string | null;
  tenderName?: string | null;
  overdue: boolean;
  handledOnTime: boolean | null;
}

export interface AuditEvent {
  seq: number;
  occurredAt: string;
  actorUserId: string | null;
  actorOrgId: string | null;
  actorOrgType: string | null;
  actorRole: string | null;
  clientIp: string | null;
  deviceFingerprint: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  tenderId: string | null;
  payload: Record<string, unknown>;
  hash: string;
}

export interface Disposition {
  id: string;
  fromStatus: Status;
  toStatus: Status;
  note: string;
  userName?: string | null;
  orgName?: string | null;
  at: string;
  auditSeq: number;
}

export type { TenderSummary } from '../lib/tender';
export { isUuid, loading } from '../lib/dom';

const names = new Map<string, Promise<string>>();

/** An organisation's name, asked once per page (the audit chain records ids only). */
export function orgName(id: string, known?: Record<string, { name: string }>): Promise<string> {
  if (known?.[id]) return Promise.resolve(known[id].name);
  let p = names.get(id);
  if (!p) {
    p = get<{ name: string }>(`/organisations/${id}`).then(
      (o) => o.name,
      () => `单位 ${id.slice(0, 8)}`,
    );
    names.set(id, p);
  }
  return p;
}

/** A text node filled in with the organisation's name once it is known. */
export function orgCell(id: string | null, known?: Record<string, { name: string }>): Node {
  if (!id) return document.createTextNode('系统 / platform');
  const span = h('span', {}, known?.[id]?.name ?? '…');
  if (!known?.[id]) void orgName(id).then((n) => (span.textContent = n));
  return span;
}
