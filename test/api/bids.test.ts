import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { openBuffer, inspectFile, unwrapContentKey, decryptFile } from '../../crypto/envelope';
import { createTestApp, runDueJobs, T0, type TestApp } from '../support/app';
import {
  bearer,
  bufferBody,
  countRows,
  createCustodianMembers,
  createMember,
  refresh,
  sealBid,
  signedEnvelope,
  submitBid,
  tenderBody,
  uploadDocument,
  type Member,
  type SealedBid,
} from '../support/factories';

describe('sealed bids: upload, checks, receipts, deadline, custody', () => {
  let t: TestApp;
  let agency: Member;
  let bidder: Member;
  let rival: Member;
  let custodians: { regulator: Member; operator: Member };
  let tender: { id: string; bidDeadline: string; sections: Array<{ id: string }> };
  let other: { id: string };
  let openingCertPem: string;
  let otherOpeningCertPem: string;
  let sectionId: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-bids-'));

  async function publishTender(name: string) {
    const tendererId = (await createMember(t, 'tenderer')).orgId;
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tendererId, t.clock.now(), { name })).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    return (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  }

  before(async () => {
    t = await createTestApp('bids');
    custodians = await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
    rival = await createMember(t, 'bidder');
    tender = await publishTender('西安市第三十中学体育馆建设工程');
    other = await publishTender('咸阳市渭城区道路改造工程');
    sectionId = tender.sections[0].id;
    openingCertPem = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(bidder.token)).expect(200)).body.certificatePem;
    otherOpeningCertPem = (await t.http.get(`/api/v1/tenders/${other.id}/opening-key`).set(bearer(bidder.token)).expect(200)).body.certificatePem;
  });
  after(async () => {
    await t.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    t.clock.freeze(T0);
    await refresh(t, agency, bidder, rival, custodians.regulator, custodians.operator);
  });

  const plaintext = (label: string) => Buffer.from(`PK-fake-zip 投标文件 ${label} PLAINTEXT-MARKER-${label} ${crypto.randomBytes(2048).toString('hex')}`);

  async function storedState() {
    const blobFiles = fs.existsSync(path.join(t.blobDir, 'bids')) ? fs.readdirSync(path.join(t.blobDir, 'bids'), { recursive: true }).length : 0;
    return { bids: await countRows(t, 'bids'), blobFiles };
  }

  it('when a bidder submits a sealed, signed bid, then it gets a receipt that openssl verifies and the bid is listed', async () => {
    const sealed = await sealBid(t, bidder, openingCertPem, plaintext('first'));
    const res = await submitBid(t, bidder, tender.id, sectionId, sealed);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.complete, true);
    const { bid, receipt } = res.body.submission;
    assert.equal(bid.status, 'current');
    assert.equal(bid.envelopeSha256, sealed.sha256);
    assert.ok(receipt.auditSeq > 0);
    const event = await t.ctx.db('audit_events').where({ seq: receipt.auditSeq }).first();
    assert.equal(event.action, 'bid.submit');

    const ca = (await t.http.get('/api/v1/pki/ca-certificate').expect(200)).text;
    fs.writeFileSync(path.join(tmp, 'ca.pem'), ca);
    fs.writeFileSync(path.join(tmp, 'bid.cms'), sealed.envelope);
    const tsr = await t.http.get(`/api/v1/bids/${bid.id}/receipt.tsr`).set(bearer(bidder.token)).buffer(true)
      .parse(bufferBody).expect(200);
    assert.deepEqual(tsr.body, Buffer.from(receipt.token, 'base64'));
    fs.writeFileSync(path.join(tmp, 'receipt.tsr'), tsr.body as Buffer);
    const out = execFileSync('openssl', ['ts', '-verify', '-data', path.join(tmp, 'bid.cms'), '-in', path.join(tmp, 'receipt.tsr'), '-CAfile', path.join(tmp, 'ca.pem')]).toString();
    assert.match(out, /Verification: OK/);

    const pdf = await t.http.get(`/api/v1/bids/${bid.id}/receipt.pdf`).set(bearer(bidder.token)).buffer(true)
      .parse(bufferBody).expect(200);
    assert.equal((pdf.body as Buffer).subarray(0, 5).toString(), '%PDF-');
    const list = await t.http.get(`/api/v1/bids?tenderId=${tender.id}`).set(bearer(bidder.token)).expect(200);
    assert.deepEqual(list.body.map((b: { id: string }) => b.id), [bid.id]);
    // another bidder sees nothing of it
    await t.http.get(`/api/v1/bids/${bid.id}`).set(bearer(rival.token)).expect(404);
    const counts = await t.http.get(`/api/v1/tenders/${tender.id}/bid-counts`).set(bearer(agency.token)).expect(200);
    assert.equal(counts.body.sections[0].count, 1);
    assert.equal(JSON.stringify(counts.body).includes(bidder.orgId), false, 'the agency sees counts, not bidders');
  });

  it("when a bid is received, then /metrics shows its bytes, its last byte → receipt time and the job outbox's backlog", async () => {
    const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const before = (await t.http.get('/metrics').expect(200)).text;
    const newcomer = await createMember(t, 'bidder');
    const sealed = await sealBid(t, newcomer, openingCertPem, plaintext('metered'));
    assert.equal((await submitBid(t, newcomer, tender.id, sectionId, sealed)).status, 200);
    const after = (await t.http.get('/metrics').expect(200)).text;
    assert.equal(metric(after, 'gz_bid_receipt_seconds_count') - metric(before, 'gz_bid_receipt_seconds_count'), 1);
    assert.equal(metric(after, 'gz_bid_bytes_received_total') - metric(before, 'gz_bid_bytes_received_total'), sealed.envelope.length);
    assert.equal(metric(after, 'gz_bid_upload_requests_in_flight'), 0);
    // the backlog is read from the database: the deadline's jobs (closing the tender, the opening) wait there
    assert.match(after, /^gz_outbox_jobs\{status="pending"\} \d+$/m);
    assert.match(after, /^gz_outbox_oldest_due_seconds \d+(\.\d+)?$/m);
  });

  it('when the bidder submits again before the deadline, then the new bid supersedes the old one and exactly one is current', async () => {
    const first = (await submitBid(t, rival, tender.id, sectionId, await sealBid(t, rival, openingCertPem, plaintext('r1')))).body.submission.bid;
    const second = await submitBid(t, rival, tender.id, sectionId, await sealBid(t, rival, openingCertPem, plaintext('r2')));
    assert.equal(second.body.submission.supersededBidId, first.id);
    const rows = await t.ctx.db('bids').where({ bidder_org_id: rival.orgId, section_id: sectionId });
    assert.deepEqual(rows.map((r) => r.status).sort(), ['current', 'superseded']);
    const supersededEvent = await t.ctx.db('audit_events').where({ object_id: second.body.submission.bid.id }).first();
    assert.equal(supersededEvent.payload.supersedes, first.id);
  });

  it('when the same bidder uploads twice at once, then exactly one bid is current', async () => {
    const member = await createMember(t, 'bidder');
    const [a, b] = await Promise.all([
      submitBid(t, member, tender.id, sectionId, await sealBid(t, member, openingCertPem, plaintext('c1'))),
      submitBid(t, member, tender.id, sectionId, await sealBid(t, member, openingCertPem, plaintext('c2'))),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const current = await t.ctx.db('bids').where({ bidder_org_id: member.orgId, status: 'current' });
    assert.equal(current.length, 1);
  });

  it('when the same upload is completed twice at once, then one bid results and the other request is told the upload is closed', async () => {
    const member = await createMember(t, 'bidder');
    const sealed = await sealBid(t, member, openingCertPem, plaintext('twice'));
    const start = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(member.token))
      .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature }).expect(201);
    const send = () => t.http.patch(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(member.token)).set('Upload-Offset', '0')
      .set('Content-Type', 'application/offset+octet-stream').send(sealed.envelope);
    const results = await Promise.all([send(), send()]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    assert.equal(results.find((r) => r.status === 409)!.body.error.code, 'UPLOAD_NOT_OPEN');
    const bids = await t.ctx.db('bids').where({ bidder_org_id: member.orgId });
    assert.equal(bids.length, 1);
    const upload = await t.ctx.db('bid_uploads').where({ id: start.body.uploadId }).first();
    assert.equal(upload.status, 'complete', 'the losing request does not undo the winner');
    assert.equal(upload.bid_id, bids[0].id);
    const stored = fs.readdirSync(path.join(t.blobDir, 'bids', tender.id)).filter((f) => !f.startsWith('.'));
    const ids = (await t.ctx.db('bids').where({ tender_id: tender.id }).select('id')).map((r) => `${r.id}.cms`);
    assert.deepEqual(stored.filter((f) => !ids.includes(f)), [], 'the losing request left no blob behind');
  });

  it('when the same chunk is sent twice at once (a client retrying), then one counts and the upload still completes intact', async () => {
    const member = await createMember(t, 'bidder');
    const sealed = await sealBid(t, member, openingCertPem, Buffer.concat([plaintext('retry'), crypto.randomBytes(200_000)]));
    const start = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(member.token))
      .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature }).expect(201);
    const send = (offset: number, bytes: Buffer) => t.http.patch(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(member.token))
      .set('Upload-Offset', String(offset)).set('Content-Type', 'application/offset+octet-stream').send(bytes);
    const half = Math.floor(sealed.envelope.length / 2);
    const racing = await Promise.all([send(0, sealed.envelope.subarray(0, half)), send(0, sealed.envelope.subarray(0, half))]);
    assert.deepEqual(racing.map((r) => r.status).sort(), [200, 409]);
    const done = await send(half, sealed.envelope.subarray(half)).expect(200);
    assert.equal(done.body.submission.bid.envelopeSha256, sealed.sha256);
    const status = await t.http.get(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(member.token)).expect(200);
    assert.equal(status.body.status, 'complete');
    assert.equal(status.body.bidId, done.body.submission.bid.id);
  });

  it('when an upload is sent in chunks, a chunk is dropped midway and the offset is wrong, then it resumes from the server offset and completes', async () => {
    const sealed = await sealBid(t, bidder, openingCertPem, Buffer.concat([plaintext('chunked'), crypto.randomBytes(300_000)]));
    const start = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(bidder.token))
      .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature }).expect(201);
    const id = start.body.uploadId;
    const send = (offset: number, bytes: Buffer) => t.http.patch(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token))
      .set('Upload-Offset', String(offset)).set('Content-Type', 'application/offset+octet-stream').send(bytes);
    const third = Math.floor(sealed.envelope.length / 3);
    assert.equal((await send(0, sealed.envelope.subarray(0, third))).body.offset, third);

    // a connection that drops halfway through a chunk leaves the offset where it was
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PATCH', path: `/api/v1/bid-uploads/${id}`, headers: {
        ...bearer(bidder.token), 'Upload-Offset': String(third), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(third),
      } });
      req.on('error', () => resolve());
      req.write(sealed.envelope.subarray(third, third + 1000), () => setImmediate(() => { req.destroy(); resolve(); }));
    });
    server.close();
    let status = { offset: -1 };
    for (let i = 0; i < 50 && status.offset !== third; i++) status = (await t.http.get(`/api/v1/bid-uploads/${id}`).set(bearer(bidder.token)).expect(200)).body;
    assert.equal(status.offset, third);

    const wrong = await send(third + 5, sealed.envelope.subarray(third + 5)).expect(409);
    assert.equal(wrong.body.error.code, 'UPLOAD_OFFSET_MISMATCH');
    assert.equal(wrong.body.error.details.offset, third);
    assert.equal((await send(third, sealed.envelope.subarray(third, 2 * third))).body.offset, 2 * third);
    const done = await send(2 * third, sealed.envelope.subarray(2 * third)).expect(200);
    assert.equal(done.body.complete, true);
    assert.equal(done.body.submission.bid.envelopeSha256, sealed.sha256);
    const parts = fs.existsSync(path.join(t.blobDir, 'uploads', id)) ? fs.readdirSync(path.join(t.blobDir, 'uploads', id)) : [];
    assert.deepEqual(parts.filter((f) => !f.startsWith('.')), [], 'parts are removed once assembled');
  });

  describe('hostile input: refused with a clear code, nothing stored', () => {
    async function refused(sealed: SealedBid, code: string, member = bidder) {
      const before = await storedState();
      const res = await submitBid(t, member, tender.id, sectionId, sealed);
      assert.ok(res.status >= 400 && res.status < 500, `${code}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code);
      assert.deepEqual(await storedState(), before);
      return res;
    }

    it('when the envelope is truncated, then BID_ENVELOPE_MALFORMED (EB 26)', async () => {
      const good = await sealBid(t, bidder, openingCertPem, plaintext('trunc'));
      const res = await refused(await signedEnvelope(t, bidder, good.envelope.subarray(0, good.envelope.length - 40)), 'BID_ENVELOPE_MALFORMED');
      assert.equal(res.body.error.details.basis, 'EB 26');
    });

    it('when a byte of ciphertext or tag is flipped after signing, then BID_HASH_MISMATCH', async () => {
      for (const at of [0.5, 0.999]) {
        const good = await sealBid(t, bidder, openingCertPem, plaintext('flip'));
        const flipped = Buffer.from(good.envelope);
        flipped[Math.floor(flipped.length * at)] ^= 0xff;
        await refused({ ...good, envelope: flipped }, 'BID_HASH_MISMATCH');
      }
    });

    it('when the envelope is for another tender, or lacks the opening recipient, then BID_NOT_FOR_THIS_TENDER', async () => {
      await refused(await sealBid(t, bidder, otherOpeningCertPem, plaintext('other')), 'BID_NOT_FOR_THIS_TENDER');
      await refused(await sealBid(t, bidder, openingCertPem, plaintext('solo'), { recipients: [bidder.encryptionCertPem] }), 'BID_NOT_FOR_THIS_TENDER');
    });

    it('when the envelope is not addressed to the bidder itself, then BID_MISSING_BIDDER_RECIPIENT', async () => {
      await refused(await sealBid(t, bidder, openingCertPem, plaintext('x'), { recipients: [openingCertPem] }), 'BID_MISSING_BIDDER_RECIPIENT');
    });

    it('when the file is an unencrypted ZIP, then BID_NOT_ENCRYPTED citing EB 26', async () => {
      const zip = Buffer.concat([Buffer.from('PK\u0003\u0004'), crypto.randomBytes(4000)]);
      const res = await refused(await signedEnvelope(t, bidder, zip), 'BID_NOT_ENCRYPTED');
      assert.equal(res.body.error.details.basis, 'EB 26');
    });

    it('when the signature is bad, by another organisation, or by a revoked certificate, then refused before any upload', async () => {
      const good = await sealBid(t, bidder, openingCertPem, plaintext('sig'));
      await refused({ ...good, signature: Buffer.from('not a signature').toString('base64') }, 'BID_SIGNATURE_INVALID');
      await refused(await signedEnvelope(t, rival, good.envelope), 'BID_SIGNATURE_FOREIGN');
      const revokedMember = await createMember(t, 'bidder');
      const sealed = await sealBid(t, revokedMember, openingCertPem, plaintext('rev'));
      const other = await createMember(t, 'bidder', { orgId: revokedMember.orgId });
      await t.http.post(`/api/v1/certificates/${revokedMember.signingSerial}/revoke`).set(bearer(other.token)).send({ reason: 'keyCompromise' }).expect(200);
      await refused(sealed, 'CERT_REVOKED', other);
      const uploads = await t.ctx.db('bid_uploads').where({ bidder_org_id: revokedMember.orgId });
      assert.equal(uploads.length, 0);
    });

    it('when the bid is larger than allowed or more bytes come than declared, then BID_TOO_LARGE / PAYLOAD_TOO_LARGE', async () => {
      const good = await sealBid(t, bidder, openingCertPem, plaintext('big'));
      const big = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(bidder.token))
        .send({ size: t.ctx.config.bidMaxBytes + 1, sha256: good.sha256, signature: good.signature }).expect(413);
      assert.equal(big.body.error.code, 'BID_TOO_LARGE');
      const start = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(bidder.token))
        .send({ size: 100, sha256: good.sha256, signature: good.signature }).expect(201);
      const more = await t.http.patch(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(bidder.token)).set('Upload-Offset', '0')
        .set('Content-Type', 'application/offset+octet-stream').send(good.envelope).expect(413);
      assert.equal(more.body.error.code, 'PAYLOAD_TOO_LARGE');
    });
  });


  describe('at and after the deadline', () => {
    it('when the last byte arrives 1 ms after the deadline, then BID_AFTER_DEADLINE and nothing is stored, though the upload began in time', async () => {
      const sealed = await sealBid(t, bidder, openingCertPem, plaintext('late'));
      const start = await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/bid-uploads`).set(bearer(bidder.token))
        .send({ size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature }).expect(201);
      const half = Math.floor(sealed.envelope.length / 2);
      await t.http.patch(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(bidder.token)).set('Upload-Offset', '0')
        .set('Content-Type', 'application/offset+octet-stream').send(sealed.envelope.subarray(0, half)).expect(200);
      t.clock.freeze(new Date(new Date(tender.bidDeadline).getTime() + 1));
      await refresh(t, bidder);
      const before = await storedState();
      const late = await t.http.patch(`/api/v1/bid-uploads/${start.body.uploadId}`).set(bearer(bidder.token)).set('Upload-Offset', String(half))
        .set('Content-Type', 'application/offset+octet-stream').send(sealed.envelope.subarray(half)).expect(409);
      assert.equal(late.body.error.code, 'BID_AFTER_DEADLINE');
      assert.match(late.body.error.details.basis, /EB 27/);
      assert.deepEqual(await storedState(), before);
    });

    it('when a bid is withdrawn before the deadline, then it is withdrawn; after the deadline, withdrawal is refused', async () => {
      const member = await createMember(t, 'bidder');
      const bid = (await submitBid(t, member, tender.id, sectionId, await sealBid(t, member, openingCertPem, plaintext('w')))).body.submission.bid;
      const withdrawn = await t.http.post(`/api/v1/bids/${bid.id}/withdraw`).set(bearer(member.token)).expect(200);
      assert.equal(withdrawn.body.status, 'withdrawn');
      const again = await t.http.post(`/api/v1/bids/${bid.id}/withdraw`).set(bearer(member.token)).expect(409);
      assert.equal(again.body.error.code, 'BID_NOT_CURRENT');
      const kept = (await submitBid(t, member, tender.id, sectionId, await sealBid(t, member, openingCertPem, plaintext('w2')))).body.submission.bid;
      t.clock.freeze(new Date(new Date(tender.bidDeadline).getTime() + 1));
      await refresh(t, member);
      assert.equal((await t.http.post(`/api/v1/bids/${kept.id}/withdraw`).set(bearer(member.token)).expect(409)).body.error.code, 'BID_AFTER_DEADLINE');
    });

    it('when a custodian reaches for its share before the deadline, then it is refused and a critical event is recorded', async () => {
      const res = await t.http.get(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(custodians.regulator.token)).expect(409);
      assert.equal(res.body.error.code, 'CUSTODY_BEFORE_DEADLINE');
      const post = await t.http.post(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(custodians.operator.token)).send({ share: 'AAAA' }).expect(409);
      assert.equal(post.body.error.code, 'CUSTODY_BEFORE_DEADLINE');
      const events = await t.ctx.db('audit_events').where({ action: 'custody.early-access', tender_id: tender.id });
      assert.equal(events.length, 2);
      assert.ok(events.every((e) => e.payload.severity === 'critical'));
      const alerts = await t.ctx.db('alerts').where({ tender_id: tender.id, rule: 'early-key-access', severity: 'critical' });
      assert.deepEqual(alerts.map((a) => a.evidence.auditSeqs[0]).sort(), events.map((e) => Number(e.seq)).sort());
      await assert.rejects(t.ctx.services.custody.rebuildOpeningKey(tender.id), /CUSTODY_BEFORE_DEADLINE/);
      // a bidder is no custodian at all
      await t.http.get(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(bidder.token)).expect(403);
    });

    it('when two custodians release their shares after the deadline, then the opening key is rebuilt in memory and opens a bid', async () => {
      const marker = plaintext('custody');
      const sealed = await sealBid(t, bidder, openingCertPem, marker);
      const bid = (await submitBid(t, bidder, tender.id, sectionId, sealed)).body.submission.bid;
      t.clock.freeze(new Date(tender.bidDeadline));
      await runDueJobs(t);
      await refresh(t, custodians.regulator, custodians.operator, agency);
      assert.equal((await t.http.get(`/api/v1/tenders/${tender.id}`).set(bearer(agency.token))).body.status, 'sealed');
      // unfinished transfers (the late one above) are closed by the deadline and their parts removed (EB 27)
      const expired = await t.ctx.db('bid_uploads').where({ tender_id: tender.id, failure_code: 'DEADLINE_PASSED' });
      assert.ok(expired.length >= 1);
      assert.equal((await t.ctx.db('bid_uploads').where({ tender_id: tender.id, status: 'open' })).length, 0);
      for (const u of expired) {
        const dir = path.join(t.blobDir, 'uploads', u.id);
        assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith('.')) : [], []);
      }

      const wrong = await t.http.post(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(custodians.regulator.token))
        .send({ share: crypto.randomBytes(33).toString('base64') }).expect(422);
      assert.equal(wrong.body.error.code, 'SHARE_INVALID');
      const earlyAccess = async () => [
        (await t.ctx.db('audit_events').where({ action: 'custody.early-access', tender_id: tender.id })).length,
        (await t.ctx.db('alerts').where({ tender_id: tender.id, rule: 'early-key-access' })).length,
      ];
      const earlyBefore = await earlyAccess();
      for (const member of [custodians.regulator, custodians.operator]) {
        const fetched = await t.http.get(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(member.token)).expect(200);
        const share = await openBuffer(Buffer.from(fetched.body.sealedShare, 'base64'), { privateKeyPem: member.encryptionKeys.privateKeyPem, certificatePem: member.encryptionCertPem });
        await t.http.post(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(member.token)).send({ share: share.toString('base64') }).expect(200);
      }
      const status = await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200);
      assert.equal(status.body.custodians.filter((c: { released: boolean }) => c.released).length, 2);
      // the same requests from the deadline on are no early access: nothing more recorded or raised
      assert.deepEqual(await earlyAccess(), earlyBefore);

      const key = await t.ctx.services.custody.rebuildOpeningKey(tender.id);
      const file = path.join(tmp, 'custody.cms');
      fs.writeFileSync(file, sealed.envelope);
      const inspection = await inspectFile(file);
      assert.equal(unwrapContentKey(inspection, key).length, 32);
      await decryptFile(file, path.join(tmp, 'custody.out'), key);
      assert.deepEqual(fs.readFileSync(path.join(tmp, 'custody.out')), marker);
      // and openssl agrees, with the rebuilt key
      fs.writeFileSync(path.join(tmp, 'opening.key'), key.privateKeyPem);
      fs.writeFileSync(path.join(tmp, 'opening.pem'), key.certificatePem);
      execFileSync('openssl', ['cms', '-decrypt', '-inform', 'DER', '-binary', '-in', file, '-recip', path.join(tmp, 'opening.pem'), '-inkey', path.join(tmp, 'opening.key'), '-out', path.join(tmp, 'custody.ossl')]);
      assert.deepEqual(fs.readFileSync(path.join(tmp, 'custody.ossl')), marker);
      assert.ok(bid.id);
    });
  });
});

describe('sealed bids: nothing readable before the opening', () => {
  let t: TestApp;
  const logs: string[] = [];

  before(async () => {
    t = await createTestApp('bids-scan', { logs });
  });
  after(() => t.close());

  it('when several bids are submitted, then no plaintext marker and no content key is in the database, blobs, Redis or logs', async () => {
    await createCustodianMembers(t);
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const d = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, d.body.id);
    const tender = (await t.http.post(`/api/v1/tenders/${d.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    const opening = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;

    const secrets: string[] = [];
    for (let i = 0; i < 4; i++) {
      const member = await createMember(t, 'bidder');
      const marker = `SECRET-BID-MARKER-${i}-${crypto.randomBytes(6).toString('hex')}`;
      const sealed = await sealBid(t, member, opening, Buffer.from(`${marker} 报价 ${1_000_000 + i} 元`));
      const res = await submitBid(t, member, tender.id, tender.sections[0].id, sealed);
      assert.equal(res.status, 200);
      const file = path.join(os.tmpdir(), `gz-scan-${i}.cms`);
      fs.writeFileSync(file, sealed.envelope);
      const cek = unwrapContentKey(await inspectFile(file), { privateKeyPem: member.encryptionKeys.privateKeyPem, certificatePem: member.encryptionCertPem });
      fs.rmSync(file);
      secrets.push(marker, cek.toString('hex'), cek.toString('base64'));
    }

    const haystacks: Array<[string, string]> = [];
    const tables = (await t.ctx.db.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r: { tablename: string }) => r.tablename);
    for (const table of tables) {
      const rows = await t.ctx.db(table).select('*');
      const text = rows.map((r: Record<string, unknown>) => JSON.stringify(r, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v))).join('\n');
      haystacks.push([`table ${table}`, text]);
    }
    for (const file of fs.readdirSync(t.blobDir, { recursive: true }) as string[]) {
      const full = path.join(t.blobDir, file);
      if (fs.statSync(full).isFile()) haystacks.push([`blob ${file}`, fs.readFileSync(full).toString('latin1')]);
    }
    if (t.ctx.config.redis.url) {
      const { Redis } = await import('ioredis');
      const redis = new Redis(t.ctx.config.redis.url);
      const keys = await redis.keys(`${t.ctx.config.redis.prefix}*`);
      for (const k of keys) {
        const type = await redis.type(k);
        const value = type === 'string' ? await redis.get(k) : type === 'hash' ? JSON.stringify(await redis.hgetall(k)) : type === 'list' ? JSON.stringify(await redis.lrange(k, 0, -1)) : '';
        haystacks.push([`redis ${k}`, `${k} ${value}`]);
      }
      await redis.quit();
    }
    haystacks.push(['logs', logs.join('\n')]);
    assert.ok(logs.length > 10, 'the logs were captured');

    const found = haystacks.flatMap(([where, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 24)}… in ${where}`));
    assert.deepEqual(found, []);
  });
});
