import type { Knex } from 'knex';

/** Organisations, their users, certificates issued by the platform CA, the platform's own keys, login state. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organisations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('type').notNullable().checkIn(['bidder', 'tenderer', 'agency', 'regulator', 'operator']);
    t.text('name').notNullable();
    // 统一社会信用代码 (GB 32100-2015), 18 characters
    t.text('credit_code').notNullable().unique();
    t.text('legal_representative');
    // TLR 26: a domestic bidder's deposit comes from its basic account (基本账户)
    t.text('basic_account_bank');
    t.text('basic_account_no');
    t.text('region');
    t.text('contact_phone');
    t.text('status').notNullable().defaultTo('active').checkIn(['active', 'suspended']);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['type']);
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('organisation_id').notNullable().references('organisations.id');
    t.text('username').notNullable().unique();
    t.text('display_name').notNullable();
    t.text('role').notNullable().checkIn(['admin', 'staff']);
    t.text('password_hash');
    t.text('phone');
    // one-time code with which a new user enrols its first certificates (the CA-lock hand-over), stored hashed
    t.text('enrolment_code_hash');
    t.timestamp('enrolment_expires_at', { useTz: true });
    t.text('status').notNullable().defaultTo('active').checkIn(['active', 'disabled']);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organisation_id']);
  });

  await knex.schema.createTable('certificates', (t) => {
    t.text('serial_hex').primary();
    t.uuid('user_id').references('users.id');
    t.uuid('organisation_id').references('organisations.id');
    // a tender's opening certificate names its tender; the foreign key is added by the tenders migration
    t.uuid('tender_id');
    t.text('usage').notNullable().checkIn(['signing', 'encryption', 'opening', 'tsa', 'ca']);
    t.text('subject_cn').notNullable();
    t.text('subject_o');
    t.text('pem').notNullable();
    t.text('fingerprint_sha256').notNullable().unique();
    t.timestamp('not_before', { useTz: true }).notNullable();
    t.timestamp('not_after', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('valid').checkIn(['valid', 'revoked']);
    t.timestamp('revoked_at', { useTz: true });
    t.text('revocation_reason');
    t.timestamp('issued_at', { useTz: true }).notNullable();
    t.uuid('issued_by_user_id').references('users.id');
    t.index(['user_id']);
    t.index(['organisation_id']);
  });

  await knex.schema.createTable('platform_keys', (t) => {
    t.text('name').primary();
    t.text('certificate_pem');
    // PKCS#8 encrypted with PLATFORM_KEY_PASSPHRASE, or a random secret likewise sealed
    t.text('secret_enc').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('login_challenges', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('nonce').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
  });

  await knex.schema.createTable('revoked_tokens', (t) => {
    t.text('jti').primary();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('revoked_tokens');
  await knex.schema.dropTable('login_challenges');
  await knex.schema.dropTable('platform_keys');
  await knex.schema.dropTable('certificates');
  await knex.schema.dropTable('users');
  await knex.schema.dropTable('organisations');
}
