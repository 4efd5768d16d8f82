/**
 * Tenders for the staff, sign-in and across-tender rules' tests, through the real API: bidders of organisations named
 * as a test needs (legal representative), real sealed bids in one or more sections, and the opening taken to 唱标
 * (the bids decrypted and the prices read out).
 */
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/shared/clock';
import { runDueJobs, type TestApp } from '../support/app';
import { bearer, bidPackage, createMember, createOrganisation, refresh, sealBid, submitBid, tenderBody, uploadDocument, type Member } from '../support/factories';
import { keyBody, postKey, type Entry } from '../support/opening-world';

export interface BidderSpec {
  /** Index of the section the bidder bids in (0 by default). */
  section?: number;
  legalRepresentative?: string;
}

export interface BidWorld {
  agency: Member;
  tenderer: Member;
  tender: { id: string; bidDeadline: string; sections: Array<{ id: string }> };
  entries: Array<Entry & { sectionId: string }>;
}

let seed = 100;

/** A published tender with `sections` sections and one bidder per spec, each with a real sealed bid. */
export async function tenderWithBids(t: TestApp, specs: BidderSpec[], sections = 1): Promise<BidWorld> {
  const agency = await createMember(t, 'agency');
  const tenderer = await createMember(t, 'tenderer');
  const sectionBodies = Array.from({ length: sections }, (_, i) => ({ name: `第${i + 1}标段`, estimatedPriceFen: 12_000_000_00, depositFen: 0 }));
  const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now(), { sections: sectionBodies })).expect(201);
  await uploadDocument(t, agency.token, d.body.id);
  const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  const opening = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;
  const entries: BidWorld['entries'] = [];
  for (const spec of specs) {
    const orgId = await createOrganisation(t, 'bidder', spec.legalRepresentative ? { legalRepresentative: spec.legalRepresentative } : {});
    const member = await createMember(t, 'bidder', { orgId });
    const sectionId = tender.sections[spec.section ?? 0].id;
    const priceFen = 1_100_000_000 + seed * 1_234_567;
    const zip = await bidPackage(t, member, tender, sectionId, { totalPriceFen: priceFen, seed: ++seed });
    const sealed = await sealBid(t, member, opening, zip);
    const res = await submitBid(t, member, tender.id, sectionId, sealed);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    entries.push({ member, sealed, bidId: res.body.submission.bid.id, priceFen, sectionId });
  }
  return { agency, tenderer, tender, entries };
}

/** From the deadline to 唱标: every bidder signs in and hands over its key, the window closes, the prices are read. */
export async function throughOpening(t: TestApp, w: BidWorld): Promise<void> {
  const everyone = () => [w.agency, w.tenderer, ...w.entries.map((e) => e.member)];
  t.clock.freeze(new Date(w.tender.bidDeadline));
  await runDueJobs(t);
  await refresh(t, ...everyone());
  for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
  await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
  for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
  await runDueJobs(t);
  t.clock.freeze(new Date(t.clock.now().getTime() + 30 * MINUTE_MS));
  await runDueJobs(t);
  await refresh(t, ...everyone());
  const hall = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200);
  assert.equal(hall.body.state, 'announcing');
}
