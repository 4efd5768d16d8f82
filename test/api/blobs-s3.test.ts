/**
 * The platform on S3 (BLOB_STORE=s3) against s3rver: a tender's document and a sealed bid sent in resumable chunks
 * end up as objects in the bucket, and an API instance that never saw the first chunk — another process, with another
 * (empty) local directory — takes the rest and completes the bid: the upload in progress lives in the bucket and the
 * database, nothing on a local disk.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, startTestApp, type TestApp } from '../support/app';
import { readAll, sha256 } from '../support/blob-store-contract';
import { bearer, createCustodianMembers, createMember, sealBid, tenderBody, uploadDocument, type Member } from '../support/factories';
import { startS3Server, type TestS3Server } from '../support/s3-server';
import { ControllableClock } from '../../src/shared/clock';

/** Every regular file under dir (nothing should be there: the blobs are in the bucket). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
}

describe('blobs on S3: the platform with BLOB_STORE=s3', function () {
  let server: TestS3Server;
  let t: TestApp;
  let agency: Member;
  let bidder: Member;
  const prefix = 'gz/';

  before(async function () {
    server = await startS3Server();
    // restartable: on the embedded database too, a second app can start on the same data
    t = await createTestApp('blobs-s3', { restartable: true, config: { blobStore: 's3', s3: server.options(prefix) } });
    await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
  });
  after(async function () {
    await t.close();
    await server.close();
  });

  it('when the platform runs on S3, then /health checks the bucket', async function () {
    const res = await t.http.get('/health').expect(200);
    assert.deepEqual(res.body.checks.storage, { status: 'ok', kind: 's3 (object storage)' });
  });

  it('when a bid is sent in chunks and another instance takes the last ones, then it completes from the bucket and nothing is on local disk', async function () {
    const tendererId = (await createMember(t, 'tenderer')).orgId;
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tendererId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, draft.body.id);
    const tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    const sectionId: string = tender.sections[0].id;
    const openingCertPem = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(bidder.token)).expect(200)).body.certificatePem;
    assert.equal((await server.listKeys()).filter((k) => k.startsWith(`${prefix}tenders/${tender.id}/documents/`)).length, 1, 'the tender document is in the bucket');

    const sealed = await sealBid(t, bidder, openingCertPem, Buffer.concat([Buffer.from('PK-fake-zip 投标文件 '), crypto.randomBytes(300_000)]));
    const start = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(bidder.token))
      .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature }).expect(201);
    const id: string = start.body.uploadId;
    const send = (app: TestApp, offset: number, bytes: Buffer) => app.http.patch(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token))
      .set('Upload-Offset', String(offset)).set('Content-Type', 'application/offset+octet-stream').send(bytes);
    const third = Math.floor(sealed.envelope.length / 3);

    assert.equal((await send(t, 0, sealed.envelope.subarray(0, third)).expect(200)).body.offset, third);
    const parts = (await server.listKeys()).filter((k) => k.startsWith(`${prefix}uploads/${id}/`));
    assert.equal(parts.length, 1, 'the first chunk is an object in the bucket');

    // the first instance goes away; another starts on the same database and bucket, with an empty local directory
    await t.ctx.close();
    const clock = new ControllableClock();
    clock.freeze(t.clock.now());
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-blobs-s3-other-'));
    fs.rmSync(t.blobDir, { recursive: true, force: true });
    t = await startTestApp({ ...t.ctx.config, blobDir: otherDir }, clock);

    const status = await t.http.get(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token)).expect(200);
    assert.equal(status.body.offset, third);
    assert.equal((await send(t, third, sealed.envelope.subarray(third, 2 * third)).expect(200)).body.offset, 2 * third);
    const done = await send(t, 2 * third, sealed.envelope.subarray(2 * third)).expect(200);
    assert.equal(done.body.complete, true);
    const bid = done.body.submission.bid;
    assert.equal(bid.envelopeSha256, sealed.sha256);
    assert.ok(done.body.submission.receipt.token, 'a time-stamped receipt');

    const keys = await server.listKeys();
    assert.ok(keys.includes(`${prefix}bids/${tender.id}/${bid.id}.cms`), `the bid is an object: ${keys.join(', ')}`);
    assert.deepEqual(keys.filter((k) => k.startsWith(`${prefix}uploads/`)), [], 'the parts are removed once assembled');
    assert.deepEqual(server.openUploads(), [], 'no multipart upload left open');
    const row = await t.ctx.db('bids').where({ id: bid.id }).first();
    const stored = await readAll(await t.ctx.blobs.get(row.blob_key));
    assert.equal(sha256(stored), sealed.sha256, 'the object holds the envelope, byte for byte');
    assert.deepEqual(filesUnder(otherDir), [], 'nothing on the local disk');
  });
});
