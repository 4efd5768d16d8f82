/**
 * Working days on the China calendar, as pure functions over loaded year schedules (no database).
 *
 * A working day is a Monday–Friday that is not a holiday, or a Saturday/Sunday that is a make-up working day (调休);
 * dates are Asia/Shanghai calendar dates, `YYYY-MM-DD`. Periods are counted with the first day not counted (GP87 85):
 * "within 2 working days of the event" ends on the 2nd working day after the event's day. A year with no published
 * schedule is never guessed: the functions throw CalendarYearMissing naming it.
 */
import { DAY_MS } from '../shared/clock';
import { shanghaiDate, startOfShanghaiDay } from '../shared/time';
import { CalendarScheduleInvalid, CalendarYearMissing } from './calendar.errors';

export { shanghaiDate };

export type DayKind = 'holiday' | 'workday';

/** A day that differs from the Monday–Friday rule. */
export interface CalendarDay {
  date: string;
  kind: DayKind;
  name: string;
}

/** One year's published schedule: the notice it comes from and its days that differ from the Monday–Friday rule. */
export interface YearSchedule {
  year: number;
  notice: string;
  days: ReadonlyMap<string, CalendarDay>;
}

/** The schedules at hand, by year. */
export type Schedules = ReadonlyMap<number, YearSchedule>;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written `YYYY-MM-DD` (2026-02-30 is not). */
export function isCalendarDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === value;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (the same numbering as shanghaiDayNumber). */
export function dayNumber(date: string): number {
  if (!isCalendarDate(date)) throw new RangeError(`not a calendar date: ${JSON.stringify(date)}`);
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

/** The `YYYY-MM-DD` date of a day number. */
export function dateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function weekday(date: string): number {
  // 1970-01-01 was a Thursday (4)
  return ((((dayNumber(date) + 3) % 7) + 7) % 7) + 1;
}

const WEEKDAY_NAMES = ['星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日'];

/** 星期一 … 星期日. */
export function weekdayName(date: string): string {
  return WEEKDAY_NAMES[weekday(date) - 1];
}

/** The instant a Shanghai calendar day starts (00:00 +08:00). */
export function startOfShanghaiDate(date: string): Date {
  return startOfShanghaiDay(dayNumber(date));
}

/**
 * The instant that ends a Shanghai calendar day: 00:00 +08:00 of the next day, exclusive — whatever happens before it
 * happened on that day (23:59:59.999 included), whatever happens at or after it is late. The same convention as every
 * other period end on the platform.
 */
export function endOfShanghaiDate(date: string): Date {
  return startOfShanghaiDay(dayNumber(date) + 1);
}

function scheduleFor(schedules: Schedules, date: string): YearSchedule {
  const year = yearOf(date);
  const schedule = schedules.get(year);
  if (!schedule) throw CalendarYearMissing({ year });
  return schedule;
}

export function isWorkingDay(schedules: Schedules, date: string): boolean {
  const special = scheduleFor(schedules, date).days.get(date);
  if (special) return special.kind === 'workday';
  return weekday(date) <= 5;
}

function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a count of working days must be a whole number ≥ 0, got ${n}`);
}

/**
 * The n-th working day after `from`, the first day not counted (GP87 85): `from` itself never counts, whatever it is.
 * n = 0 answers `from` (and needs no schedule).
 */
export function addWorkingDays(schedules: Schedules, from: string, n: number): string {
  checkCount(n);
  let day = dayNumber(from);
  for (let left = n; left > 0; ) {
    day++;
    if (isWorkingDay(schedules, dateOfDay(day))) left--;
  }
  return dateOfDay(day);
}

/** How many working days fall after `from` up to and including `to` (0 when `to` is not after `from`). */
export function workingDaysBetween(schedules: Schedules, from: string, to: string): number {
  let count = 0;
  for (let day = dayNumber(from) + 1, last = dayNumber(to); day <= last; day++) {
    if (isWorkingDay(schedules, dateOfDay(day))) count++;
  }
  return count;
}

/** What an operator enters from a State Council notice. */
export interface YearNotice {
  year: number;
  notice: string;
  holidays: Array<{ from: string; to: string; name: string }>;
  workdays: Array<{ date: string; name: string }>;
}

/** The longest single holiday run accepted: the longest in practice is 9 days (春节); longer is a typing error. */
export const MAX_HOLIDAY_RUN_DAYS = 16;

/**
 * Checks a notice and expands it into a schedule: every date real and inside the year, each holiday run from ≤ to
 * and not too long, no date given twice (in particular not both a holiday and a make-up working day), and every
 * make-up working day a Saturday or Sunday (a Monday–Friday is a working day already).
 */
export function scheduleFromNotice(input: YearNotice): YearSchedule {
  const invalid = (reason: string, dates?: string[]) => CalendarScheduleInvalid({ reason, ...(dates ? { dates } : {}) });
  const all = [...input.holidays.flatMap((h) => [h.from, h.to]), ...input.workdays.map((w) => w.date)];
  const unreal = all.filter((d) => !isCalendarDate(d));
  if (unreal.length) throw invalid('日期无效 (not a calendar date)', unreal);
  const outside = all.filter((d) => yearOf(d) !== input.year);
  if (outside.length) throw invalid(`日期不在${input.year}年内 (dates outside ${input.year})`, [...new Set(outside)]);

  const days = new Map<string, CalendarDay>();
  const twice = new Set<string>();
  const put = (day: CalendarDay) => {
    const before = days.get(day.date);
    if (before) {
      twice.add(day.date);
      if (before.kind !== day.kind) {
        throw invalid('同一日期既是节假日又是调休上班日 (a date is both a holiday and a make-up working day)', [day.date]);
      }
    }
    days.set(day.date, day);
  };
  for (const h of input.holidays) {
    const from = dayNumber(h.from);
    const to = dayNumber(h.to);
    if (to < from) throw invalid('放假起始日晚于结束日 (a holiday ends before it starts)', [h.from, h.to]);
    if (to - from + 1 > MAX_HOLIDAY_RUN_DAYS) {
      throw invalid(`连续放假超过${MAX_HOLIDAY_RUN_DAYS}天 (a holiday longer than ${MAX_HOLIDAY_RUN_DAYS} days)`, [h.from, h.to]);
    }
    for (let d = from; d <= to; d++) put({ date: dateOfDay(d), kind: 'holiday', name: h.name });
  }
  for (const w of input.workdays) {
    put({ date: w.date, kind: 'workday', name: w.name });
    if (weekday(w.date) <= 5) throw invalid('调休上班日应为星期六或星期日 (a make-up working day must be a Saturday or Sunday)', [w.date]);
  }
  if (twice.size) throw invalid('日期重复 (a date is given twice)', [...twice].sort());
  return { year: input.year, notice: input.notice, days: sortedDays(days.values()) };
}

/** A schedule's days in date order, as a map. */
export function sortedDays(days: Iterable<CalendarDay>): ReadonlyMap<string, CalendarDay> {
  return new Map([...days].sort((a, b) => a.date.localeCompare(b.date)).map((d) => [d.date, d]));
}

/** The schedule as people read a notice: holiday runs (consecutive days of one name) and make-up working days. */
export function describeSchedule(schedule: YearSchedule): Pick<YearNotice, 'holidays' | 'workdays'> {
  const holidays: YearNotice['holidays'] = [];
  const workdays: YearNotice['workdays'] = [];
  for (const day of sortedDays(schedule.days.values()).values()) {
    if (day.kind === 'workday') {
      workdays.push({ date: day.date, name: day.name });
      continue;
    }
    const last = holidays.at(-1);
    if (last && last.name === day.name && dayNumber(last.to) + 1 === dayNumber(day.date)) last.to = day.date;
    else holidays.push({ from: day.date, to: day.date, name: day.name });
  }
  return { holidays, workdays };
}
