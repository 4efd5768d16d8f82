/**
 * A tender taken to its opening through the real API: bidders with real, sealed bid packages, and what the bidder's
 * tool does at the opening (unwrap the content key locally, sign it, post it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectFile, unwrapContentKey } from '../../crypto/envelope';
import { signDigest } from '../../crypto/signature';
import { contentKeyDigest } from '../../crypto/opening';
import type { TestApp } from './app';
import { bearer, bidPackage, createMember, sealBid, submitBid, tenderBody, uploadDocument, type Member, type SealedBid } from './factories';

export interface Entry {
  member: Member;
  sealed: SealedBid;
  bidId: string;
  priceFen: number;
}

/** A published tender with `prices.length` bidders who each submitted a real, sealed bid package. */
export async function world(t: TestApp, prices: number[], policy: 'withdraw' | 'custodian-open' = 'withdraw') {
  const agency = await createMember(t, 'agency');
  const tenderer = await createMember(t, 'tenderer');
  const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token))
    .send(tenderBody(tenderer.orgId, t.clock.now(), { name: '西安市第八十九中学综合楼建设工程', decryptionFailurePolicy: policy })).expect(201);
  await uploadDocument(t, agency.token, d.body.id);
  const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  const opening = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;
  const sectionId = tender.sections[0].id;
  const entries: Entry[] = [];
  for (const [i, priceFen] of prices.entries()) {
    const member = await createMember(t, 'bidder');
    const zip = await bidPackage(t, member, tender, sectionId, { totalPriceFen: priceFen, seed: i + 1 });
    const sealed = await sealBid(t, member, opening, zip);
    const res = await submitBid(t, member, tender.id, sectionId, sealed);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    entries.push({ member, sealed, bidId: res.body.submission.bid.id, priceFen });
  }
  return { agency, tenderer, tender, sectionId, entries };
}

/** What `bidtool unwrap-key` and the hall do: unwrap locally, sign, post. */
export async function keyBody(entry: Entry, t: TestApp, override?: Buffer) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gz-key-')), 'bid.cms');
  fs.writeFileSync(file, entry.sealed.envelope);
  const key = override ?? unwrapContentKey(await inspectFile(file), { privateKeyPem: entry.member.encryptionKeys.privateKeyPem, certificatePem: entry.member.encryptionCertPem });
  fs.rmSync(path.dirname(file), { recursive: true });
  const signature = signDigest({ sha256Hex: contentKeyDigest(entry.bidId, key), certificatePem: entry.member.signingCertPem, privateKeyPem: entry.member.signingKeys.privateKeyPem, signingTime: t.clock.now() });
  return { contentKey: key.toString('base64'), signature: signature.toString('base64') };
}

export const postKey = (t: TestApp, tenderId: string, e: Entry, body: object) =>
  t.http.post(`/api/v1/tenders/${tenderId}/opening/bids/${e.bidId}/content-key`).set(bearer(e.member.token)).send(body);
