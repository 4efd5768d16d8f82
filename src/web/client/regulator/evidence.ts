/**
 * An alert's evidence as a supervisor reads it: the matched fields as a table (organisation ids as names, lists of
 * records as tables of their own) and the audit events in full — who, when, from where, what — with each event's
 * recorded details as a table. Anything of a shape not foreseen falls back to pre.evidence, never to nothing.
 */
import { h, table } from '../lib/dom';
import { shanghai, yuan } from '../lib/format';
import { FIELD_LABELS, ORG_TYPE_LABELS, actionText } from './labels';
import { isUuid, orgCell, type AuditEvent } from './shared';

type Orgs = Record<string, { name: string; type: string }>;

const fieldLabel = (k: string) => (FIELD_LABELS[k] ? `${FIELD_LABELS[k]}（${k}）` : k);
const orgKey = (k: string) => /org(anisation)?ids?$/i.test(k);

function scalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** One value: an organisation's name for its id, a time as Beijing time, a list joined, a record as a table. */
function valueCell(key: string, v: unknown, orgs: Orgs): Node {
  if (v === null || v === undefined || v === '') return document.createTextNode('—');
  if (orgKey(key) && isUuid(v)) return orgCell(v, orgs);
  if (/Fen$/.test(key) && typeof v === 'number') return document.createTextNode(yuan(v));
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(v)) return document.createTextNode(`${shanghai(v, true)}（北京时间）`);
  if (scalar(v)) return document.createTextNode(String(v));
  if (Array.isArray(v)) {
    if (v.length === 0) return document.createTextNode('（无）');
    if (v.every(scalar)) {
      const span = h('span', {});
      v.forEach((x, i) => {
        if (i) span.append('、');
        span.append(orgKey(key) && isUuid(x) ? orgCell(x, orgs) : String(x));
      });
      return span;
    }
    if (v.every((x) => x && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every(scalar))) {
      const keys = [...new Set(v.flatMap((x) => Object.keys(x as object)))];
      return table(keys.map(fieldLabel), v.map((x) => keys.map((k) => valueCell(k, (x as Record<string, unknown>)[k], orgs))));
    }
  } else if (typeof v === 'object' && Object.values(v as object).every(scalar)) {
    return fieldsTable(v as Record<string, unknown>, orgs);
  }
  return h('pre', { class: 'evidence' }, JSON.stringify(v, null, 2));
}

/** A record's fields as a two-column table. */
export function fieldsTable(fields: Record<string, unknown>, orgs: Orgs, caption?: string): HTMLTableElement {
  return table(
    ['项目 / Field', '内容 / Value'],
    Object.entries(fields).map(([k, v]) => [fieldLabel(k), valueCell(k, v, orgs)]),
    { caption, empty: '（无）' },
  );
}

function actorOf(e: AuditEvent, orgs: Orgs): Node {
  const who = h('span', {}, orgCell(e.actorOrgId, orgs));
  if (e.actorOrgType) who.append(`（${ORG_TYPE_LABELS[e.actorOrgType] ?? e.actorOrgType}）`);
  return who;
}

/** The audit events as a table; `details` adds each event's recorded details (payload), network address and device. */
export function eventsTable(events: AuditEvent[], orgs: Orgs, opts: { caption?: string; details?: boolean; empty?: string; testId?: string } = {}): HTMLTableElement {
  const headers = ['序号 / Seq', '时间 / Time', '单位 / Organisation', '操作 / Action', '对象 / Object'];
  if (opts.details) headers.push('记录内容 / Details');
  return table(
    headers,
    events.map((e) => {
      const row: Array<Node | string> = [
        `#${e.seq}`,
        shanghai(e.occurredAt, true),
        actorOf(e, orgs),
        actionText(e.action),
        e.objectType ? `${e.objectType}${e.objectId ? ` ${e.objectId}` : ''}` : '—',
      ];
      if (opts.details) {
        const extra: Record<string, unknown> = { ...e.payload };
        if (e.clientIp) extra.clientIp = e.clientIp;
        if (e.deviceFingerprint) extra.deviceFingerprint = e.deviceFingerprint;
        row.push(Object.keys(extra).length ? h('details', {}, h('summary', {}, `${Object.keys(extra).length} 项`), fieldsTable(extra, orgs)) : '—');
      }
      return row;
    }),
    { caption: opts.caption, empty: opts.empty ?? '（无）', testId: opts.testId },
  );
}
