/**
 * The China working-day calendar as a service: counts working days over the published years (refunds are due within
 * 2 working days of the event that releases them, the first day not counted — GP87 38, GP87 85), and lets an
 * operator enter each year's schedule when the State Council's notice appears (usually in November).
 *
 * A count that needs a year with no published schedule is refused with CALENDAR_YEAR_MISSING naming the year, never
 * guessed, and the operators and regulators are alerted — once per missing year while the alert stands.
 *
 * A caller inside a use case's transaction (e.g. the deposits setting a refund's due date) passes it as `db`: the
 * calendar reads through it (the embedded database has a single connection, so another one would wait for it), and
 * a missing year's audit event and alert are written in it — the caller catches the refusal and commits (the
 * deposits estimate the date and flag it), or the report goes with its rollback. Without `db`, the report commits in
 * a transaction of its own.
 */
import type { Db, Runner } from '../db';
import { pgErrorCode, PG_UNIQUE_VIOLATION } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, systemContext, type ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import { alertsRepository } from '../monitoring/alerts.repository';
import { CalendarYearExists, CalendarYearMissing } from './calendar.errors';
import { calendarRepository as repo, type StoredYear } from './calendar.repository';
import {
  addWorkingDays,
  describeSchedule,
  endOfShanghaiDate,
  isWorkingDay,
  scheduleFromNotice,
  shanghaiDate,
  sortedDays,
  workingDaysBetween,
  type Schedules,
  type YearNotice,
  type YearSchedule,
} from './working-days';

export const CALENDAR_YEAR_MISSING_RULE = 'calendar-year-missing';
const MISSING_BASIS = 'domain rule: working days / GP87 38';

/**
 * How long a loaded year is trusted before it is read again. addYear on this instance drops it at once; this bounds
 * how long another instance keeps a replaced year (a missing year is never cached: it is looked for every time).
 */
const CACHE_TTL_MS = 60_000;

/** A due date: the last Shanghai day of the period, and the instant the period ends (00:00 of the next day, exclusive). */
export interface DueDate {
  date: string;
  endsAt: Date;
}

export interface PublishedYear {
  year: number;
  notice: string;
  publishedAt: string;
  createdBy: string | null;
  holidays: YearNotice['holidays'];
  workdays: YearNotice['workdays'];
}

export interface CountOptions {
  /** The caller's transaction, if it holds one (see above). */
  db?: Runner;
  /** Who asked, for the audit event of a missing year; the platform itself by default. */
  ctx?: ActionContext;
}

export interface AddYearInput extends YearNotice {
  /** A published year is replaced only when asked explicitly (a corrected notice). */
  replace?: boolean;
}

const published = (y: StoredYear): PublishedYear => ({
  year: y.year,
  notice: y.notice,
  publishedAt: y.publishedAt.toISOString(),
  createdBy: y.createdBy,
  ...describeSchedule(toSchedule(y)),
});

const toSchedule = (y: StoredYear): YearSchedule => ({ year: y.year, notice: y.notice, days: sortedDays(y.days) });

export class CalendarService {
  private readonly cache = new Map<number, { schedule: YearSchedule; loadedAt: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
  ) {}

  /**
   * The due date of a period of `workingDays` working days starting at `instant` (e.g. a refund: 2 working days after
   * the award notice), the first day — the instant's Shanghai date — not counted.
   */
  async dueDate(instant: Date, workingDays: number, opts: CountOptions = {}): Promise<DueDate> {
    const from = shanghaiDate(instant);
    const date = await this.count(opts, { from, add: workingDays }, (s) => addWorkingDays(s, from, workingDays));
    return { date, endsAt: endOfShanghaiDate(date) };
  }

  /** The n-th working day after `date` (`YYYY-MM-DD`), the first day not counted; n = 0 answers `date`. */
  addWorkingDays(date: string, n: number, opts: CountOptions = {}): Promise<string> {
    return this.count(opts, { from: date, add: n }, (s) => addWorkingDays(s, date, n));
  }

  isWorkingDay(date: string, opts: CountOptions = {}): Promise<boolean> {
    return this.count(opts, { date }, (s) => isWorkingDay(s, date));
  }

  /** Working days after `from` up to and including `to` (e.g. how late a refund was). */
  workingDaysBetween(from: string, to: string, opts: CountOptions = {}): Promise<number> {
    return this.count(opts, { from, to }, (s) => workingDaysBetween(s, from, to));
  }

  async years(ctx: ActionContext): Promise<PublishedYear[]> {
    requireActor(ctx);
    return (await repo.years(this.db)).map(published);
  }

  async year(ctx: ActionContext, year: number): Promise<PublishedYear> {
    requireActor(ctx);
    const y = await repo.find(this.db, year);
    if (!y) throw NotFound({ resource: `${year}年节假日安排 (the ${year} schedule)` });
    return published(y);
  }

  /** An operator enters (or, explicitly, replaces) a year's schedule from the State Council's notice. */
  async addYear(ctx: ActionContext, input: AddYearInput): Promise<PublishedYear> {
    const actor = requireActor(ctx, 'operator');
    const schedule = scheduleFromNotice(input);
    const days = [...schedule.days.values()];
    const at = this.clock.now();
    const record = { year: input.year, notice: input.notice, at, userId: actor.userId };
    try {
      await this.db.transaction(async (trx) => {
        const existing = await repo.lockYear(trx, input.year);
        if (existing && !input.replace) throw CalendarYearExists({ year: input.year });
        if (existing) await repo.replaceYear(trx, record, days);
        else await repo.insertYear(trx, record, days);
        const { holidays, workdays } = describeSchedule(schedule);
        await this.audit.append(trx, ctx, {
          action: existing ? 'calendar.year.replace' : 'calendar.year.publish',
          objectType: 'calendar_year',
          objectId: String(input.year),
          payload: {
            year: input.year,
            notice: input.notice,
            holidays,
            workdays,
            ...(existing ? { replacedDayCount: existing.dayCount } : {}),
          },
        });
      });
    } catch (err) {
      // the same year entered twice at once: the second insert meets the first's primary key
      if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw CalendarYearExists({ year: input.year });
      throw err;
    } finally {
      this.cache.delete(input.year);
    }
    return this.year(ctx, input.year);
  }

  /**
   * Runs a pure count over the schedules it needs, loading each year the first time the count reaches it. A year that
   * is not published is reported (audit event and alert, once while the alert stands) and refused.
   */
  private async count<T>(opts: CountOptions, asked: Record<string, unknown>, fn: (schedules: Schedules) => T): Promise<T> {
    const db = opts.db ?? this.db;
    const schedules = new Map<number, YearSchedule>();
    const now = performance.now();
    for (const [year, entry] of this.cache) {
      if (now - entry.loadedAt < CACHE_TTL_MS) schedules.set(year, entry.schedule);
    }
    for (;;) {
      try {
        return fn(schedules);
      } catch (err) {
        if (!CalendarYearMissing.is(err)) throw err;
        const year = Number(err.details.year);
        if (schedules.has(year)) throw err;
        const loaded = (await this.load(db, year)) ?? (await this.reportMissing(db, opts.ctx ?? systemContext('calendar'), year, asked));
        if (!loaded) throw err;
        schedules.set(year, loaded);
      }
    }
  }

  private async load(db: Runner, year: number): Promise<YearSchedule | null> {
    const stored = await repo.find(db, year);
    if (!stored) return null;
    const schedule = toSchedule(stored);
    this.cache.set(year, { schedule, loadedAt: performance.now() });
    return schedule;
  }

  /**
   * Appends `calendar.year-missing` and raises a high alert on it, in a transaction of its own or the caller's (the
   * refusal itself changes nothing else), unless an alert for that year still stands. Returns the year's schedule instead when it was
   * published in the meantime.
   */
  private async reportMissing(db: Runner, ctx: ActionContext, year: number, asked: Record<string, unknown>): Promise<YearSchedule | null> {
    // inside the caller's transaction this is a savepoint: the lock and the report last until the caller commits
    return db.transaction(async (trx) => {
      await repo.lockMissingYear(trx, year);
      const appeared = await this.load(trx, year);
      if (appeared) return appeared;
      if (await alertsRepository.findStanding(trx, CALENDAR_YEAR_MISSING_RULE, 'year', year)) return null;
      const event = await this.audit.append(trx, ctx, {
        action: 'calendar.year-missing',
        objectType: 'calendar_year',
        objectId: String(year),
        payload: { year, asked, severity: 'high' },
      });
      await this.alerts.raise(trx, {
        rule: CALENDAR_YEAR_MISSING_RULE,
        severity: 'high',
        title: `未录入${year}年节假日安排，工作日无法计算（退还保证金等期限） (no ${year} holiday schedule: working-day periods such as deposit refunds cannot be counted)`,
        basis: MISSING_BASIS,
        tenderId: null,
        subjectOrgId: null,
        evidence: { auditSeqs: [event.seq], fields: { year } },
      });
      return null;
    });
  }
}
