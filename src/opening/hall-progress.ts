/**
 * What the opening hall shows of the decryption, from the tender's current bids and their decryption rows:
 * counts only, in total and per bidder — after the deadline the number of bids and whose are open is what everyone
 * in an opening hall sees (EB 29–30); prices wait for 唱标 — and a bidder's own bids with their state, so it can
 * hand over the right key in time.
 */
import type { Bid } from '../bids/bids.repository';
import type { BidDecryption as Decryption } from './opening.repository';

export interface DecryptionCounts {
  bids: number;
  keyReceived: number;
  decrypted: number;
  failed: number;
}

const empty = (): DecryptionCounts => ({ bids: 0, keyReceived: 0, decrypted: 0, failed: 0 });

export function progressOf(bids: Bid[], decryptions: Map<string, Decryption>) {
  const total = empty();
  const byBidder = new Map<string, DecryptionCounts>();
  for (const b of bids) {
    const mine = byBidder.get(b.bidderOrgId) ?? empty();
    byBidder.set(b.bidderOrgId, mine);
    const s = decryptions.get(b.id)?.status;
    for (const c of [total, mine]) {
      c.bids++;
      if (s === 'key-received') c.keyReceived++;
      else if (s === 'decrypted') c.decrypted++;
      else if (s === 'failed') c.failed++;
    }
  }
  return { total, byBidder, none: empty };
}

export function ownDecryptions(own: Bid[], decryptions: Map<string, Decryption>) {
  return own.map((b) => {
    const d = decryptions.get(b.id);
    return {
      bidId: b.id,
      sectionId: b.sectionId,
      decryption: d?.status ?? 'no-key',
      failureCode: d?.failureCode ?? null,
      remedy: d?.remedyStatus ?? null,
      outcome: d?.outcome ?? null,
    };
  });
}
