/**
 * Runs the monitoring rules and raises what they find (EB 49; NDRC1117 §11). Three moments:
 * - `scan`: reads the audit chain from its cursor and hands each rule the new events it watches (same address or
 *   device across bidders, staff behaviour, failed sign-ins); a tender whose opening reached 唱标 gets an analysis job;
 * - `analyseOpened`: after decryption, the rules that read the bids themselves (same tool serial, similar documents,
 *   regular prices);
 * - `runScheduled`: nightly, the rules across tenders (habitual co-bidders, win rates).
 * Each finding becomes one alert (unique per rule and key) and one audit event `monitoring.alert`, in one transaction,
 * so an alert's raising is itself on the chain. Findings name events and fields, never bid content beyond what the
 * opening has made public.
 */
import type { Db, Runner } from '../../db';
import type { Clock } from '../../shared/clock';
import { systemContext } from '../../shared/access';
import { enqueueInTrx } from '../../shared/queue';
import type { Logger } from '../../shared/logger';
import type { AuditService } from '../audit.service';
import type { AlertsService } from '../alerts.service';
import { auditRepository, type StoredAuditEvent } from '../audit.repository';
import type { Finding, Rule, RuleEnv, Thresholds } from './rule';
import { rulesRepository as repo } from './rules.repository';
import { ANALYSE_OPENING_JOB } from './rules.jobs';

const SCAN_CURSOR = 'rules-scan';
const PAGE = 500;

export interface EngineResult {
  events: number;
  raised: number;
}

/** Parses MONITORING_THRESHOLDS against the rules' declared thresholds: an unknown name is a mistake, refused. */
export function thresholdsFor(rules: readonly Rule[], overrides: Record<string, number>): Map<string, Thresholds> {
  const out = new Map<string, Thresholds>(rules.map((r) => [r.id, { ...r.defaults }]));
  for (const [name, value] of Object.entries(overrides)) {
    const [ruleId, key] = name.split('.');
    const t = out.get(ruleId ?? '');
    if (!t || !key || !(key in t)) throw new Error(`MONITORING_THRESHOLDS: no threshold "${name}" (known: ${[...out].flatMap(([id, th]) => Object.keys(th).map((k) => `${id}.${k}`)).join(', ')})`);
    if (!Number.isFinite(value)) throw new Error(`MONITORING_THRESHOLDS: "${name}" must be a number`);
    t[key] = value;
  }
  return out;
}

export class RuleEngine {
  private readonly thresholds: Map<string, Thresholds>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly env: Omit<RuleEnv, 'db' | 'isWorkingDay'> & { isWorkingDay(date: string, db: Runner): Promise<boolean> },
    readonly rules: readonly Rule[],
    overrides: Record<string, number>,
    private readonly logger?: Logger,
  ) {
    this.thresholds = thresholdsFor(rules, overrides);
  }

  thresholdsOf(ruleId: string): Thresholds {
    return { ...this.thresholds.get(ruleId) };
  }

  /** The rules as a regulator reads them: what each looks for, on what basis, when it runs, with which thresholds. */
  describe() {
    return this.rules.map((r) => ({
      id: r.id,
      description: r.description,
      basis: r.basis,
      runs: [r.onEvents && '审计事件到达时 (on new audit events)', r.onOpened && '解密完成后 (after decryption)', r.onSchedule && '每日夜间 (nightly)'].filter(Boolean),
      thresholds: this.thresholdsOf(r.id),
      defaults: r.defaults,
    }));
  }

  /** Reads the chain from the cursor to its head, page by page; each page's alerts and cursor commit together. */
  async scan(): Promise<EngineResult> {
    const total: EngineResult = { events: 0, raised: 0 };
    for (;;) {
      const page = await this.db.transaction(async (trx) => {
        const after = await repo.lockCursor(trx, SCAN_CURSOR, this.clock.now());
        const events = await auditRepository.pageAfter(trx, after, PAGE);
        if (events.length === 0) return null;
        let raised = 0;
        for (const rule of this.rules) {
          if (!rule.onEvents || !rule.watches?.length) continue;
          const watched = events.filter((e) => rule.watches!.includes(e.action));
          if (watched.length === 0) continue;
          raised += await this.raise(trx, rule, await rule.onEvents(watched, this.envFor(trx), this.thresholdsOf(rule.id)));
        }
        for (const tenderId of openedTenders(events)) {
          await enqueueInTrx(trx, { ...ANALYSE_OPENING_JOB, payload: { tenderId }, runAt: this.clock.now() });
        }
        await repo.moveCursor(trx, SCAN_CURSOR, events[events.length - 1]!.seq, this.clock.now());
        return { events: events.length, raised };
      });
      if (!page) return total;
      total.events += page.events;
      total.raised += page.raised;
      if (page.events < PAGE) return total;
    }
  }

  /** The rules that read the decrypted bids of one tender. Idempotent: a finding already alerted is not again. */
  async analyseOpened(tenderId: string): Promise<number> {
    let raised = 0;
    for (const rule of this.rules) {
      if (!rule.onOpened) continue;
      const findings = await rule.onOpened(tenderId, this.envFor(this.db), this.thresholdsOf(rule.id));
      raised += await this.db.transaction((trx) => this.raise(trx, rule, findings));
    }
    return raised;
  }

  /** The rules across tenders. */
  async runScheduled(): Promise<number> {
    let raised = 0;
    for (const rule of this.rules) {
      if (!rule.onSchedule) continue;
      const findings = await rule.onSchedule(this.envFor(this.db), this.thresholdsOf(rule.id));
      raised += await this.db.transaction((trx) => this.raise(trx, rule, findings));
    }
    return raised;
  }

  private envFor(db: Runner): RuleEnv {
    // the calendar is read through the rule's own runner: inside the scan's transaction on a database of one
    // connection (embedded PGlite), a read on another connection would wait for this one forever
    return { ...this.env, db, isWorkingDay: (date) => this.env.isWorkingDay(date, db) };
  }

  private async raise(trx: Runner, rule: Rule, findings: Finding[]): Promise<number> {
    let raised = 0;
    for (const f of findings) {
      const alert = await this.alerts.raiseOnce(
        trx,
        {
          rule: rule.id,
          severity: f.severity,
          title: f.title,
          basis: rule.basis,
          tenderId: f.tenderId,
          subjectOrgId: f.orgIds[0] ?? null,
          evidence: { auditSeqs: [...new Set(f.auditSeqs)].sort((a, b) => a - b), fields: { ...f.fields, orgIds: f.orgIds } },
        },
        f.key,
      );
      if (!alert) continue;
      raised++;
      await this.audit.append(trx, systemContext('monitoring'), {
        action: 'monitoring.alert',
        objectType: 'alert',
        objectId: alert.id,
        tenderId: f.tenderId,
        payload: { rule: rule.id, severity: f.severity, orgIds: f.orgIds, evidenceSeqs: f.auditSeqs.slice(0, 50) },
      });
      this.logger?.info({ rule: rule.id, alertId: alert.id, tenderId: f.tenderId }, 'monitoring alert raised');
    }
    return raised;
  }
}

/**
 * Tenders whose decryption window closed in these events — to 唱标, or failed for want of three valid bids (流标, the
 * decrypted bids are analysed all the same): their bids are open and may now be analysed.
 */
const OPENED_STATES = ['announcing', 'failed'];
function openedTenders(events: StoredAuditEvent[]): string[] {
  const ids = events.filter((e) => e.action === 'opening.transition' && OPENED_STATES.includes(String(e.payload?.to)) && e.tenderId).map((e) => e.tenderId!);
  return [...new Set(ids)];
}
