import type { Knex } from 'knex';

/** Tenders (招标项目), their sections (标段), issued documents, clarifications and opening-key custodians. */
export async function up(knex: Knex): Promise<void> {
  // numbers the tenders' codes (项目编号) without races between instances
  await knex.raw('CREATE SEQUENCE tender_code_seq');
  await knex.schema.createTable('tenders', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.text('type').notNullable().checkIn(['construction', 'procurement']);
    t.uuid('tenderer_org_id').notNullable().references('organisations.id');
    t.uuid('agency_org_id').notNullable().references('organisations.id');
    t.text('region');
    t.text('description').notNullable().defaultTo('');
    t.text('status').notNullable().defaultTo('draft').checkIn(['draft', 'published', 'sealed', 'terminated']);
    t.timestamp('documents_issued_at', { useTz: true });
    // TL 34: the opening time is the bid deadline
    t.timestamp('bid_deadline', { useTz: true }).notNullable();
    t.timestamp('original_deadline', { useTz: true }).notNullable();
    t.integer('decryption_window_minutes').notNullable();
    t.text('decryption_failure_policy').notNullable().checkIn(['withdraw', 'custodian-open']);
    t.integer('custodian_threshold').notNullable();
    t.text('opening_certificate_serial').references('certificates.serial_hex');
    t.uuid('created_by_user_id').notNullable().references('users.id');
    t.timestamp('published_at', { useTz: true });
    t.timestamp('sealed_at', { useTz: true });
    t.timestamp('terminated_at', { useTz: true });
    t.text('termination_reason');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['status', 'bid_deadline']);
    t.index(['agency_org_id']);
    t.index(['tenderer_org_id']);
  });

  await knex.schema.createTable('tender_custodians', (t) => {
    t.uuid('tender_id').notNullable().references('tenders.id').onDelete('CASCADE');
    t.uuid('organisation_id').notNullable().references('organisations.id');
    t.integer('position').notNullable();
    t.primary(['tender_id', 'organisation_id']);
  });

  await knex.schema.createTable('sections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('name').notNullable();
    // estimated price (tendering) or budget (procurement), integer fen
    t.bigInteger('estimated_price_fen').notNullable();
    t.bigInteger('deposit_fen').notNullable();
    t.unique(['tender_id', 'seq']);
  });
  await knex.raw('ALTER TABLE sections ADD CONSTRAINT sections_amounts_positive CHECK (estimated_price_fen > 0 AND deposit_fen >= 0)');
  // TLR 26 / GPR 33, kept by the database too: deposit at most 2% of the estimated price or budget
  await knex.raw('ALTER TABLE sections ADD CONSTRAINT sections_deposit_cap CHECK (deposit_fen * 50 <= estimated_price_fen)');

  await knex.schema.createTable('tender_documents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id').onDelete('CASCADE');
    t.text('file_name').notNullable();
    t.text('content_type').notNullable();
    t.bigInteger('size_bytes').notNullable();
    t.specificType('sha256', 'char(64)').notNullable();
    t.text('blob_key').notNullable();
    t.uuid('uploaded_by_user_id').notNullable().references('users.id');
    t.timestamp('uploaded_at', { useTz: true }).notNullable();
    t.index(['tender_id']);
  });

  await knex.schema.createTable('clarifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('title').notNullable();
    t.text('body').notNullable();
    t.boolean('affects_bid_preparation').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable();
    t.timestamp('deadline_before', { useTz: true }).notNullable();
    t.timestamp('deadline_after', { useTz: true }).notNullable();
    t.uuid('issued_by_user_id').notNullable().references('users.id');
    t.unique(['tender_id', 'seq']);
  });

  await knex.schema.alterTable('certificates', (t) => {
    t.foreign('tender_id').references('tenders.id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    t.dropForeign(['tender_id']);
  });
  await knex.schema.dropTable('clarifications');
  await knex.schema.dropTable('tender_documents');
  await knex.schema.dropTable('sections');
  await knex.schema.dropTable('tender_custodians');
  await knex.schema.dropTable('tenders');
  await knex.raw('DROP SEQUENCE tender_code_seq');
}
