/**
 * Asia/Shanghai time. China has kept UTC+8 without daylight saving since 1991, so a calendar date there is the UTC
 * date of (instant + 8 h). Times are stored in UTC and shown in Asia/Shanghai.
 */
import { DAY_MS, HOUR_MS } from './clock';

export const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;
export const TIME_ZONE = 'Asia/Shanghai';

/** The Shanghai calendar date of an instant, as days since 1970-01-01. */
export function shanghaiDayNumber(at: Date): number {
  return Math.floor((at.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS);
}

/** Midnight (00:00 Shanghai) starting the given day number. */
export function startOfShanghaiDay(day: number): Date {
  return new Date(day * DAY_MS - SHANGHAI_OFFSET_MS);
}

/** `YYYY-MM-DD` in Shanghai. */
export function shanghaiDate(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD HH:mm` in Shanghai, for people (北京时间). */
export function formatShanghai(at: Date): string {
  const iso = new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** Same Shanghai time of day, `days` calendar days later. */
export function addShanghaiDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}
