/**
 * 预警处置报告: the supervising department's periodic account of the alerts raised in a period (Asia/Shanghai dates,
 * both included) — how many, how many handled (confirmed or dismissed), how many of those within their deadline, how
 * many still open and how many of those overdue — in total, by rule, by severity and by tender, with the list of
 * overdue alerts, so nothing the platform found is left without an answer ("zero blind spots in supervision").
 * Figures as JSON; the PDF's layout is src/documents/alert-report.ts.
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, type ActionContext } from '../shared/access';
import { endOfShanghaiDate, startOfShanghaiDate } from '../calendar/working-days';
import { renderAlertReport } from '../documents/alert-report';
import { AlertReportTooLarge } from './alerts.errors';
import { alertsRepository as repo, type AlertSeverity } from './alerts.repository';
import { viewOf, type AlertsService, type AlertView } from './alerts.service';

export interface AlertFigures {
  raised: number;
  /** Confirmed or dismissed. */
  handled: number;
  handledOnTime: number;
  handledLate: number;
  confirmed: number;
  dismissed: number;
  /** Not yet confirmed or dismissed. */
  unhandled: number;
  /** Unhandled and past the deadline at the report's time. */
  overdue: number;
}

export interface OverdueAlert {
  id: string;
  rule: string;
  severity: AlertSeverity;
  title: string;
  status: AlertView['status'];
  tenderCode: string | null;
  subjectOrgName: string | null;
  raisedAt: Date;
  dueAt: Date;
}

export interface AlertReport {
  period: { from: string; to: string };
  generatedAt: Date;
  totals: AlertFigures;
  byRule: Array<{ rule: string } & AlertFigures>;
  bySeverity: Array<{ severity: AlertSeverity } & AlertFigures>;
  byTender: Array<{ tenderId: string | null; code: string | null; name: string | null } & AlertFigures>;
  overdue: OverdueAlert[];
}

/** Alerts in one report at most: a longer period is refused rather than counted in part. */
export const REPORT_MAX_ALERTS = 100_000;

function figures(alerts: AlertView[]): AlertFigures {
  const handled = alerts.filter((a) => a.status === 'confirmed' || a.status === 'dismissed');
  const onTime = handled.filter((a) => a.handledOnTime === true).length;
  return {
    raised: alerts.length,
    handled: handled.length,
    handledOnTime: onTime,
    handledLate: handled.length - onTime,
    confirmed: handled.filter((a) => a.status === 'confirmed').length,
    dismissed: handled.filter((a) => a.status === 'dismissed').length,
    unhandled: alerts.length - handled.length,
    overdue: alerts.filter((a) => a.overdue).length,
  };
}

function groupBy<K>(alerts: AlertView[], key: (a: AlertView) => K): Map<K, AlertView[]> {
  const groups = new Map<K, AlertView[]>();
  for (const a of alerts) groups.set(key(a), [...(groups.get(key(a)) ?? []), a]);
  return groups;
}

export class AlertReportService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly alerts: AlertsService,
  ) {}

  async report(ctx: ActionContext, q: { from: string; to: string }): Promise<AlertReport> {
    requireActor(ctx, 'regulator', 'operator');
    await this.alerts.settleDue();
    const now = this.clock.now();
    const filter = { raisedFrom: startOfShanghaiDate(q.from), raisedTo: endOfShanghaiDate(q.to), now };
    const count = await repo.count(this.db, filter);
    if (count > REPORT_MAX_ALERTS) throw AlertReportTooLarge({ count, max: REPORT_MAX_ALERTS });
    const alerts = (await repo.list(this.db, { ...filter, limit: REPORT_MAX_ALERTS })).map((a) => viewOf(a, now));
    const byRule = [...groupBy(alerts, (a) => a.rule)].map(([rule, xs]) => ({ rule, ...figures(xs) }));
    const severities: AlertSeverity[] = ['critical', 'high', 'warning', 'info'];
    const bySeverity = severities.map((severity) => ({ severity, ...figures(alerts.filter((a) => a.severity === severity)) }));
    const byTender = [...groupBy(alerts, (a) => a.tenderId)].map(([tenderId, xs]) => ({
      tenderId,
      code: xs[0]!.tenderCode ?? null,
      name: xs[0]!.tenderName ?? null,
      ...figures(xs),
    }));
    const overdue = alerts
      .filter((a) => a.overdue)
      .sort((x, y) => x.dueAt!.getTime() - y.dueAt!.getTime())
      .map((a) => ({
        id: a.id,
        rule: a.rule,
        severity: a.severity,
        title: a.title,
        status: a.status,
        tenderCode: a.tenderCode ?? null,
        subjectOrgName: a.subjectOrgName ?? null,
        raisedAt: a.raisedAt,
        dueAt: a.dueAt!,
      }));
    return {
      period: { from: q.from, to: q.to },
      generatedAt: now,
      totals: figures(alerts),
      byRule: byRule.sort((x, y) => y.raised - x.raised || x.rule.localeCompare(y.rule)),
      bySeverity,
      // alerts without a tender (e.g. the calendar, the bank's statement) last
      byTender: byTender.sort((x, y) => (x.tenderId === null ? 1 : 0) - (y.tenderId === null ? 1 : 0) || y.raised - x.raised),
      overdue,
    };
  }

  /** The report as a PDF; computed first, so a refusal answers in JSON before any PDF is sent. */
  async pdf(ctx: ActionContext, q: { from: string; to: string }): Promise<Buffer> {
    return renderAlertReport(await this.report(ctx, q));
  }
}
