import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { CalendarService } from './calendar.service';
import { isCalendarDate, weekday, weekdayName } from './working-days';

const CalendarDate = z
  .string()
  .refine(isCalendarDate, { message: '日期应为 YYYY-MM-DD 格式的有效日期 (a real date, YYYY-MM-DD)' })
  .meta({ description: '北京时间日历日期 YYYY-MM-DD (an Asia/Shanghai calendar date)', example: '2026-02-13' });
const Year = z.coerce.number().int().min(2000).max(2100);

const WorkingDaysQuery = z.object({
  from: CalendarDate,
  add: z.coerce.number().int().min(0).max(366).meta({ description: '工作日数，首日不计 (working days, the first day not counted)' }),
});
const YearParams = z.object({ year: Year });
const Name = z.string().trim().min(1).max(40);
const YearBody = z.object({
  year: z.number().int().min(2000).max(2100),
  notice: z.string().trim().min(4).max(500).meta({ description: '所依据的国务院办公厅通知（标题、文号） (the State Council notice: title and number)' }),
  holidays: z
    .array(z.object({ from: CalendarDate, to: CalendarDate, name: Name.meta({ example: '春节' }) }))
    .min(1)
    .max(40)
    .meta({ description: '放假日期段（含首尾） (holiday runs, both ends included)' }),
  workdays: z
    .array(z.object({ date: CalendarDate, name: Name.default('调休上班') }))
    .max(40)
    .meta({ description: '调休上班的星期六、星期日 (Saturdays and Sundays worked in exchange)' }),
  replace: z.boolean().default(false).meta({ description: '替换已录入的年度安排（更正通知） (replace a published year: a corrected notice)' }),
});

export function calendarRoutes(routes: RouteTable, calendar: CalendarService): void {
  const tag = 'calendar';
  routes.add({
    method: 'get', path: '/calendar/working-days', tag, access: 'authenticated', query: WorkingDaysQuery,
    summary: '某日之后第 N 个工作日（首日不计；未录入年度安排时拒绝计算） (the N-th working day after a date, the first day not counted; refused for a year with no schedule)',
    handler: async ({ ctx, query }) => {
      const date = await calendar.addWorkingDays(query.from, query.add, { ctx });
      return { from: query.from, add: query.add, date, weekday: weekday(date), weekdayName: weekdayName(date) };
    },
  });
  routes.add({
    method: 'get', path: '/calendar/years', tag, access: 'authenticated',
    summary: '已录入的年度节假日安排 (the published yearly holiday schedules)',
    handler: ({ ctx }) => calendar.years(ctx),
  });
  routes.add({
    method: 'get', path: '/calendar/years/:year', tag, access: 'authenticated', params: YearParams,
    summary: '某年的节假日及调休安排 (one year\'s holidays and make-up working days)',
    handler: ({ ctx, params }) => calendar.year(ctx, params.year),
  });
  routes.add({
    method: 'post', path: '/calendar/years', tag, access: ['operator'], body: YearBody,
    summary: '录入（或明确替换）某年的节假日安排 (enter, or explicitly replace, a year\'s holiday schedule)',
    handler: ({ ctx, body }) => calendar.addYear(ctx, body),
  });
}
