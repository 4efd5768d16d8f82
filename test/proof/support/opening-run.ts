/**
 * The scale-out proof's story, in steps the tests call in order: a published tender, a rush of sealed bids through
 * the proxy, the deadline, the whole opening (sign-in, keys, decryption, 唱标, confirmations, objection period, the
 * signed record, close), and the checks that no bid was lost or doubled and the audit chain holds.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyChain } from '../../../src/monitoring/audit.service';
import { MINUTE_MS } from '../../../src/shared/clock';
import { bearer, bidPackage, bufferBody, createMember, refresh, sealBid, tenderBody, uploadDocument, type Member } from '../../support/factories';
import { keyBody, postKey, type Entry } from '../../support/opening-world';
import { pollUntil } from '../../support/poll';
import type { Deployment } from './deployment';
import type { RemotePlatform } from './remote-platform';
import { uploadResumable, type UploadOutcome, type UploadPlan } from './resumable-upload';

export const ENVELOPE_BYTES = 1024 * 1024;
export const CHUNK_BYTES = 256 * 1024;

export interface Parties {
  agency: Member;
  tenderer: Member;
  bidders: Member[];
}

export async function createParties(p: RemotePlatform, bidders: number): Promise<Parties> {
  const t = p.app;
  const agency = await createMember(t, 'agency');
  const tenderer = await createMember(t, 'tenderer');
  const list: Member[] = [];
  // a few at a time: each enrolment makes two RSA keys here and two certificates there
  for (let i = 0; i < bidders; i += 5) list.push(...(await Promise.all(Array.from({ length: Math.min(5, bidders - i) }, () => createMember(t, 'bidder')))));
  return { agency, tenderer, bidders: list };
}

export interface PublishedTender {
  tender: { id: string; code: string; bidDeadline: string; sections: Array<{ id: string }> };
  sectionId: string;
  openingCertPem: string;
}

export async function publishTender(p: RemotePlatform, parties: Parties, name: string): Promise<PublishedTender> {
  const t = p.app;
  await refresh(t, parties.agency);
  const d = await t.http.post('/api/v1/tenders').set(bearer(parties.agency.token)).send(tenderBody(parties.tenderer.orgId, t.clock.now(), { name })).expect(201);
  await uploadDocument(t, parties.agency.token, d.body.id);
  const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(parties.agency.token)).expect(200)).body;
  const openingCertPem = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(parties.agency.token)).expect(200)).body.certificatePem;
  return { tender, sectionId: tender.sections[0].id, openingCertPem };
}

/** Each bidder's real bid package (开标一览表 and a 1 MiB technical part of random bytes), sealed and signed. */
export async function sealBids(p: RemotePlatform, parties: Parties, pt: PublishedTender, seed: number) {
  const sealed = [];
  for (const [i, member] of parties.bidders.entries()) {
    const priceFen = 1_000_000_000 + ((seed * 7919 + i * 104_729) % 200_000) * 100;
    const zip = await bidPackage(p.app, member, pt.tender, pt.sectionId, {
      totalPriceFen: priceFen,
      seed: i + 1,
      files: [{ path: '技术标.bin', content: crypto.randomBytes(ENVELOPE_BYTES - 4096) }],
    });
    sealed.push({ member, priceFen, sealed: await sealBid(p.app, member, pt.openingCertPem, zip) });
  }
  return sealed;
}

export type SealedEntry = Awaited<ReturnType<typeof sealBids>>[number];

/** All bidders at once through the proxy; `plan(i)` says how each one's line behaves. */
export async function rush(p: RemotePlatform, pt: PublishedTender, sealed: SealedEntry[], plan: (i: number) => UploadPlan): Promise<{ entries: Entry[]; outcomes: UploadOutcome[] }> {
  const outcomes = await Promise.all(
    sealed.map((s, i) => uploadResumable(p.url, () => s.member.token, { tenderId: pt.tender.id, sectionId: pt.sectionId }, s.sealed, plan(i))),
  );
  const entries = sealed.map((s, i) => ({ member: s.member, sealed: s.sealed, bidId: outcomes[i]!.bidId, priceFen: s.priceFen }));
  return { entries, outcomes };
}

/**
 * Every bidder that finished has exactly one current bid, with its receipt (an RFC 3161 token that openssl verifies
 * against the envelope) and the envelope stored with the hash it was signed with. Returns lost and doubled counts.
 */
export async function checkBids(p: RemotePlatform, d: Deployment, pt: PublishedTender, entries: Entry[]): Promise<{ lost: number; duplicated: number; verifiedReceipts: number }> {
  const rows = await d.db('bids').where({ tender_id: pt.tender.id });
  const byOrg = new Map<string, number>();
  for (const r of rows) byOrg.set(r.bidder_org_id, (byOrg.get(r.bidder_org_id) ?? 0) + 1);
  const duplicated = [...byOrg.values()].reduce((n, c) => n + c - 1, 0);
  let lost = 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-proof-receipts-'));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, (await p.http.get('/api/v1/pki/ca-certificate').expect(200)).text);
  let verifiedReceipts = 0;
  try {
    for (const e of entries) {
      const row = rows.find((r) => r.id === e.bidId && r.bidder_org_id === e.member.orgId && r.status === 'current');
      if (!row) {
        lost += 1;
        continue;
      }
      assert.equal(row.envelope_sha256, e.sealed.sha256, 'the stored bid is the envelope signed');
      const stored = crypto.createHash('sha256').update(fs.readFileSync(path.join(d.blobDir, row.blob_key))).digest('hex');
      assert.equal(stored, e.sealed.sha256, 'the envelope on disk is whole');
      assert.ok(row.receipt_serial, 'a receipt');
      const tsr = (await p.http.get(`/api/v1/bids/${e.bidId}/receipt.tsr`).set(bearer(e.member.token)).buffer(true).parse(bufferBody).expect(200)).body as Buffer;
      const data = path.join(dir, 'bid.cms');
      const token = path.join(dir, 'receipt.tsr');
      fs.writeFileSync(data, e.sealed.envelope);
      fs.writeFileSync(token, tsr);
      execFileSync('openssl', ['ts', '-verify', '-data', data, '-in', token, '-CAfile', caFile], { stdio: 'pipe' });
      verifiedReceipts += 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { lost, duplicated, verifiedReceipts };
}

export async function chainVerifies(d: Deployment): Promise<boolean> {
  const result = await verifyChain(d.db);
  assert.ok(result.ok, `audit chain: ${JSON.stringify(result)}`);
  return result.ok;
}

const hallState = async (p: RemotePlatform, tenderId: string, token: string) =>
  (await p.http.get(`/api/v1/tenders/${tenderId}/opening`).set(bearer(token)).expect(200)).body.state as string;

export async function waitForState(p: RemotePlatform, tenderId: string, who: Member, state: string, timeoutMs = 90_000): Promise<void> {
  await pollUntil(`the opening to reach '${state}'`, async () => (await hallState(p, tenderId, who.token)) === state, { timeoutMs, intervalMs: 100 });
}

export interface OpeningHooks {
  /** After each content key was handed over (`posted` so far; the decryption jobs of those due on the workers). */
  afterKey?: (posted: number) => Promise<void>;
  /** After the decryption window's end was passed (its closing job due). */
  afterWindowEnd?: () => Promise<void>;
  /** After the confirmation period's end was passed (the objection period's job due). */
  afterConfirmationEnd?: () => Promise<void>;
}

/**
 * The deadline passes (moved through API 1), the hall opens by itself on a worker, bidders sign in, the host opens
 * the window, each bidder hands over its own content key, the window closes (moved through API 2) and the prices
 * are read, the confirmation and objection periods run out, and the agency publishes the signed record and closes.
 */
export async function runOpening(p: RemotePlatform, d: Deployment, parties: Parties, pt: PublishedTender, entries: Entry[], hooks: OpeningHooks & { onHallOpen?: () => void } = {}) {
  const t = p.app;
  const tenderId = pt.tender.id;
  const apis = d.apis.map((_, i) => d.apiUrl(i));
  const everyone = [parties.agency, ...entries.map((e) => e.member)];
  const openingRow = () => d.db('openings').where({ tender_id: tenderId }).first();

  await p.moveClock(new Date(pt.tender.bidDeadline), apis[0]!, apis);
  await refresh(t, ...everyone);
  hooks.onHallOpen?.();
  await waitForState(p, tenderId, parties.agency, 'signing-in');
  await Promise.all(entries.map((e) => t.http.post(`/api/v1/tenders/${tenderId}/opening/sign-in`).set(bearer(e.member.token)).expect(200)));
  await t.http.post(`/api/v1/tenders/${tenderId}/opening/start-decryption`).set(bearer(parties.agency.token)).expect(200);
  for (const [i, e] of entries.entries()) {
    await postKey(t, tenderId, e, await keyBody(e, t)).expect(202);
    await hooks.afterKey?.(i + 1);
  }
  await pollUntil('every bid decrypted', async () => (await d.db('bid_decryptions').where({ tender_id: tenderId, status: 'decrypted' })).length === entries.length, { timeoutMs: 120_000, intervalMs: 100 });

  const windowEnd = (await openingRow()).decryption_ends_at as Date;
  await p.moveClock(new Date(windowEnd.getTime() + 1000), apis[1 % apis.length]!, apis);
  await hooks.afterWindowEnd?.();
  await waitForState(p, tenderId, parties.agency, 'announcing');
  const readings = (await t.http.get(`/api/v1/tenders/${tenderId}/opening/readings`).set(bearer(parties.agency.token)).expect(200)).body as Array<{ bidId: string; outcome: string; totalPriceFen: number }>;
  assert.equal(readings.length, entries.length);
  for (const e of entries) {
    const r = readings.find((x) => x.bidId === e.bidId);
    assert.equal(r?.outcome, 'decrypted');
    assert.equal(r?.totalPriceFen, e.priceFen, 'the price read is the one sealed');
  }
  await t.http.post(`/api/v1/tenders/${tenderId}/opening/confirmation`).set(bearer(entries[0]!.member.token)).send({ kind: 'confirmed' }).expect(200);

  const confirmationEnd = (await openingRow()).confirmation_ends_at as Date;
  await p.moveClock(new Date(confirmationEnd.getTime() + 1000), apis[0]!, apis);
  await hooks.afterConfirmationEnd?.();
  await waitForState(p, tenderId, parties.agency, 'objections');
  const objectionEnd = (await openingRow()).objection_ends_at as Date;
  await p.moveClock(new Date(objectionEnd.getTime() + 1000), apis[1 % apis.length]!, apis);
  assert.equal((await t.http.post(`/api/v1/tenders/${tenderId}/opening/record`).set(bearer(parties.agency.token)).expect(200)).body.state, 'recorded');
  await checkRecord(p, pt, entries);
  assert.equal((await t.http.post(`/api/v1/tenders/${tenderId}/opening/close`).set(bearer(parties.agency.token)).expect(200)).body.state, 'closed');
  return { minutes: Math.round((p.clock.now().getTime() - new Date(pt.tender.bidDeadline).getTime()) / MINUTE_MS) };
}

/** The signed 开标记录表: the platform's signature verifies (openssl) and every price read is in it, in yuan. */
async function checkRecord(p: RemotePlatform, pt: PublishedTender, entries: Entry[]): Promise<void> {
  const who = entries[0]!.member;
  const binary = (url: string) => p.http.get(url).set(bearer(who.token)).buffer(true).parse(bufferBody).expect(200).then((r) => r.body as Buffer);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-proof-record-'));
  try {
    fs.writeFileSync(path.join(dir, 'record.pdf'), await binary(`/api/v1/tenders/${pt.tender.id}/opening/record.pdf`));
    fs.writeFileSync(path.join(dir, 'record.p7s'), await binary(`/api/v1/tenders/${pt.tender.id}/opening/record.p7s`));
    fs.writeFileSync(path.join(dir, 'ca.pem'), (await p.http.get('/api/v1/pki/ca-certificate').expect(200)).text);
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'record.p7s'), '-content', path.join(dir, 'record.pdf'), '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null'], { stdio: 'pipe' });
    const text = execFileSync('pdftotext', ['-layout', path.join(dir, 'record.pdf'), '-']).toString().replace(/\s+/g, '');
    for (const e of entries) {
      const yuan = (e.priceFen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      assert.ok(text.includes(yuan), `the price ${yuan} in the record`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The opening's steps, each exactly once, in order, on the chain and in the hall's log. */
export async function checkOpeningSteps(d: Deployment, tenderId: string, entries: Entry[]): Promise<{ decryptedOnce: boolean }> {
  const transitions = (await d.db('audit_events').where({ tender_id: tenderId, action: 'opening.transition' }).orderBy('seq')).map((e) => e.payload.to);
  assert.deepEqual(transitions, ['decrypting', 'announcing', 'objections', 'recorded', 'closed'], 'each step once, in order');
  const opened = (await d.db('audit_events').where({ tender_id: tenderId, action: 'opening.decrypted' })).map((e) => e.object_id).sort();
  assert.deepEqual(opened, entries.map((e) => e.bidId).sort(), 'each bid decrypted exactly once');
  const live = await d.db('live_events').where({ tender_id: tenderId }).orderBy('seq');
  assert.deepEqual(live.filter((e) => e.type === 'opening.transition').map((e) => e.data.to), transitions);
  assert.equal(live.filter((e) => e.type === 'opening.decrypted').length, entries.length);
  return { decryptedOnce: true };
}
