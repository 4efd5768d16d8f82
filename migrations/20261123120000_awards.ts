import type { Knex } from 'knex';

/**
 * The award of each section after its opening: the evaluation result with ranked candidates (评标报告, 中标候选人),
 * the candidate publicity (中标候选人公示, TLR 54) and the objections raised during it, the award notice
 * (中标通知书, signed by the platform) and the contract signing (TL 46).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('evaluations', (t) => {
    t.uuid('section_id').primary().references('sections.id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.text('report').notNullable();
    t.text('summary');
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.uuid('recorded_by').notNullable().references('users.id');
    t.index(['tender_id']);
  });

  await knex.schema.createTable('candidates', (t) => {
    t.uuid('section_id').notNullable().references('evaluations.section_id');
    t.integer('rank').notNullable().checkBetween([1, 3]);
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('bid_id').notNullable().references('bids.id');
    t.bigInteger('price_fen').notNullable();
    t.primary(['section_id', 'rank']);
    t.unique(['section_id', 'bid_id']);
  });

  await knex.schema.createTable('publicities', (t) => {
    t.uuid('section_id').primary().references('evaluations.section_id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.timestamp('ends_at', { useTz: true }).notNullable();
    t.uuid('published_by').notNullable().references('users.id');
  });

  await knex.schema.createTable('publicity_objections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('section_id').notNullable().references('publicities.section_id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('raised_by_user_id').notNullable().references('users.id');
    t.text('text').notNullable();
    t.timestamp('raised_at', { useTz: true }).notNullable();
    // TLR 54: answered within three days of receipt; the award waits until it is
    t.timestamp('answer_due_at', { useTz: true }).notNullable();
    t.text('answer');
    t.timestamp('answered_at', { useTz: true });
    t.uuid('answered_by_user_id').references('users.id');
    t.index(['section_id']);
  });

  await knex.schema.createTable('awards', (t) => {
    t.uuid('section_id').primary().references('sections.id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('winner_org_id').notNullable().references('organisations.id');
    t.uuid('bid_id').notNullable().references('bids.id');
    t.integer('rank').notNullable();
    // why a candidate other than the first was chosen (e.g. the first gave up, TLR 55)
    t.text('reason');
    t.bigInteger('price_fen').notNullable();
    t.text('notice_blob_key').notNullable();
    t.binary('notice_signature').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable();
    t.uuid('issued_by').notNullable().references('users.id');
    t.index(['tender_id']);
  });

  await knex.schema.createTable('contracts', (t) => {
    t.uuid('section_id').primary().references('awards.section_id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.timestamp('signed_at', { useTz: true }).notNullable();
    t.bigInteger('amount_fen').notNullable();
    // signed more than 30 days after the award notice (TL 46)
    t.boolean('late').notNullable().defaultTo(false);
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.uuid('recorded_by').notNullable().references('users.id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contracts');
  await knex.schema.dropTable('awards');
  await knex.schema.dropTable('publicity_objections');
  await knex.schema.dropTable('publicities');
  await knex.schema.dropTable('candidates');
  await knex.schema.dropTable('evaluations');
}
