import type { Knex } from 'knex';

/**
 * The audit chain (EB 49: every operation's time, network address and operator recorded; no one may forge, alter or
 * destroy the record). Each row carries the hash of the previous one; a trigger refuses UPDATE, DELETE and TRUNCATE
 * for every role, the application's included.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.bigInteger('seq').primary();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.uuid('actor_user_id');
    t.uuid('actor_org_id');
    t.text('actor_org_type');
    t.text('actor_role');
    t.text('cert_serial');
    t.text('client_ip');
    t.text('user_agent');
    t.text('device_fingerprint');
    t.text('request_id');
    t.text('action').notNullable();
    t.text('object_type');
    t.text('object_id');
    t.uuid('tender_id');
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.specificType('prev_hash', 'char(64)').notNullable();
    t.specificType('hash', 'char(64)').notNullable().unique();
    t.index(['tender_id', 'seq']);
    t.index(['action']);
    t.index(['actor_org_id']);
  });
  await knex.raw(`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only (EB 49): % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
  `);
  await knex.raw(`
    CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
  `);
  await knex.raw(`
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_events');
  await knex.raw('DROP FUNCTION audit_events_append_only()');
}
