import { createError } from '../shared/errors';

/**
 * A count of working days that needs a year whose schedule has not been published on the platform. The request is
 * well formed; the platform's state refuses it (409, as for any step that waits on something not yet there), and
 * the same question answers once an operator enters that year's notice. Never a guess: an alert goes with it.
 */
export const CalendarYearMissing = createError<{ year: number }>(
  'CALENDAR_YEAR_MISSING',
  409,
  (p) => `平台尚未录入${p.year}年节假日安排，无法计算工作日，已通知运营人员 (no holiday schedule for ${p.year}: working days cannot be counted; the operators have been alerted)`,
  'domain rule: working days / GP87 38',
);
export const CalendarYearExists = createError<{ year: number }>(
  'CALENDAR_YEAR_EXISTS',
  409,
  (p) => `${p.year}年节假日安排已录入；如需更正请明确指定替换 (the ${p.year} schedule is already published; pass replace: true to replace it)`,
);
export const CalendarScheduleInvalid = createError<{ reason: string; dates?: string[] }>(
  'CALENDAR_SCHEDULE_INVALID',
  422,
  (p) => `节假日安排不符合要求：${p.reason} (invalid holiday schedule)`,
);
