/**
 * The hostile client's world: two agencies, two bidders, a tenderer and a regulator, a draft and a published tender
 * (each with a document), and bidder B's open upload — so every refusal can be aimed at someone else's records.
 * `refusedWithoutChange` sends one request and checks what the issue asks of each: a 4xx (never 5xx), a stable
 * error code where the API answers JSON, and the same state afterwards (row counts, row digests, the audit chain's
 * length and head), except for the security audit records the platform writes on purpose (e.g. a refused login).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import type { Response } from 'supertest';
import type { Config } from '../../../src/config';
import { createTestApp, type TestApp } from '../../support/app';
import { bearer, createCustodianMembers, createMember, operatorToken, sealBid, submitBid, tenderBody, uploadDocument, type Member } from '../../support/factories';

/** Seeded, so a failure names a seed and reproduces; few runs, so each file stays within seconds. */
export const FC = { seed: 20261126, numRuns: 12 } as const;
fc.configureGlobal({ seed: FC.seed, numRuns: FC.numRuns, endOnFailure: true });

export interface World {
  t: TestApp;
  agency: Member;
  foreignAgency: Member;
  bidder: Member;
  foreignBidder: Member;
  tenderer: Member;
  regulator: Member;
  operator: string;
  draftId: string;
  draftDocId: string;
  published: { id: string; sectionId: string; docId: string; openingCertPem: string };
  /** the foreign bidder's open upload on the published tender */
  foreignUploadId: string;
  /** the foreign bidder's received bid: its upload, the signed start it was made with, the envelope */
  foreignBid: { bidId: string; uploadId: string; start: { size: number; sha256: string; signature: string }; envelope: Buffer };
}

export async function createWorld(label: string, config: Partial<Config> = {}): Promise<World> {
  const t = await createTestApp(label, { config });
  const { regulator } = await createCustodianMembers(t);
  const agency = await createMember(t, 'agency');
  const foreignAgency = await createMember(t, 'agency');
  const bidder = await createMember(t, 'bidder');
  const foreignBidder = await createMember(t, 'bidder');
  const tenderer = await createMember(t, 'tenderer');
  const draft = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201)).body;
  const draftDocId = await uploadDocument(t, agency.token, draft.id);
  const pub = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201)).body;
  const docId = await uploadDocument(t, agency.token, pub.id);
  await t.http.post(`/api/v1/tenders/${pub.id}/publish`).set(bearer(agency.token)).expect(200);
  const openingCertPem = (await t.http.get(`/api/v1/tenders/${pub.id}/opening-key`).set(bearer(foreignBidder.token)).expect(200)).body.certificatePem;
  const sealed = await sealBid(t, foreignBidder, openingCertPem, Buffer.from('他人的投标文件'));
  const start = await t.http
    .post(`/api/v1/tenders/${pub.id}/sections/${pub.sections[0].id}/bid-uploads`)
    .set(bearer(foreignBidder.token))
    .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature })
    .expect(201);
  const bidSealed = await sealBid(t, foreignBidder, openingCertPem, Buffer.from('他人已递交的投标文件'));
  const submitted = await submitBid(t, foreignBidder, pub.id, pub.sections[0].id, bidSealed);
  assert.equal(submitted.status, 200, submitted.text);
  return {
    t, agency, foreignAgency, bidder, foreignBidder, tenderer, regulator,
    operator: await operatorToken(t),
    draftId: draft.id, draftDocId,
    published: { id: pub.id, sectionId: pub.sections[0].id, docId, openingCertPem },
    foreignUploadId: start.body.uploadId,
    foreignBid: {
      bidId: submitted.body.submission.bid.id,
      uploadId: submitted.body.uploadId,
      start: { size: bidSealed.envelope.length, sha256: bidSealed.sha256, signature: bidSealed.signature },
      envelope: bidSealed.envelope,
    },
  };
}

let shared: Promise<World> | undefined;

/**
 * One world for every hostile file (building it enrols seven users, seconds of key generation): made by the first
 * file that asks, closed once after the whole run. Files needing other settings (small rate limits) make their own.
 */
export function sharedWorld(): Promise<World> {
  // uploads stall for one second before they are cut off, so the slow-loris test need not wait a minute
  shared ??= createWorld('hostile', { uploadIdleSeconds: 1 });
  return shared;
}

// a root hook: after every file has run
after(async () => {
  if (shared) await (await shared).t.close();
  shared = undefined;
});

const COUNTED = [
  'organisations', 'users', 'certificates', 'tenders', 'sections', 'tender_documents', 'clarifications', 'bid_uploads',
  'bids', 'revoked_tokens', 'deposit_accounts', 'refunds', 'alerts', 'outbox', 'openings', 'calendar_years', 'audit_checkpoints',
];

export interface Snapshot {
  counts: Record<string, number>;
  /** digests of the rows a refused request could alter in place */
  digests: Record<string, string | null>;
  audit: { length: number; headSeq: number; headHash: string };
  /** files in the blob store: a refused upload leaves no part or temporary file behind */
  blobFiles: number;
}

/** One round trip: every count and digest in a single select, so a snapshot per request stays cheap. */
export async function snapshot(t: TestApp): Promise<Snapshot> {
  const counts = COUNTED.map((table) => `(select count(*) from ${table}) as "${table}"`).join(', ');
  const digests = [
    `(select md5(string_agg(id::text || status || name || bid_deadline::text, ',' order by id)) from tenders) as "d_tenders"`,
    `(select md5(string_agg(id::text || status || received_bytes::text, ',' order by id)) from bid_uploads) as "d_bid_uploads"`,
    `(select md5(string_agg(serial_hex || status, ',' order by serial_hex)) from certificates) as "d_certificates"`,
    `(select md5(string_agg(id::text || status, ',' order by id)) from bids) as "d_bids"`,
  ].join(', ');
  const result = await t.ctx.db.raw(`select ${counts}, ${digests}`);
  const row = (result.rows ?? result)[0] as Record<string, string | number | null>;
  const head = await t.ctx.db('audit_events').select('seq', 'hash').orderBy('seq', 'desc').first();
  const [{ n }] = await t.ctx.db('audit_events').count({ n: '*' });
  return {
    counts: Object.fromEntries(COUNTED.map((k) => [k, Number(row[k])])),
    digests: { tenders: row.d_tenders as string, bid_uploads: row.d_bid_uploads as string, certificates: row.d_certificates as string, bids: row.d_bids as string },
    audit: { length: Number(n), headSeq: Number(head?.seq ?? 0), headHash: String(head?.hash ?? '') },
    blobFiles: fs.readdirSync(t.blobDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length,
  };
}

/** The audit actions appended after `seq`. */
export async function auditSince(t: TestApp, seq: number): Promise<string[]> {
  return (await t.ctx.db('audit_events').where('seq', '>', seq).orderBy('seq').select('action')).map((r: { action: string }) => r.action);
}

let sent = 0;
/** How many hostile requests this process has checked (the suite's own tally, printed at the end of each file). */
export const tally = () => sent;

/** A 4xx with a stable code when the answer is JSON. */
export function assertRefusal(res: Pick<Response, 'status' | 'headers' | 'body' | 'text'>, what: string, expect?: { status?: number | number[]; code?: string }): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: expected a 4xx, got ${res.status} ${res.text?.slice(0, 200)}`);
  if (/json/.test(String(res.headers['content-type'] ?? ''))) {
    assert.match(String(res.body?.error?.code), /^[A-Z][A-Z0-9_]+$/, `${what}: no stable error code in ${res.text?.slice(0, 200)}`);
    assert.equal(typeof res.body.error.message, 'string');
  }
  if (expect?.status !== undefined) {
    const allowed = Array.isArray(expect.status) ? expect.status : [expect.status];
    assert.ok(allowed.includes(res.status), `${what}: expected ${allowed.join('/')}, got ${res.status} ${res.body?.error?.code ?? ''}`);
  }
  if (expect?.code) assert.equal(res.body?.error?.code, expect.code, `${what}: code`);
}

export interface RefusalCheck {
  status?: number | number[];
  code?: string;
  /** audit actions a refusal may append on purpose (exactly these, in this order), or a rule by the answer */
  audit?: string[] | ((res: Response) => string[]);
}

/** Sends one hostile request; asserts the refusal and that nothing changed but the expected security records. */
export async function refusedWithoutChange(t: TestApp, what: string, send: () => PromiseLike<Response>, check: RefusalCheck = {}): Promise<Response> {
  const before = await snapshot(t);
  const res = await send();
  sent++;
  assertRefusal(res, what, check);
  const after = await snapshot(t);
  assert.deepEqual(after.counts, before.counts, `${what}: row counts changed`);
  assert.deepEqual(after.digests, before.digests, `${what}: rows changed`);
  assert.equal(after.blobFiles, before.blobFiles, `${what}: files in the blob store changed`);
  const appended = await auditSince(t, before.audit.headSeq);
  const expected = typeof check.audit === 'function' ? check.audit(res) : (check.audit ?? []);
  assert.deepEqual(appended, expected, `${what}: audit records appended`);
  if (appended.length === 0) assert.deepEqual(after.audit, before.audit, `${what}: audit chain moved`);
  return res;
}

/** Ends each file: the server still answers its health check. */
export async function assertStillUp(t: TestApp): Promise<void> {
  const res = await t.http.get('/health');
  assert.equal(res.status, 200, `health: ${res.status} ${res.text}`);
  assert.equal(res.body.status, 'ok');
}

/** Strings a hostile client types into every text field. */
export const HOSTILE_STRINGS = [
  "' OR '1'='1' --",
  "'; DROP TABLE tenders; --",
  '1); DELETE FROM audit_events; --',
  '<script>alert(document.cookie)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{constructor.constructor("return process")()}}',
  '${7*7}',
  '../../../../etc/passwd',
  '\u202e\u0644\u0627\u2066gpj.exe',
  '\ud83d\ude00\u0301\u0301\u0301',
  '\u0000',
  `名称\u0000隐藏`,
  'x'.repeat(300_000),
];
