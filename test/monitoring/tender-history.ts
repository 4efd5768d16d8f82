/**
 * A past of tenders for the rules across tenders (habitual co-bidders, win rates). Taking dozens of tenders through
 * bids, opening, evaluation and award by the API would take minutes, so their rows are written here with knex, as
 * the platform leaves them after an award: a sealed tender, its section, a closed opening, each bidder's current bid
 * (with its upload) and the award naming the winner. The rules then run through the real engine on the real
 * database. The organisations, users and certificates the rows refer to are made through the API.
 */
import crypto from 'node:crypto';
import { DAY_MS } from '../../src/shared/clock';
import { systemContext } from '../../src/shared/access';
import type { TestApp } from '../support/app';
import { createMember, createOrganisation, type Member } from '../support/factories';

export interface History {
  /** A new bidder organisation, named for the titles. */
  bidder(name: string): Promise<string>;
  /**
   * A tender whose deadline was `daysAgo` days before the clock, with one section these bidders bid in. `winner`: its
   * award (null: none yet); `openingState`: where its opening stands (null: not opened, the bids still sealed).
   */
  tender(spec: { bidders: string[]; winner: string | null; daysAgo: number; openingState?: string | null }): Promise<string>;
}

export async function history(t: TestApp): Promise<History> {
  const agency: Member = await createMember(t, 'agency');
  const tendererOrgId = await createOrganisation(t, 'tenderer');
  const db = t.ctx.db;
  const rand = () => crypto.randomBytes(8).toString('hex');
  return {
    bidder: (name) => createOrganisation(t, 'bidder', { name }),
    async tender({ bidders, winner, daysAgo, openingState = 'closed' }) {
      const deadline = new Date(t.clock.now().getTime() - daysAgo * DAY_MS);
      const published = new Date(deadline.getTime() - 30 * DAY_MS);
      const [tender] = await db('tenders')
        .insert({
          code: `HIST-${rand()}`,
          name: '历史项目',
          type: 'construction',
          tenderer_org_id: tendererOrgId,
          agency_org_id: agency.orgId,
          status: 'sealed',
          bid_deadline: deadline,
          original_deadline: deadline,
          decryption_window_minutes: 30,
          decryption_failure_policy: 'withdraw',
          custodian_threshold: 2,
          created_by_user_id: agency.userId,
          published_at: published,
          sealed_at: deadline,
          created_at: published,
          updated_at: deadline,
        })
        .returning('id');
      const tenderId = tender.id as string;
      const [section] = await db('sections').insert({ tender_id: tenderId, seq: 1, name: '第一标段', estimated_price_fen: 100_000_000, deposit_fen: 0 }).returning('id');
      if (openingState) await db('openings').insert({ tender_id: tenderId, state: openingState, state_changed_at: deadline, created_at: deadline });
      const bidIds = new Map<string, string>();
      for (const orgId of bidders) {
        const common = { tender_id: tenderId, section_id: section.id, bidder_org_id: orgId, signature: Buffer.from('sig'), signer_certificate_serial: agency.signingSerial };
        const [upload] = await db('bid_uploads')
          .insert({ ...common, user_id: agency.userId, size: 1, sha256: '0'.repeat(64), status: 'complete', created_at: published, updated_at: published })
          .returning('id');
        const [bid] = await db('bids')
          .insert({
            ...common,
            submitted_by_user_id: agency.userId,
            upload_id: upload.id,
            status: 'current',
            blob_key: `history/${rand()}`,
            envelope_sha256: '0'.repeat(64),
            envelope_size: 1,
            recipients: JSON.stringify([]),
            receipt_token: Buffer.from('tst'),
            receipt_serial: `HIST-${rand()}`,
            audit_seq: 0,
            received_at: published,
          })
          .returning('id');
        // its submission on the chain, as a real one has (the rules cite it as evidence)
        const event = await t.ctx.services.audit.record(systemContext('history'), { action: 'bid.submit', objectType: 'bid', objectId: bid.id, tenderId, payload: { sectionId: section.id, fixture: true } });
        await db('bids').where({ id: bid.id }).update({ audit_seq: event.seq });
        bidIds.set(orgId, bid.id);
      }
      if (winner) {
        await db('awards').insert({
          section_id: section.id,
          tender_id: tenderId,
          winner_org_id: winner,
          bid_id: bidIds.get(winner),
          rank: 1,
          price_fen: 90_000_000,
          notice_blob_key: `history/${rand()}`,
          notice_signature: Buffer.from('sig'),
          issued_at: deadline,
          issued_by: agency.userId,
        });
      }
      return tenderId;
    },
  };
}
