/**
 * For the rules that read decrypted bids: a tender taken through the real API to 唱标 (the window closed, every
 * bid decrypted by its bidder), with bid packages carrying the traces a test needs, then the monitoring scan that
 * enqueues the analysis and the job that runs it. Each bidder gets its own machine code unless the test names one
 * (packBid writes the test machine's into every package otherwise).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { MINUTE_MS } from '../../src/shared/clock';
import { runDueJobs, type TestApp } from '../support/app';
import { bearer, bidPackage, createMember, refresh, sealBid, submitBid, tenderBody, uploadDocument, type BidPackageTraces, type Member } from '../support/factories';
import { keyBody, postKey, type Entry } from '../support/opening-world';

export type BidSpec = { priceFen: number; projectManager?: string } & BidPackageTraces;

export interface OpenedTender {
  tenderId: string;
  sectionId: string;
  entries: Entry[];
  /** Bidders' organisation ids, in the order of the specs. */
  orgIds: string[];
}

/** A distinct 机器码 per bidder. */
export const machineCode = (label: string) => crypto.createHash('sha256').update(`test-machine:${label}`).digest('hex');

/** `section.state`: where the window's close leaves the opening — 唱标, or failed with fewer than three valid bids (流标). */
export async function openedTender(t: TestApp, specs: BidSpec[], section: { estimatedPriceFen?: number; state?: 'announcing' | 'failed' } = {}): Promise<OpenedTender> {
  const agency = await createMember(t, 'agency');
  const tenderer = await createMember(t, 'tenderer');
  const body = tenderBody(tenderer.orgId, t.clock.now(), { name: '西安市第八十九中学综合楼建设工程' });
  const estimatedPriceFen = section.estimatedPriceFen ?? 12_000_000_00;
  body.sections = [{ name: '第一标段：土建工程', estimatedPriceFen, depositFen: Math.floor(estimatedPriceFen / 50) }];
  const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(body).expect(201);
  await uploadDocument(t, agency.token, d.body.id);
  const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  const opening = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;
  const sectionId = tender.sections[0].id;
  const entries: Entry[] = [];
  for (const [i, spec] of specs.entries()) {
    const member: Member = await createMember(t, 'bidder');
    const { priceFen, ...traces } = spec;
    const zip = await bidPackage(t, member, tender, sectionId, { totalPriceFen: priceFen, seed: i + 1, machineFingerprint: machineCode(member.username), ...traces });
    const sealed = await sealBid(t, member, opening, zip);
    const res = await submitBid(t, member, tender.id, sectionId, sealed);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    entries.push({ member, sealed, bidId: res.body.submission.bid.id, priceFen });
  }

  t.clock.freeze(new Date(tender.bidDeadline));
  await runDueJobs(t);
  await refresh(t, agency, ...entries.map((e) => e.member));
  for (const e of entries) await t.http.post(`/api/v1/tenders/${tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
  await t.http.post(`/api/v1/tenders/${tender.id}/opening/start-decryption`).set(bearer(agency.token)).expect(200);
  for (const e of entries) await postKey(t, tender.id, e, await keyBody(e, t)).expect(202);
  await runDueJobs(t);
  t.clock.freeze(new Date(t.clock.now().getTime() + 30 * MINUTE_MS));
  await runDueJobs(t);
  await refresh(t, agency, ...entries.map((e) => e.member));
  const hall = await t.http.get(`/api/v1/tenders/${tender.id}/opening`).set(bearer(agency.token)).expect(200);
  assert.equal(hall.body.state, section.state ?? 'announcing');

  // the scan sees the opening reach 唱标 and enqueues the analysis; the job runs the rules on the decrypted bids
  await t.ctx.services.monitoring.scan();
  await runDueJobs(t);
  return { tenderId: tender.id, sectionId, entries, orgIds: entries.map((e) => e.member.orgId) };
}

export async function alertsOf(t: TestApp, tenderId: string, rule: string) {
  const rows = await t.ctx.db('alerts').where({ tender_id: tenderId, rule }).orderBy('raised_at');
  return rows.map((r) => ({ ...r, evidence: typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence }));
}
