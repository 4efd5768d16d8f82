import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import { endOfShanghaiDate, isCalendarDate, startOfShanghaiDate } from '../calendar/working-days';
import type { AlertsService } from './alerts.service';
import type { AlertReviewService } from './alert-review.service';
import type { AlertReportService } from './alert-report.service';
import { csvHeader, csvRows, jsonEnd, jsonRows, jsonStart } from './alerts.export';

const date = z.string().refine(isCalendarDate, '须为有效日期 YYYY-MM-DD (a valid date)');
const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const STATUS = z.enum(['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed']);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** The filters every alert listing shares: the list, the counts and the exports. Dates are Asia/Shanghai days, both included. */
const AlertFilterQuery = z.object({
  tenderId: z.uuid().optional(),
  severity: z.enum(['critical', 'high', 'warning', 'info']).optional(),
  status: STATUS.optional(),
  rule: z.string().regex(/^[a-z0-9._-]{1,64}$/).optional(),
  subjectOrgId: z.uuid().optional(),
  raisedFrom: z.union([date.transform(startOfShanghaiDate), instant]).optional(),
  // a date includes its whole day; an instant is exclusive
  raisedTo: z.union([date.transform(endOfShanghaiDate), instant]).optional(),
  overdue: flag.optional(),
  open: flag.optional(),
});

const ListAlertsQuery = AlertFilterQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(100_000).optional(),
  beforeRaisedAt: instant.optional(),
  beforeId: z.uuid().optional(),
});
const AlertParams = z.object({ alertId: z.uuid() });
const PageQuery = z.object({ around: z.coerce.number().int().min(0).max(10).default(5) });
const DisposeBody = z.object({
  status: z.enum(['acknowledged', 'investigating', 'confirmed', 'dismissed']),
  // checked by the service, so a missing or blank note answers ALERT_NOTE_REQUIRED
  note: z.string().max(100_000).optional(),
  from: STATUS.optional(),
});
const ReportQuery = z
  .object({ from: date, to: date })
  .refine((q) => q.from <= q.to, { message: '起始日期不得晚于截止日期 (from must not be after to)' })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= 366 * 86_400_000, { message: '统计期间不得超过一年 (at most a year)' });

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').slice(0, 15);

export function alertRoutes(
  routes: RouteTable,
  { alerts, review, report }: { alerts: AlertsService; review: AlertReviewService; report: AlertReportService },
): void {
  const tag = 'monitoring';
  routes.add({
    method: 'get', path: '/alerts', tag, access: ['regulator', 'operator'], query: ListAlertsQuery,
    summary: '预警列表，新到旧；可按项目、严重程度、状态、规则、涉及单位、时间、逾期、未处理筛选；分页（X-Next-Cursor） (alerts, newest first, filtered and paged)',
    handler: async ({ query, res }) => {
      const { beforeRaisedAt, beforeId, ...rest } = query;
      const page = await alerts.list({ ...rest, limit: rest.limit, offset: rest.offset, before: beforeRaisedAt ? { raisedAt: beforeRaisedAt, id: beforeId } : undefined });
      const last = page.at(-1);
      if (last && page.length === query.limit) {
        res.set('X-Next-Cursor', new URLSearchParams({ beforeRaisedAt: last.raisedAt.toISOString(), beforeId: last.id }).toString());
      }
      return page;
    },
  });
  // the fixed paths before /alerts/:alertId, which would take them for an id
  routes.add({
    method: 'get', path: '/alerts/summary', tag, access: ['regulator', 'operator'], query: AlertFilterQuery,
    summary: '按当前筛选条件统计各状态预警数及逾期数 (counts per status and overdue, for the filter)',
    handler: ({ ctx, query }) => review.summary(ctx, query),
  });
  routes.add({
    method: 'get', path: '/alerts/export.csv', tag, access: ['regulator', 'operator'], query: AlertFilterQuery, produces: 'text/csv',
    summary: '导出预警（CSV，UTF-8 带 BOM，北京时间） (export alerts as CSV for a spreadsheet)',
    handler: async ({ ctx, query, res }) => {
      const out = await review.export(ctx, query); // before any header: a refusal answers in JSON
      res.type('text/csv; charset=utf-8').attachment(`alerts-${stamp(out.asOf)}.csv`);
      res.write(csvHeader());
      for await (const page of out.pages) res.write(csvRows(page));
      res.end();
    },
  });
  routes.add({
    method: 'get', path: '/alerts/export.json', tag, access: ['regulator', 'operator'], query: AlertFilterQuery, produces: 'application/json',
    summary: '导出预警（JSON，含处置记录） (export alerts as JSON, with their dispositions)',
    handler: async ({ ctx, query, res }) => {
      const out = await review.export(ctx, query);
      res.type('application/json; charset=utf-8').attachment(`alerts-${stamp(out.asOf)}.json`);
      res.write(jsonStart({ exportedAt: out.asOf, count: out.count, filter: query }));
      let first = true;
      for await (const page of out.pages) {
        res.write(jsonRows(page, first));
        first = false;
      }
      res.end(jsonEnd);
    },
  });
  routes.add({
    method: 'get', path: '/alerts/report', tag, access: ['regulator', 'operator'], query: ReportQuery,
    summary: '预警处置报告：按规则、严重程度、项目统计预警、处理、按期处理、逾期 (alerts raised in a period and how they were handled)',
    handler: ({ ctx, query }) => report.report(ctx, query),
  });
  routes.add({
    method: 'get', path: '/alerts/report.pdf', tag, access: ['regulator', 'operator'], query: ReportQuery, produces: 'application/pdf',
    summary: '预警处置报告 PDF (the same, as a PDF)',
    handler: async ({ ctx, query, res }) => {
      const pdf = await report.pdf(ctx, query); // before the type: a refusal answers in JSON
      res.type('application/pdf').send(pdf);
    },
  });
  routes.add({
    method: 'get', path: '/alerts/:alertId', tag, access: ['regulator', 'operator'], params: AlertParams, query: PageQuery,
    summary: '预警详情：证据事件全文、前后相关事件、处置记录、涉及单位与项目 (an alert\'s page: evidence, the events around it, its dispositions)',
    handler: ({ ctx, params, query }) => review.page(ctx, params.alertId, query.around),
  });
  // Regulators only: the platform's staff must not close alerts that may be about themselves (see AlertReviewService).
  routes.add({
    method: 'post', path: '/alerts/:alertId/dispositions', tag, access: ['regulator'], params: AlertParams, body: DisposeBody,
    summary: '处置预警：签收 → 调查 → 确认属实／排除，每步须填写意见并记入交易日志 (dispose of an alert, one step with a note, audited)',
    handler: ({ ctx, params, body }) => review.dispose(ctx, params.alertId, body),
  });
}
