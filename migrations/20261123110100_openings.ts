import type { Knex } from 'knex';

/**
 * The online opening (不见面开标) of each tender: its state, sign-ins, the bidders' content keys and the
 * decryption of each bid, confirmations of the prices read (唱标), and objections with their answers.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('openings', (t) => {
    t.uuid('tender_id').primary().references('tenders.id');
    t.text('state')
      .notNullable()
      .checkIn(['signing-in', 'decrypting', 'failed', 'announcing', 'objections', 'recorded', 'closed']);
    t.timestamp('paused_at', { useTz: true });
    t.timestamp('state_changed_at', { useTz: true }).notNullable();
    t.timestamp('decryption_started_at', { useTz: true });
    t.timestamp('decryption_ends_at', { useTz: true });
    t.timestamp('confirmation_ends_at', { useTz: true });
    t.timestamp('objection_ends_at', { useTz: true });
    // per section: valid bids and whether it failed for want of three (流标)
    t.jsonb('section_outcomes').notNullable().defaultTo('[]');
    t.boolean('retender_required').notNullable().defaultTo(false);
    t.text('record_blob_key');
    t.binary('record_signature');
    t.timestamp('recorded_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('opening_sign_ins', (t) => {
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('user_id').notNullable().references('users.id');
    t.text('certificate_serial').notNullable();
    t.timestamp('signed_in_at', { useTz: true }).notNullable();
    t.primary(['tender_id', 'bidder_org_id']);
  });

  await knex.schema.createTable('bid_decryptions', (t) => {
    t.uuid('bid_id').primary().references('bids.id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.text('status').notNullable().checkIn(['key-received', 'decrypted', 'failed']);
    // the bidder's content key, sealed at rest with the platform key from its arrival (inside the window) until the
    // decryption job has used it; then wiped
    t.text('content_key_enc');
    t.timestamp('key_received_at', { useTz: true });
    t.timestamp('decrypted_at', { useTz: true });
    t.text('failure_code');
    t.text('plaintext_blob_key');
    // the bid form (开标一览表) and document list from the package's manifest
    t.jsonb('manifest');
    // the outcome once the window has closed (EB 31): decrypted, revoked (the bidder's fault), withdrawn (not the
    // bidder's fault) or opened with the custodians' key
    t.text('outcome').checkIn(['decrypted', 'revoked', 'withdrawn', 'custodian-opened']);
    t.text('cause');
    t.index(['tender_id']);
  });

  await knex.schema.createTable('opening_confirmations', (t) => {
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.text('kind').notNullable().checkIn(['confirmed', 'disputed', 'deemed']);
    t.timestamp('at', { useTz: true }).notNullable();
    t.primary(['tender_id', 'bidder_org_id']);
  });

  await knex.schema.createTable('opening_objections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('raised_by_user_id').notNullable().references('users.id');
    t.text('text').notNullable();
    t.timestamp('raised_at', { useTz: true }).notNullable();
    t.text('answer');
    t.timestamp('answered_at', { useTz: true });
    t.uuid('answered_by_user_id').references('users.id');
    t.index(['tender_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('opening_objections');
  await knex.schema.dropTable('opening_confirmations');
  await knex.schema.dropTable('bid_decryptions');
  await knex.schema.dropTable('opening_sign_ins');
  await knex.schema.dropTable('openings');
}
