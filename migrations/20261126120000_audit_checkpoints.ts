import type { Knex } from 'knex';

/**
 * Signed checkpoints of the audit chain (EB 49: no one may forge, alter or destroy the record): at each, the number
 * of events, their RFC 6962 Merkle root and the last event's chain hash, signed with the platform's document-signing
 * key, so a regulator holding an export can verify the log offline and a bidder can prove its receipt's event is in
 * it. `frontier` (the roots of the complete subtrees, largest first) lets the next checkpoint hash only the events
 * after this one. Like the chain itself, rows are never changed or removed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_checkpoints', (t) => {
    t.bigInteger('tree_size').primary();
    t.specificType('root_hash', 'char(64)').notNullable();
    t.specificType('last_event_hash', 'char(64)').notNullable();
    t.timestamp('made_at', { useTz: true }).notNullable();
    t.text('origin').notNullable();
    t.text('signer_serial').notNullable();
    t.text('signature').notNullable();
    t.jsonb('frontier').notNullable();
  });
  await knex.raw(`
    CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'audit_checkpoints is append-only (EB 49): % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
  `);
  await knex.raw(`
    CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
  `);
  await knex.raw(`
    CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_checkpoints');
  await knex.raw('DROP FUNCTION audit_checkpoints_append_only()');
}
