/**
 * When a refund is due: by the end (24:00, Asia/Shanghai) of the second working day after the day of its release,
 * the release day itself not counted, on the China working-day calendar. When the calendar has no schedule for a
 * year it needs, the refund is not held back: its due time is estimated counting weekends only and flagged as
 * estimated, and the calendar raises its alert (domain rule: refuse to guess silently).
 */
import type { Runner } from '../db';
import type { CalendarService } from '../calendar/calendar.service';
import { CalendarYearMissing } from '../calendar/calendar.errors';
import { dateOfDay, dayNumber, endOfShanghaiDate, shanghaiDate, weekday } from '../calendar/working-days';

export interface RefundDueDates {
  dueAt(trx: Runner, releasedAt: Date, workingDays: number): Promise<{ dueAt: Date; estimated: boolean }>;
}

/** Counting Monday to Friday only: the estimate used when a year has no published schedule. */
export function weekdaysOnly(from: string, n: number): string {
  let day = dayNumber(from);
  for (let left = n; left > 0; ) {
    day += 1;
    const w = weekday(dateOfDay(day));
    if (w <= 5) left -= 1; // ISO: 6 and 7 are the weekend
  }
  return dateOfDay(day);
}

export function refundDueDates(calendar: Pick<CalendarService, 'dueDate'>): RefundDueDates {
  return {
    async dueAt(trx, releasedAt, workingDays) {
      try {
        return { dueAt: (await calendar.dueDate(releasedAt, workingDays, { db: trx })).endsAt, estimated: false };
      } catch (err) {
        if (!CalendarYearMissing.is(err)) throw err;
        return { dueAt: endOfShanghaiDate(weekdaysOnly(shanghaiDate(releasedAt), workingDays)), estimated: true };
      }
    },
  };
}
