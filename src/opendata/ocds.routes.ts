import type { Request } from 'express';
import { z } from 'zod';
import { API_BASE, type RouteTable } from '../shared/http/route';
import { startOfShanghaiDay, shanghaiDayNumber } from '../shared/time';
import { isCalendarDate } from '../calendar/working-days';
import { MAX_RANGE_DAYS, type OcdsService, type PackageLocation } from './ocds.service';

const TenderParams = z.object({ tenderId: z.uuid() });

const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DateTime = z.iso.datetime({ offset: true });

/** A calendar date (Asia/Shanghai, the whole day) or an instant with its offset. */
const Bound = (end: boolean) =>
  z
    .string()
    .refine((s) => (CALENDAR_DATE.test(s) ? isCalendarDate(s) : DateTime.safeParse(s).success), {
      message: '应为 YYYY-MM-DD（北京时间）或带时区的 ISO 时间 (a date YYYY-MM-DD, Asia/Shanghai, or an ISO date-time with offset)',
    })
    .transform((s) => {
      if (!CALENDAR_DATE.test(s)) return new Date(s);
      const day = shanghaiDayNumber(new Date(`${s}T12:00:00+08:00`));
      // a date as `to` includes that whole day: the period ends at the next midnight
      return startOfShanghaiDay(end ? day + 1 : day);
    });

const RangeQuery = z.object({
  from: Bound(false).meta({ description: '起始（含） (from, inclusive): YYYY-MM-DD or ISO date-time', example: '2026-11-01' }),
  to: Bound(true).meta({ description: `结束（日期含当日，时间不含） (to: a date includes its day, a date-time is exclusive); at most ${MAX_RANGE_DAYS} days after from`, example: '2026-11-30' }),
});

/** The package's own URI and the API base its document links use, as the client reached this server. */
function locationOf(req: Request): PackageLocation {
  const origin = `${req.protocol}://${req.get('host')}`;
  return { uri: `${origin}${req.originalUrl}`, apiBase: `${origin}${API_BASE}` };
}

export function opendataRoutes(routes: RouteTable, ocds: OcdsService): void {
  const tag = 'opendata';
  routes.add({
    method: 'get', path: '/opendata/ocds/tenders/:tenderId', tag, access: 'public', params: TenderParams,
    summary: '招标项目的开放数据（OCDS 1.1 发布包：招标、开标、中标、合同；开标唱标前不公开投标人） (one tender as an OCDS 1.1 release package; bidders only after the prices are read, EB 30)',
    handler: ({ ctx, params, req }) => ocds.tenderPackage(ctx, params.tenderId, locationOf(req)),
  });
  routes.add({
    method: 'get', path: '/opendata/ocds/releases', tag, access: 'public', query: RangeQuery,
    summary: `某时段内发布的全部开放数据（OCDS 1.1 发布包，至多 ${MAX_RANGE_DAYS} 天） (every release dated in a period, at most ${MAX_RANGE_DAYS} days)`,
    handler: ({ ctx, query, req }) => ocds.releasesBetween(ctx, query.from, query.to, locationOf(req)),
  });
}
