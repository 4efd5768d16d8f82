import type { Knex } from 'knex';

/**
 * Deposits (投标保证金): one virtual sub-account per (section, bidder) so a transfer names its deposit by where it
 * lands; every credit the bank reports (by notification or, if one was lost, by the daily statement), matched and
 * checked; the release of each deposit by the event the law names; and its refunds, each due within two working
 * days of the release, paid once (the refund's idempotency key is the bank's) — or, where the law allows,
 * forfeited with the reason.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deposit_accounts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('section_id').notNullable().references('sections.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.text('account_no').notNullable().unique();
    t.text('bank_name').notNullable();
    t.bigInteger('required_fen').notNullable();
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.unique(['section_id', 'bidder_org_id']);
    t.index(['tender_id']);
  });

  await knex.schema.createTable('deposit_credits', (t) => {
    // the bank's transaction id: a notification told twice, or found again in the statement, is one credit
    t.text('txn_id').primary();
    t.text('source').notNullable().checkIn(['notification', 'statement']);
    t.text('virtual_account_no').notNullable();
    t.uuid('deposit_account_id').references('deposit_accounts.id');
    t.text('payer_account_no').notNullable();
    t.text('payer_account_name').notNullable();
    t.text('payer_bank_name').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.timestamp('booked_at', { useTz: true }).notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    // what the checks found: LATE, NOT_BASIC_ACCOUNT, SHARED_ACCOUNT, UNMATCHED
    t.jsonb('findings').notNullable().defaultTo('[]');
    t.index(['deposit_account_id']);
    t.index(['payer_account_no']);
  });

  // nonces of accepted notifications: a notification signed once is accepted once (a replay is refused)
  await knex.schema.createTable('bank_notification_nonces', (t) => {
    t.text('nonce').primary();
    t.text('txn_id').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('deposit_releases', (t) => {
    t.uuid('section_id').notNullable().references('sections.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.text('reason').notNullable();
    t.uuid('bid_id');
    t.timestamp('released_at', { useTz: true }).notNullable();
    t.primary(['section_id', 'bidder_org_id']);
    t.index(['tender_id']);
  });

  await knex.schema.createTable('refunds', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // one refund per credit: each credit goes back to the account it came from
    t.text('credit_txn_id').notNullable().unique().references('deposit_credits.txn_id');
    t.uuid('deposit_account_id').notNullable().references('deposit_accounts.id');
    // the virtual sub-account the deposit is paid out of
    t.text('from_account_no').notNullable();
    t.uuid('tender_id').notNullable().references('tenders.id');
    t.uuid('section_id').notNullable().references('sections.id');
    t.uuid('bidder_org_id').notNullable().references('organisations.id');
    t.text('reason').notNullable();
    t.timestamp('released_at', { useTz: true }).notNullable();
    // the end of the second working day after the release (Asia/Shanghai); estimated (weekends only) when the year has
    // no published schedule, and flagged so
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.boolean('due_estimated').notNullable().defaultTo(false);
    t.bigInteger('principal_fen').notNullable();
    // fixed when first sent, so every retry asks the bank for the same payout
    t.bigInteger('interest_fen');
    t.integer('interest_days');
    t.integer('interest_rate_bp');
    t.text('to_account_no');
    t.text('to_account_name');
    t.text('to_bank_name');
    t.boolean('fallback').notNullable().defaultTo(false);
    t.text('idempotency_key').unique();
    t.text('status').notNullable().checkIn(['due', 'sending', 'paid', 'failed', 'forfeited']);
    t.text('failure_code');
    t.text('forfeit_basis');
    t.text('bank_txn_id');
    t.timestamp('paid_at', { useTz: true });
    t.integer('sends').notNullable().defaultTo(0);
    // requests the bank left unanswered in a row: the next is asked after a delay doubling with each
    t.integer('unanswered').notNullable().defaultTo(0);
    t.text('voucher_blob_key');
    t.index(['tender_id']);
    t.index(['status', 'due_at']);
    t.index(['bidder_org_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('refunds');
  await knex.schema.dropTable('deposit_releases');
  await knex.schema.dropTable('bank_notification_nonces');
  await knex.schema.dropTable('deposit_credits');
  await knex.schema.dropTable('deposit_accounts');
}
