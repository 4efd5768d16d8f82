/**
 * Live events of openings (不见面开标): every transition shown in the opening hall, numbered per tender (1, 2, 3…)
 * so a viewer that reconnects asks for what came after its Last-Event-ID. Written in the same transaction as the
 * change it reports, so an event exists if and only if the change committed. The rows are the source of truth;
 * the pub/sub message that follows a commit is only a poke telling instances to read them.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('live_events', (t) => {
    t.uuid('tender_id').notNullable().references('tenders.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('type').notNullable();
    // Plain JSON for everyone in the hall: ids, states, times, figures — never a key, a share or bid content.
    t.jsonb('data').notNullable().defaultTo('{}');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.primary(['tender_id', 'seq']);
  });
  await knex.raw('ALTER TABLE live_events ADD CONSTRAINT live_events_seq_positive CHECK (seq > 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('live_events');
}
