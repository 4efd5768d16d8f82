import type { Knex } from 'knex';

/**
 * The China working-day calendar (refund due dates count working days, GP87 38). The State Council General Office
 * publishes each year's holidays and make-up working days (调休) in a notice, usually in November for the next year;
 * an operator enters it as a published year. A working day is a Monday–Friday that is not a holiday, or a
 * Saturday/Sunday that is a make-up working day, so only the days that differ from the Monday–Friday rule are stored.
 * A year that is not here has no schedule: the platform refuses to count through it rather than guess.
 *
 * 2025 and 2026 are seeded from the State Council's notices, copied here so a fresh installation counts at once.
 * This data is part of the migration on purpose: later years are entered by an operator (POST /calendar/years).
 */
interface SeedYear {
  year: number;
  notice: string;
  holidays: Array<[from: string, to: string, name: string]>;
  workdays: string[];
}

const MAKE_UP_WORKDAY = '调休上班';

const SEED: SeedYear[] = [
  {
    year: 2025,
    notice: '国务院办公厅关于2025年部分节假日安排的通知',
    holidays: [
      ['2025-01-01', '2025-01-01', '元旦'],
      ['2025-01-28', '2025-02-04', '春节'],
      ['2025-04-04', '2025-04-06', '清明节'],
      ['2025-05-01', '2025-05-05', '劳动节'],
      ['2025-05-31', '2025-06-02', '端午节'],
      ['2025-10-01', '2025-10-08', '国庆节、中秋节'],
    ],
    workdays: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
  },
  {
    year: 2026,
    notice: '国务院办公厅关于2026年部分节假日安排的通知',
    holidays: [
      ['2026-01-01', '2026-01-03', '元旦'],
      ['2026-02-15', '2026-02-23', '春节'],
      ['2026-04-04', '2026-04-06', '清明节'],
      ['2026-05-01', '2026-05-05', '劳动节'],
      ['2026-06-19', '2026-06-21', '端午节'],
      ['2026-09-25', '2026-09-27', '中秋节'],
      ['2026-10-01', '2026-10-07', '国庆节'],
    ],
    workdays: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
  },
];

const DAY_MS = 86_400_000;

/** Every date from `from` to `to`, both included. */
function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('calendar_years', (t) => {
    t.integer('year').primary().checkBetween([2000, 2100]);
    // the notice the schedule comes from (title, and number where known)
    t.text('notice').notNullable();
    // when the schedule took effect on the platform (entered, or last replaced)
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // the operator who entered it; null for the years seeded with the platform
    t.uuid('created_by').references('users.id');
  });

  await knex.schema.createTable('calendar_days', (t) => {
    t.date('date').primary();
    t.integer('year').notNullable().references('calendar_years.year').onDelete('CASCADE');
    // holiday: a day off (even a Monday–Friday); workday: a Saturday or Sunday worked (调休上班)
    t.text('kind').notNullable().checkIn(['holiday', 'workday']);
    t.text('name').notNullable();
    t.index(['year']);
  });
  await knex.raw(`ALTER TABLE calendar_days ADD CONSTRAINT calendar_days_in_year CHECK (extract(year FROM date) = year)`);

  for (const y of SEED) {
    await knex('calendar_years').insert({ year: y.year, notice: y.notice });
    const days = [
      ...y.holidays.flatMap(([from, to, name]) => datesBetween(from, to).map((date) => ({ date, year: y.year, kind: 'holiday', name }))),
      ...y.workdays.map((date) => ({ date, year: y.year, kind: 'workday', name: MAKE_UP_WORKDAY })),
    ];
    await knex('calendar_days').insert(days);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('calendar_days');
  await knex.schema.dropTable('calendar_years');
}
