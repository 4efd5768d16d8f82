/** The only knex for the working-day calendar: published years and the days that differ from the Monday–Friday rule. */
import type { Runner } from '../db';
import type { CalendarDay, DayKind } from './working-days';

export interface StoredYear {
  year: number;
  notice: string;
  publishedAt: Date;
  createdBy: string | null;
  days: CalendarDay[];
}

type Row = Record<string, any>;

// Serialises the reports of one missing year across instances (the two-key form: its own key space).
const MISSING_YEAR_LOCK = 4_902_772;

const day = (r: Row): CalendarDay => ({ date: r.date, kind: r.kind as DayKind, name: r.name });

export const calendarRepository = {
  /** The given years (all of them when none are given), each with its days in date order. */
  async years(db: Runner, only?: number[]): Promise<StoredYear[]> {
    const yq = db('calendar_years').orderBy('year');
    if (only) yq.whereIn('year', only);
    const years = await yq;
    if (!years.length) return [];
    // a date column read as text: no driver turns it into a local-midnight Date
    const days = await db('calendar_days')
      .select(db.raw(`to_char(date, 'YYYY-MM-DD') AS date`), 'year', 'kind', 'name')
      .whereIn('year', years.map((y: Row) => Number(y.year)))
      .orderBy('calendar_days.date');
    return years.map((y: Row) => ({
      year: Number(y.year),
      notice: y.notice,
      publishedAt: new Date(y.published_at),
      createdBy: y.created_by ?? null,
      days: days.filter((d: Row) => Number(d.year) === Number(y.year)).map(day),
    }));
  },

  async find(db: Runner, year: number): Promise<StoredYear | null> {
    const [y] = await calendarRepository.years(db, [year]);
    return y ?? null;
  },

  /** Locks a published year's row for a replacement; null when it is not published. */
  async lockYear(db: Runner, year: number): Promise<{ year: number; dayCount: number } | null> {
    const row = await db('calendar_years').where({ year }).forUpdate().first();
    if (!row) return null;
    const [{ n }] = await db('calendar_days').where({ year }).count({ n: '*' });
    return { year, dayCount: Number(n) };
  },

  /** Inserts a new year; a concurrent insert of the same year fails with a unique violation. */
  async insertYear(db: Runner, y: { year: number; notice: string; at: Date; userId: string | null }, days: CalendarDay[]): Promise<void> {
    await db('calendar_years').insert({ year: y.year, notice: y.notice, published_at: y.at, created_by: y.userId });
    await insertDays(db, y.year, days);
  },

  /** Replaces a published year's notice and days. */
  async replaceYear(db: Runner, y: { year: number; notice: string; at: Date; userId: string | null }, days: CalendarDay[]): Promise<void> {
    await db('calendar_days').where({ year: y.year }).delete();
    await db('calendar_years').where({ year: y.year }).update({ notice: y.notice, published_at: y.at, created_by: y.userId });
    await insertDays(db, y.year, days);
  },

  /** Held until the transaction ends: one report of a missing year at a time, so it is alerted once. */
  async lockMissingYear(trx: Runner, year: number): Promise<void> {
    await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [MISSING_YEAR_LOCK, year]);
  },
};

async function insertDays(db: Runner, year: number, days: CalendarDay[]): Promise<void> {
  if (days.length) await db('calendar_days').insert(days.map((d) => ({ date: d.date, year, kind: d.kind, name: d.name })));
}
