/**
 * The job outbox: a job that must not be lost (a refund, an opening step) is written here in the same transaction as
 * the business change that causes it. The dispatcher hands due rows to the queue (BullMQ jobId = `outbox-<id>`), and a
 * sweeper re-enqueues rows the queue lost. PostgreSQL, not Redis, is the source of truth for jobs.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.text('queue').notNullable();
    t.text('name').notNullable();
    // Ids only: never a key, a share, a password or bid content (they would sit in Redis and in logs).
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('run_at', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('enqueued_at', { useTz: true }).nullable();
    t.timestamp('finished_at', { useTz: true }).nullable();
    t.text('last_error').nullable();
    t.index(['status', 'run_at'], 'outbox_status_run_at_idx');
  });
  await knex.raw(
    `ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'enqueued', 'done', 'failed'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('outbox');
}
