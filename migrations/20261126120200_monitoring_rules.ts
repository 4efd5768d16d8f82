import type { Knex } from 'knex';

/**
 * The monitoring rules' state: each alert a rule raises carries the key of the condition it found, unique per rule,
 * so a condition found again (by a later scan, a second instance, a retried job) is alerted once; and the engine's
 * cursor over the audit chain.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('alerts', (t) => {
    t.text('dedupe_key');
    t.unique(['rule', 'dedupe_key'], { indexName: 'alerts_rule_dedupe_key_unique' });
  });
  await knex.schema.createTable('monitoring_cursors', (t) => {
    t.text('name').primary();
    // the last audit event the scan has read
    t.bigInteger('seq').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('monitoring_cursors');
  await knex.schema.alterTable('alerts', (t) => {
    t.dropUnique(['rule', 'dedupe_key'], 'alerts_rule_dedupe_key_unique');
    t.dropColumn('dedupe_key');
  });
}
