/**
 * When an alert is due to be handled: by the end (24:00 Asia/Shanghai) of the n-th working day after the day it was
 * raised, the first day not counted (as every period on the platform, GP87 85), n by severity (ALERT_DUE_WORKING_DAYS).
 *
 * The calendar is read directly (published years through its repository, counted with the pure working-day functions)
 * rather than through CalendarService: that service raises an alert of its own when a year is missing, and raising it
 * would ask for its due time again — a loop. When the year is not published the period is counted in calendar days
 * and marked estimated: calendar days are never more than working days, so an unpublished year makes a deadline
 * early, never late — an alert is never shown as handled on time when it was not. The missing year itself is reported
 * by the calendar the first time anything else counts through it.
 */
import type { Runner } from '../db';
import { CalendarYearMissing } from '../calendar/calendar.errors';
import { calendarRepository } from '../calendar/calendar.repository';
import { addWorkingDays, dateOfDay, dayNumber, endOfShanghaiDate, shanghaiDate, sortedDays, type YearSchedule } from '../calendar/working-days';
import type { AlertSeverity } from './alerts.repository';

export type DueWorkingDays = Readonly<Record<AlertSeverity, number>>;

export const DEFAULT_DUE_WORKING_DAYS: DueWorkingDays = { critical: 1, high: 3, warning: 5, info: 10 };

export interface AlertDue {
  dueAt: Date;
  estimated: boolean;
}

export async function alertDueAt(db: Runner, raisedAt: Date, workingDays: number): Promise<AlertDue> {
  const from = shanghaiDate(raisedAt);
  const schedules = new Map<number, YearSchedule>();
  for (;;) {
    try {
      return { dueAt: endOfShanghaiDate(addWorkingDays(schedules, from, workingDays)), estimated: false };
    } catch (err) {
      if (!CalendarYearMissing.is(err)) throw err;
      const year = Number(err.details.year);
      const stored = schedules.has(year) ? null : await calendarRepository.find(db, year);
      if (!stored) return { dueAt: endOfShanghaiDate(dateOfDay(dayNumber(from) + workingDays)), estimated: true };
      schedules.set(year, { year, notice: stored.notice, days: sortedDays(stored.days) });
    }
  }
}
