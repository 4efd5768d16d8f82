import type { Knex } from 'knex';

/**
 * Sealed bids: the custody of each tender's opening key (shares sealed to custodians), resumable bid uploads,
 * and the bids themselves with their signatures and time-stamped receipts.
 */
export async function up(knex: Knex): Promise<void> {
  // The opening private key is encrypted under a random key-encryption key that is split k-of-n; only the
  // ciphertext and the sealed shares are kept, never the key itself (EB 27).
  await knex.schema.createTable('opening_keys', (t) => {
    t.uuid('tender_id').primary().references('tenders.id').onDelete('CASCADE');
    t.text('certificate_serial').notNullable().references('certificates.serial_hex');
    t.integer('threshold').notNullable();
    t.integer('share_count').notNullable();
    t.binary('wrapped_private_key').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  await knex.schema.createTable('opening_key_shares', (t) => {
    t.uuid('tender_id').notNullable().references('tenders.id').onDelete('CASCADE');
    t.uuid('organisation_id').notNullable().references('organisations.id');
    t.integer('position').notNullable();
    t.text('recipient_certificate_serial').notNullable().references('certificates.serial_hex');
    // CMS AuthEnvelopedData: the share, readable only with the custodian's encryption key
    t.binary('sealed_share').notNullable();
    t.specificType('share_sha256', 'char(64)').notNullable();
    t.timestamp('released_at', { useTz: true });
    t.uuid('released_by_user_id').references('users.id');
    // after the deadline only: the released share, sealed at rest with the platform key
    t.text('released_share_enc');
    t.primary(['tender_id', 'organisation_id']);
  });

  await knex.schema.createTable('bid_uploads', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('section_id').notNullable().references('sections.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('user_id').notNullable().references('users.id');
    t.bigInteger('size').notNullable();
    t.specificType('sha256', 'char(64)').notNullable();
    t.binary('signature').notNullable();
    t.text('signer_certificate_serial').notNullable();
    t.bigInteger('received_bytes').notNullable().defaultTo(0);
    t.integer('parts').notNullable().defaultTo(0);
    // the stored parts in order; each attempt writes under a key of its own, so a retried chunk racing the
    // original can never overwrite a part that was counted
    t.jsonb('part_keys').notNullable().defaultTo('[]');
    t.text('status').notNullable().defaultTo('open').checkIn(['open', 'complete', 'failed', 'aborted']);
    t.text('failure_code');
    t.uuid('bid_id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['bidder_org_id', 'status']);
  });

  await knex.schema.createTable('bids', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('section_id').notNullable().references('sections.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('submitted_by_user_id').notNullable().references('users.id');
    t.uuid('upload_id').notNullable().references('bid_uploads.id');
    t.text('status').notNullable().checkIn(['current', 'superseded', 'withdrawn']);
    t.text('blob_key').notNullable();
    t.specificType('envelope_sha256', 'char(64)').notNullable();
    t.bigInteger('envelope_size').notNullable();
    t.binary('signature').notNullable();
    t.text('signer_certificate_serial').notNullable().references('certificates.serial_hex');
    t.jsonb('recipients').notNullable();
    t.binary('receipt_token').notNullable();
    t.text('receipt_serial').notNullable().unique();
    t.bigInteger('audit_seq').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.timestamp('superseded_at', { useTz: true });
    t.uuid('superseded_by_bid_id');
    t.timestamp('withdrawn_at', { useTz: true });
    t.index(['tender_id', 'status']);
  });
  // TL 28/29: one bid per bidder per section counts; a re-submission supersedes the previous one
  await knex.raw("CREATE UNIQUE INDEX bids_one_current ON bids (section_id, bidder_org_id) WHERE status = 'current'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bids');
  await knex.schema.dropTable('bid_uploads');
  await knex.schema.dropTable('opening_key_shares');
  await knex.schema.dropTable('opening_keys');
}
