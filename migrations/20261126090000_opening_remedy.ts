import type { Knex } from 'knex';

/**
 * The custodians' remedy of EB 31: a bid whose decryption failed through no fault of the bidder may, where the tender
 * documents say so, be opened with the tender's opening key rebuilt from k released custodian shares. The opening
 * keeps the end of the remedy period; each bid keeps who opened it and where its remedy stands.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('openings', (t) => {
    t.timestamp('remedy_ends_at', { useTz: true });
  });
  await knex.schema.alterTable('bid_decryptions', (t) => {
    // the bidder with its own content key, or the custodians with the rebuilt opening key
    t.text('opened_by').checkIn(['bidder', 'custodians']);
    // pending (waiting for k shares), opened, or failed (the opening key did not open it either)
    t.text('remedy_status').checkIn(['pending', 'opened', 'failed']);
    t.text('remedy_failure_code');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('bid_decryptions', (t) => {
    t.dropColumn('remedy_failure_code');
    t.dropColumn('remedy_status');
    t.dropColumn('opened_by');
  });
  await knex.schema.alterTable('openings', (t) => {
    t.dropColumn('remedy_ends_at');
  });
}
