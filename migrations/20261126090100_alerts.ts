import type { Knex } from 'knex';

/**
 * Alerts for the supervising department: what the platform flags, with its severity, the rule of law it rests on and
 * the evidence (audit events and fields) that matched. This first version holds the critical alerts raised when
 * someone reaches for a bid or a key share before it may be opened (EB 27); the monitoring rules and the
 * regulators' dispositions build on it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('alerts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('rule').notNullable();
    t.text('severity').notNullable().checkIn(['info', 'warning', 'high', 'critical']);
    t.text('title').notNullable();
    t.text('basis').notNullable();
    t.uuid('tender_id').references('tenders.id');
    // the organisation whose action raised it, when there is one
    t.uuid('subject_org_id').references('organisations.id');
    // { auditSeqs: [..], fields: {..} }: what matched, by reference to the chain
    t.jsonb('evidence').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('open').checkIn(['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed']);
    t.timestamp('raised_at', { useTz: true }).notNullable();
    t.index(['tender_id']);
    t.index(['status', 'raised_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('alerts');
}
