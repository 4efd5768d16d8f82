import assert from 'node:assert/strict';
import { CalendarScheduleInvalid, CalendarYearMissing } from '../../src/calendar/calendar.errors';
import {
  addWorkingDays,
  describeSchedule,
  endOfShanghaiDate,
  isCalendarDate,
  isWorkingDay,
  scheduleFromNotice,
  shanghaiDate,
  weekday,
  workingDaysBetween,
  type Schedules,
  type YearNotice,
} from '../../src/calendar/working-days';

/** The State Council's schedules for 2025 and 2026 (the same data the calendar migration seeds). */
const NOTICES: YearNotice[] = [
  {
    year: 2025,
    notice: '国务院办公厅关于2025年部分节假日安排的通知',
    holidays: [
      { from: '2025-01-01', to: '2025-01-01', name: '元旦' },
      { from: '2025-01-28', to: '2025-02-04', name: '春节' },
      { from: '2025-04-04', to: '2025-04-06', name: '清明节' },
      { from: '2025-05-01', to: '2025-05-05', name: '劳动节' },
      { from: '2025-05-31', to: '2025-06-02', name: '端午节' },
      { from: '2025-10-01', to: '2025-10-08', name: '国庆节、中秋节' },
    ],
    workdays: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'].map((date) => ({ date, name: '调休上班' })),
  },
  {
    year: 2026,
    notice: '国务院办公厅关于2026年部分节假日安排的通知',
    holidays: [
      { from: '2026-01-01', to: '2026-01-03', name: '元旦' },
      { from: '2026-02-15', to: '2026-02-23', name: '春节' },
      { from: '2026-04-04', to: '2026-04-06', name: '清明节' },
      { from: '2026-05-01', to: '2026-05-05', name: '劳动节' },
      { from: '2026-06-19', to: '2026-06-21', name: '端午节' },
      { from: '2026-09-25', to: '2026-09-27', name: '中秋节' },
      { from: '2026-10-01', to: '2026-10-07', name: '国庆节' },
    ],
    workdays: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'].map((date) => ({ date, name: '调休上班' })),
  },
];

const calendar: Schedules = new Map(NOTICES.map((n) => [n.year, scheduleFromNotice(n)]));

const missingYear = (year: number) => (err: unknown) => {
  assert.ok(CalendarYearMissing.is(err), `expected CALENDAR_YEAR_MISSING, got ${String(err)}`);
  assert.equal(err.details.year, year);
  assert.match(err.message, new RegExp(String(year)));
  return true;
};

const invalid = (pattern: RegExp, dates?: string[]) => (err: unknown) => {
  assert.ok(CalendarScheduleInvalid.is(err), `expected CALENDAR_SCHEDULE_INVALID, got ${String(err)}`);
  assert.match(String(err.details.reason), pattern);
  if (dates) assert.deepEqual(err.details.dates, dates);
  return true;
};

describe('working days on the China calendar (first day not counted, Asia/Shanghai)', function () {
  describe('addWorkingDays', function () {
    it('when an award is issued on Friday 2026-02-13, then 2 working days later is 2026-02-24 (2/14 a make-up Saturday, 2/15–2/23 春节)', function () {
      assert.equal(weekday('2026-02-13'), 5);
      assert.equal(addWorkingDays(calendar, '2026-02-13', 1), '2026-02-14');
      assert.equal(addWorkingDays(calendar, '2026-02-13', 2), '2026-02-24');
    });

    it('when counting from 2026-09-30, then 2 working days later is 2026-10-09 (10/1–10/7 国庆节, 10/8 and 10/9 worked)', function () {
      assert.equal(addWorkingDays(calendar, '2026-09-30', 1), '2026-10-08');
      assert.equal(addWorkingDays(calendar, '2026-09-30', 2), '2026-10-09');
      assert.equal(addWorkingDays(calendar, '2026-09-30', 3), '2026-10-10', 'Saturday 10/10 is a make-up working day');
      assert.equal(weekday('2026-10-10'), 6);
    });

    it('when a period crosses the end of a year, then the next year\'s schedule counts: 2025-12-31 + 2 → 2026-01-05', function () {
      // 1/1–1/3 元旦, Sunday 1/4 worked, Monday 1/5
      assert.equal(addWorkingDays(calendar, '2025-12-31', 1), '2026-01-04');
      assert.equal(weekday('2026-01-04'), 7);
      assert.equal(addWorkingDays(calendar, '2025-12-31', 2), '2026-01-05');
    });

    it('when a period needs a year with no published schedule, then it is refused naming that year, never guessed', function () {
      assert.equal(addWorkingDays(calendar, '2026-12-30', 1), '2026-12-31');
      assert.throws(() => addWorkingDays(calendar, '2026-12-30', 2), missingYear(2027));
      assert.throws(() => addWorkingDays(calendar, '2024-12-30', 1), missingYear(2024));
      assert.throws(() => isWorkingDay(calendar, '2027-01-04'), missingYear(2027));
      assert.equal(CalendarYearMissing.status, 409);
    });

    it('when n = 0, then the answer is the date itself, whatever the day is and even in a year without a schedule', function () {
      assert.equal(addWorkingDays(calendar, '2026-02-13', 0), '2026-02-13');
      assert.equal(addWorkingDays(calendar, '2026-02-15', 0), '2026-02-15', 'a holiday');
      assert.equal(addWorkingDays(calendar, '2027-06-01', 0), '2027-06-01');
    });

    it('when the first day is a weekend or a holiday, then it is not counted either: counting starts the day after', function () {
      assert.equal(addWorkingDays(calendar, '2026-03-07', 1), '2026-03-09', 'Saturday + 1 → Monday');
      assert.equal(addWorkingDays(calendar, '2026-03-08', 2), '2026-03-10', 'Sunday + 2 → Tuesday');
      assert.equal(addWorkingDays(calendar, '2026-03-06', 1), '2026-03-09', 'Friday + 1 → Monday');
      assert.equal(addWorkingDays(calendar, '2026-03-09', 5), '2026-03-16', 'Monday + 5 → the next Monday');
      assert.equal(addWorkingDays(calendar, '2026-02-22', 1), '2026-02-24', 'a holiday Sunday + 1');
      assert.equal(addWorkingDays(calendar, '2026-02-27', 1), '2026-02-28', 'Friday + 1 → the make-up Saturday');
    });

    it('when n is negative or not whole, then it is a programming error', function () {
      assert.throws(() => addWorkingDays(calendar, '2026-03-09', -1), RangeError);
      assert.throws(() => addWorkingDays(calendar, '2026-03-09', 1.5), RangeError);
      assert.throws(() => addWorkingDays(calendar, '2026-02-30', 1), RangeError);
    });
  });

  describe('isWorkingDay and workingDaysBetween', function () {
    it('when asked about weekdays, weekends, holidays and make-up days, then the Monday–Friday rule bends only where the notice says', function () {
      const cases: Array<[string, boolean]> = [
        ['2026-03-09', true], // Monday
        ['2026-03-07', false], // Saturday
        ['2026-03-08', false], // Sunday
        ['2026-02-16', false], // Monday in 春节
        ['2026-02-14', true], // Saturday worked
        ['2026-09-20', true], // Sunday worked
        ['2026-10-08', true], // Thursday after 国庆节
        ['2025-10-08', false], // 2025's 国庆节、中秋节 runs to 10/8
        ['2025-10-11', true], // Saturday worked
        ['2025-01-01', false],
      ];
      for (const [date, working] of cases) assert.equal(isWorkingDay(calendar, date), working, date);
    });

    it('when counting the working days between two dates, then the first is not counted and the last is', function () {
      assert.equal(workingDaysBetween(calendar, '2026-02-13', '2026-02-24'), 2);
      assert.equal(workingDaysBetween(calendar, '2026-02-13', '2026-02-23'), 1);
      assert.equal(workingDaysBetween(calendar, '2026-03-09', '2026-03-09'), 0);
      assert.equal(workingDaysBetween(calendar, '2026-03-10', '2026-03-09'), 0);
      assert.equal(workingDaysBetween(calendar, '2025-12-31', '2026-01-05'), 2);
    });
  });

  describe('Asia/Shanghai dates', function () {
    it('when an instant is 2026-02-13T16:30Z, then it is already Saturday 2026-02-14 in Shanghai: + 2 working days is 2026-02-25, not 2/24', function () {
      const at = new Date('2026-02-13T16:30:00Z');
      assert.equal(shanghaiDate(at), '2026-02-14');
      assert.equal(shanghaiDate(new Date('2026-02-13T15:59:59.999Z')), '2026-02-13');
      // from Saturday 2/14 (itself not counted) the next working days are 2/24 and 2/25
      assert.equal(addWorkingDays(calendar, shanghaiDate(at), 2), '2026-02-25');
      assert.equal(addWorkingDays(calendar, shanghaiDate(new Date('2026-02-13T15:59:59Z')), 2), '2026-02-24');
    });

    it('when a Shanghai day ends, then its end is 00:00 +08:00 of the next day: 23:59:59.999 is inside it, the end itself is not', function () {
      const end = endOfShanghaiDate('2026-02-24');
      assert.equal(end.toISOString(), '2026-02-24T16:00:00.000Z');
      assert.equal(shanghaiDate(new Date(end.getTime() - 1)), '2026-02-24');
      assert.equal(shanghaiDate(end), '2026-02-25');
      assert.equal(endOfShanghaiDate('2026-12-31').toISOString(), '2026-12-31T16:00:00.000Z');
    });

    it('when dates are checked, then only real YYYY-MM-DD dates pass', function () {
      for (const ok of ['2026-02-28', '2028-02-29', '2026-12-31']) assert.ok(isCalendarDate(ok), ok);
      for (const bad of ['2026-02-29', '2026-13-01', '2026-2-1', '20260201', '2026-02-01T00:00', '']) assert.ok(!isCalendarDate(bad), bad);
    });
  });

  describe('scheduleFromNotice (what an operator enters)', function () {
    const base: YearNotice = {
      year: 2027,
      notice: '国务院办公厅关于2027年部分节假日安排的通知',
      holidays: [{ from: '2027-01-01', to: '2027-01-03', name: '元旦' }],
      workdays: [{ date: '2027-02-20', name: '调休上班' }],
    };

    it('when the notice is sound, then it expands into days and reads back as it was entered', function () {
      const s = scheduleFromNotice(base);
      assert.equal(s.days.size, 4);
      assert.deepEqual(describeSchedule(s), { holidays: base.holidays, workdays: base.workdays });
      assert.deepEqual(describeSchedule(calendar.get(2026)!), { holidays: NOTICES[1].holidays, workdays: NOTICES[1].workdays });
    });

    it('when a date lies outside the year, then the schedule is refused naming it', function () {
      assert.throws(() => scheduleFromNotice({ ...base, holidays: [{ from: '2026-12-31', to: '2027-01-02', name: '元旦' }] }), invalid(/2027/, ['2026-12-31']));
    });

    it('when a date is both a holiday and a make-up working day, then the schedule is refused', function () {
      assert.throws(() => scheduleFromNotice({ ...base, workdays: [{ date: '2027-01-02', name: '调休上班' }] }), invalid(/既是节假日又是调休上班日/, ['2027-01-02']));
    });

    it('when a make-up working day is a Monday–Friday, a holiday ends before it starts, or runs implausibly long, then it is refused', function () {
      assert.throws(() => scheduleFromNotice({ ...base, workdays: [{ date: '2027-02-22', name: '调休上班' }] }), invalid(/星期六或星期日/));
      assert.throws(() => scheduleFromNotice({ ...base, holidays: [{ from: '2027-01-03', to: '2027-01-01', name: '元旦' }] }), invalid(/晚于/));
      assert.throws(() => scheduleFromNotice({ ...base, holidays: [{ from: '2027-01-01', to: '2027-03-01', name: '元旦' }] }), invalid(/超过/));
      assert.throws(
        () => scheduleFromNotice({ ...base, holidays: [...base.holidays, { from: '2027-01-03', to: '2027-01-04', name: '元旦' }] }),
        invalid(/重复/, ['2027-01-03']),
      );
    });
  });
});
