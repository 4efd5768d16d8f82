/**
 * The supervising department's review of alerts ("zero blind spots in supervision": irregular behaviour the platform
 * finds is reported and followed until handled). A regulator disposes of an alert step by step — open → acknowledged
 * → investigating → confirmed or dismissed (acknowledged → dismissed too; nothing is dismissed unread) — each step
 * with a note, recorded as a disposition row and an audit event in one transaction. The alert's page shows what an
 * investigator needs a year later: the alert, its steps, its evidence events in full and the events around them.
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { NotFound } from '../shared/errors';
import { requireActor, type ActionContext } from '../shared/access';
import type { StoredAuditEvent } from './audit.repository';
import type { AuditService } from './audit.service';
import {
  AlertExportTooLarge,
  AlertNoteRequired,
  AlertNoteTooLong,
  AlertOwnOrganisation,
  AlertStatusChanged,
  AlertTransitionInvalid,
  NOTE_MAX_CHARS,
  TRANSITIONS,
} from './alerts.errors';
import { alertEvidenceRepository as evidenceRepo } from './alerts.evidence.repository';
import { alertsRepository as repo, HANDLED_STATUSES, type AlertFilter, type AlertStatus, type Disposition } from './alerts.repository';
import { viewOf, type AlertsService, type AlertView } from './alerts.service';

export interface DisposeInput {
  status: Exclude<AlertStatus, 'open'>;
  note?: string;
  /** The status the regulator saw; when given and no longer current, the step is refused as stale. */
  from?: AlertStatus;
}

/** At most this many evidence events are shown in full on an alert's page (the rest are listed by seq). */
export const MAX_EVIDENCE_EVENTS = 20;
/** Events shown before and after each piece of evidence: at most this many each way. */
export const MAX_AROUND = 10;
/** The largest export in one request; a larger one is refused, to be split by time. */
export const EXPORT_MAX_ALERTS = 20_000;
const EXPORT_PAGE = 500;

export interface AlertPage extends AlertView {
  tender: { id: string; code: string | null; name: string | null } | null;
  subjectOrg: { id: string; name: string | null } | null;
  dispositions: Disposition[];
  /** The audit events the alert rests on, in full (as GET /audit/events shows them), in seq order. */
  evidenceEvents: StoredAuditEvent[];
  /** Evidence seqs beyond MAX_EVIDENCE_EVENTS, listed but not loaded. */
  evidenceNotShown: number[];
  /** The events around the evidence: of the alert's tender when it has one, else of the whole chain. */
  context: { scope: 'tender' | 'chain'; around: number; events: Array<StoredAuditEvent & { nearEvidenceSeq: number }> };
  /** Every organisation the page names (subject, actors of the events, who disposed), by id. */
  organisations: Record<string, { name: string; type: string }>;
  /** The steps a disposition may take from the current status (what the console offers; dispose decides). */
  nextStatuses: readonly AlertStatus[];
}

export type ExportedAlert = AlertView & { dispositions: Disposition[] };

export class AlertReviewService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
  ) {}

  /**
   * One step of an alert's handling. Only the supervising department disposes of alerts: platform staff (the
   * operator, the trading centre) must not close alerts that may be about themselves or the trade they run — the
   * platform records (EB 49) and the supervisors supervise (EB 8, 45, 48). Operators read; they do not decide.
   */
  async dispose(ctx: ActionContext, alertId: string, input: DisposeInput): Promise<{ alert: AlertView; disposition: Disposition }> {
    const actor = requireActor(ctx, 'regulator');
    const note = (input.note ?? '').trim();
    if (!note) throw AlertNoteRequired();
    const length = [...note].length;
    if (length > NOTE_MAX_CHARS) throw AlertNoteTooLong({ max: NOTE_MAX_CHARS, length });
    await this.alerts.settleDue();
    return this.db.transaction(async (trx) => {
      // the row lock serialises disposals of one alert across instances; the second sees the first's status
      const a = await repo.lock(trx, alertId);
      if (!a) throw NotFound({ resource: '预警' });
      if (a.subjectOrgId && a.subjectOrgId === actor.orgId) throw AlertOwnOrganisation();
      if (input.from && input.from !== a.status) throw AlertStatusChanged({ expected: input.from, current: a.status });
      const allowed = TRANSITIONS[a.status];
      if (!allowed.includes(input.status)) throw AlertTransitionInvalid({ from: a.status, to: input.status, allowed });
      const at = this.clock.now();
      const handled = HANDLED_STATUSES.includes(input.status);
      if (!(await repo.setStatus(trx, a.id, a.status, input.status, at, handled))) {
        throw AlertStatusChanged({ expected: a.status, current: (await repo.find(trx, a.id))!.status });
      }
      const after = viewOf({ ...a, status: input.status, statusChangedAt: at, handledAt: handled ? at : a.handledAt }, at);
      const event = await this.audit.append(trx, ctx, {
        action: 'alert.disposed',
        objectType: 'alert',
        objectId: a.id,
        // on the tender's record too: its supervision is part of its history
        tenderId: a.tenderId,
        payload: {
          alertId: a.id,
          rule: a.rule,
          severity: a.severity,
          from: a.status,
          to: input.status,
          // a supervisor's reasoning is part of the record, not a secret
          note,
          dueAt: a.dueAt?.toISOString() ?? null,
          ...(handled ? { handledOnTime: after.handledOnTime } : {}),
        },
      });
      const disposition = await repo.insertDisposition(trx, {
        alertId: a.id,
        fromStatus: a.status,
        toStatus: input.status,
        note,
        userId: actor.userId,
        orgId: actor.orgId,
        at,
        auditSeq: event.seq,
      });
      return { alert: after, disposition };
    });
  }

  /** The alert's page (see AlertPage). `around`: events shown before and after each evidence event. */
  async page(ctx: ActionContext, alertId: string, around: number): Promise<AlertPage> {
    requireActor(ctx, 'regulator', 'operator');
    const n = Math.max(0, Math.min(MAX_AROUND, around));
    const alert = await this.alerts.get(alertId);
    const seqs = [...new Set(alert.evidence.auditSeqs ?? [])].sort((x, y) => x - y);
    const shown = seqs.slice(0, MAX_EVIDENCE_EVENTS);
    const [dispositions, evidenceEvents] = await Promise.all([repo.dispositions(this.db, alert.id), evidenceRepo.events(this.db, shown)]);
    const context = new Map<number, StoredAuditEvent & { nearEvidenceSeq: number }>();
    for (const seq of shown) {
      for (const e of await evidenceRepo.around(this.db, seq, n, alert.tenderId)) {
        if (!shown.includes(e.seq) && !context.has(e.seq)) context.set(e.seq, { ...e, nearEvidenceSeq: seq });
      }
    }
    const events = [...context.values()].sort((x, y) => x.seq - y.seq);
    const orgIds = new Set<string>([
      ...(alert.subjectOrgId ? [alert.subjectOrgId] : []),
      ...orgIdsIn(alert.evidence.fields),
      ...[...evidenceEvents, ...events].flatMap((e) => (e.actorOrgId ? [e.actorOrgId] : [])),
      ...dispositions.map((d) => d.orgId),
    ]);
    const organisations: AlertPage['organisations'] = {};
    for (const o of await repo.organisationNames(this.db, [...orgIds])) organisations[o.id] = { name: o.name, type: o.type };
    return {
      ...alert,
      tender: alert.tenderId ? { id: alert.tenderId, code: alert.tenderCode ?? null, name: alert.tenderName ?? null } : null,
      subjectOrg: alert.subjectOrgId ? { id: alert.subjectOrgId, name: alert.subjectOrgName ?? null } : null,
      dispositions,
      evidenceEvents,
      evidenceNotShown: seqs.slice(MAX_EVIDENCE_EVENTS),
      context: { scope: alert.tenderId ? 'tender' : 'chain', around: n, events },
      organisations,
      nextStatuses: TRANSITIONS[alert.status],
    };
  }

  /** How many alerts match the filter, per status (the status filters left out), and how many are overdue now. */
  async summary(ctx: ActionContext, filter: Omit<AlertFilter, 'limit'>) {
    requireActor(ctx, 'regulator', 'operator');
    await this.alerts.settleDue();
    const now = this.clock.now();
    const { byStatus, overdue } = await repo.counts(this.db, filter, now);
    const counts = Object.fromEntries((['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed'] as const).map((s) => [s, byStatus[s] ?? 0]));
    const total = Object.values(counts).reduce((x, y) => x + y, 0);
    return { asOf: now, total, byStatus: counts, unhandled: total - counts.confirmed - counts.dismissed, overdue };
  }

  /**
   * The alerts matching `filter`, newest first, with their steps, a page at a time (the caller streams them out).
   * Refused before anything is read out when more than EXPORT_MAX_ALERTS match.
   */
  async export(ctx: ActionContext, filter: Omit<AlertFilter, 'limit' | 'before' | 'offset'>): Promise<{ asOf: Date; count: number; pages: AsyncIterable<ExportedAlert[]> }> {
    requireActor(ctx, 'regulator', 'operator');
    await this.alerts.settleDue();
    const now = this.clock.now();
    const count = await repo.count(this.db, { ...filter, now });
    if (count > EXPORT_MAX_ALERTS) throw AlertExportTooLarge({ count, max: EXPORT_MAX_ALERTS });
    const db = this.db;
    async function* pages(): AsyncIterable<ExportedAlert[]> {
      let before: AlertFilter['before'];
      for (;;) {
        const rows = await repo.list(db, { ...filter, now, before, limit: EXPORT_PAGE });
        if (!rows.length) return;
        const steps = await repo.dispositionsOf(db, rows.map((r) => r.id));
        yield rows.map((r) => ({ ...viewOf(r, now), dispositions: steps.filter((d) => d.alertId === r.id) }));
        if (rows.length < EXPORT_PAGE) return;
        const last = rows[rows.length - 1]!;
        before = { raisedAt: last.raisedAt, id: last.id };
      }
    }
    return { asOf: now, count, pages: pages() };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Organisation ids an alert's fields name (e.g. both bidders paid from one account): keys ending in OrgId(s). */
function orgIdsIn(fields: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (!/org(anisation)?ids?$/i.test(k)) continue;
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string' && UUID.test(x)) out.push(x);
  }
  return out;
}
