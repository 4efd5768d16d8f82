import type { Knex } from 'knex';

/**
 * The regulators' review of alerts ("zero blind spots in supervision": what the platform finds is reported to the
 * supervising department and followed until handled). Each step of an alert's handling — acknowledged, investigating,
 * confirmed or dismissed, each with a note — is a row of `alert_dispositions`, append-only like the audit chain it
 * points to (EB 49: the record of supervision is not rewritten either). On `alerts`: when its status last changed,
 * when it is due to be handled (working days by severity) and when it was handled (confirmed or dismissed).
 *
 * Existing alerts get their due time here, with the platform's default deadlines (critical 1, high 3, warning 5,
 * info 10 working days after the day raised, the first day not counted) on the calendar as published when this runs;
 * a year with no published schedule is counted in calendar days and marked estimated, as the application does.
 */
const DEFAULT_DUE_WORKING_DAYS: Record<string, number> = { critical: 1, high: 3, warning: 5, info: 10 };
const DAY_MS = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('alerts', (t) => {
    t.timestamp('status_changed_at', { useTz: true });
    // the end of the handling period: 00:00 Asia/Shanghai after its last working day (exclusive)
    t.timestamp('due_at', { useTz: true });
    // counted in calendar days because a year's holiday schedule was not published
    t.boolean('due_estimated').notNullable().defaultTo(false);
    t.timestamp('handled_at', { useTz: true });
    t.index(['due_at']);
    t.index(['subject_org_id']);
    t.index(['rule', 'raised_at']);
  });
  // alerts raised by code that does not set a due time (it is filled in on the next read): found at once
  await knex.raw('CREATE INDEX alerts_due_missing ON alerts (raised_at) WHERE due_at IS NULL');

  await knex.schema.createTable('alert_dispositions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('alert_id').notNullable().references('alerts.id');
    t.text('from_status').notNullable();
    t.text('to_status').notNullable().checkIn(['acknowledged', 'investigating', 'confirmed', 'dismissed']);
    t.text('note').notNullable();
    t.uuid('user_id').notNullable().references('users.id');
    t.uuid('org_id').notNullable().references('organisations.id');
    t.timestamp('at', { useTz: true }).notNullable();
    // the audit event that records this step
    t.bigInteger('audit_seq').notNullable();
    t.index(['alert_id', 'at']);
  });
  await knex.raw(`
    CREATE FUNCTION alert_dispositions_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'alert_dispositions is append-only (EB 49): % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
  `);
  await knex.raw(`
    CREATE TRIGGER alert_dispositions_no_update_delete BEFORE UPDATE OR DELETE ON alert_dispositions
      FOR EACH ROW EXECUTE FUNCTION alert_dispositions_append_only();
  `);

  await backfill(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('alert_dispositions');
  await knex.raw('DROP FUNCTION alert_dispositions_append_only()');
  await knex.raw('DROP INDEX alerts_due_missing');
  await knex.schema.alterTable('alerts', (t) => {
    t.dropIndex(['due_at']);
    t.dropIndex(['subject_org_id']);
    t.dropIndex(['rule', 'raised_at']);
    t.dropColumn('status_changed_at');
    t.dropColumn('due_at');
    t.dropColumn('due_estimated');
    t.dropColumn('handled_at');
  });
}

/** Due times of the alerts already raised, counted here with the calendar as it stands (frozen with the migration). */
async function backfill(knex: Knex): Promise<void> {
  const alerts: Array<{ id: string; severity: string; raised_at: Date | string }> = await knex('alerts').select('id', 'severity', 'raised_at');
  if (!alerts.length) return;
  const years = new Set<number>((await knex('calendar_years').select('year')).map((r: { year: number }) => Number(r.year)));
  const special = new Map<string, string>(
    (await knex('calendar_days').select(knex.raw(`to_char(date, 'YYYY-MM-DD') AS date`), 'kind')).map((r: { date: string; kind: string }) => [r.date, r.kind]),
  );
  const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
  for (const a of alerts) {
    const raisedAt = new Date(a.raised_at);
    const first = Math.floor((raisedAt.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS);
    const n = DEFAULT_DUE_WORKING_DAYS[a.severity] ?? 10;
    let day = first;
    let estimated = false;
    for (let left = n; left > 0; ) {
      day++;
      const date = dateOf(day);
      if (!years.has(Number(date.slice(0, 4)))) {
        estimated = true;
        day = first + n;
        break;
      }
      const kind = special.get(date);
      const weekday = ((((day + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday
      if (kind ? kind === 'workday' : weekday <= 5) left--;
    }
    await knex('alerts')
      .where({ id: a.id })
      .update({ due_at: new Date((day + 1) * DAY_MS - SHANGHAI_OFFSET_MS), due_estimated: estimated, status_changed_at: raisedAt });
  }
}
