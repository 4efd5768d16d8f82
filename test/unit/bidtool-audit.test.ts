/**
 * bidtool audit-proof against the real platform, started in-process on a loopback port: a bidder proves its bid
 * receipt's audit event is in a checkpoint the platform signed, with the CA `bidtool enrol` saved and nothing of the
 * platform's code; a tampered saved proof fails naming the problem; another bidder's event is not its to prove; an
 * event newer than the latest checkpoint is told to wait for the next one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseCertificate } from '../../crypto/pki';
import { createTestApp, type TestApp } from '../support/app';
import { listen, runCli, stopListening, writeKeyDir, type RunResult } from '../support/bidtool-cli';
import { bearer, createCustodianMembers, createMember, login, operatorToken, sealBid, submitBid, tenderBody, uploadDocument, type Member } from '../support/factories';

describe('bidtool audit-proof: a receipt’s event in a signed checkpoint of the trade log (against the platform)', function () {
  this.timeout(120_000);

  let t: TestApp;
  let server: Server;
  let url: string;
  let tmp: string;
  let caPem: string;
  let bidder: Member;
  let rival: Member;
  let dir: string;
  let rivalDir: string;
  let receiptSeq: number;

  const run = (args: string[]): Promise<RunResult> => runCli(args, { now: () => t.clock.now(), stderrIsTTY: false });
  const file = (name: string) => path.join(tmp, name);
  const checkpoint = async () => (await t.http.post('/api/v1/audit/checkpoints').set(bearer(await operatorToken(t))).expect(200)).body.checkpoint;

  before(async () => {
    t = await createTestApp('bidtool-audit');
    ({ server, url } = await listen(t));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bidtool-audit-'));
    caPem = (await t.http.get('/api/v1/pki/ca-certificate').expect(200)).text;
    await createCustodianMembers(t);
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    bidder = await createMember(t, 'bidder');
    rival = await createMember(t, 'bidder');
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, draft.body.id);
    const tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    const openingCert = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(bidder.token)).expect(200)).body.certificatePem;
    const sent = await submitBid(t, bidder, tender.id, tender.sections[0].id, await sealBid(t, bidder, openingCert, Buffer.from('投标文件 bidtool audit-proof')));
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    receiptSeq = sent.body.submission.receipt.auditSeq;
    dir = writeKeyDir(file('bidder'), bidder, caPem);
    rivalDir = writeKeyDir(file('rival'), rival, caPem);
  });

  after(async () => {
    await stopListening(server);
    if (t) await t.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when no checkpoint has been signed yet, then it exits 2 with AUDIT_NO_CHECKPOINT and says the next checkpoint will cover the event', async () => {
    const r = await run(['audit-proof', '--seq', String(receiptSeq), '--server', url, '--dir', dir, '--out', file('early.json')]);
    assert.equal(r.code, 2, r.err + r.out);
    assert.match(r.err, /HTTP 409\): AUDIT_NO_CHECKPOINT/);
    assert.match(r.err, /the next checkpoint will cover it; try again after AUDIT_CHECKPOINT_MINUTES/);
    assert.equal(fs.existsSync(file('early.json')), false, 'nothing saved when there is no proof');
  });

  it('when an operator has signed a checkpoint, then --seq fetches the proof, saves it, verifies it with DIR/ca.pem and exits 0 with ✓', async () => {
    const c = await checkpoint();
    assert.ok(c.treeSize >= receiptSeq);
    const r = await run(['audit-proof', '--seq', String(receiptSeq), '--server', url, '--dir', dir, '--out', file('proof.json')]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, new RegExp(`Event seq:\\s+${receiptSeq}\\n`));
    assert.match(r.out, /Action:\s+bid\.submit\n/);
    assert.match(r.out, new RegExp(`${c.treeSize} 条事件 / events, 签署于 / signed at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(北京时间 UTC\\+8\\)`));
    assert.match(r.out, new RegExp(`CA SHA-256:\\s+${parseCertificate(caPem).fingerprintSha256}\\n`));
    assert.match(r.out, new RegExp(`Trusted CA:\\s+${path.join(dir, 'ca.pem').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.out, new RegExp(`✓ .*event ${receiptSeq} is in the checkpoint of ${c.treeSize} events`));
    assert.doesNotMatch(r.out, /✗/);

    const saved = JSON.parse(fs.readFileSync(file('proof.json'), 'utf8'));
    const fromApi = (await t.http.get(`/api/v1/audit/events/${receiptSeq}/proof`).set(bearer(bidder.token)).expect(200)).body;
    assert.deepEqual(saved, fromApi, 'the saved file is the platform’s proof as it was answered');

    const offline = await run(['audit-proof', '--file', file('proof.json'), '--ca', path.join(dir, 'ca.pem')]);
    assert.equal(offline.code, 0, offline.err + offline.out);
    assert.match(offline.out, /✓/);

    const again = await run(['audit-proof', '--seq', String(receiptSeq), '--server', url, '--dir', dir, '--out', file('proof.json')]);
    assert.equal(again.code, 2, 'an existing --out is not overwritten without --force');
    assert.match(again.err, /--force/);
  });

  it('when the saved proof was tampered with, then --file exits 1 naming what does not hold', async () => {
    const doc = JSON.parse(fs.readFileSync(file('proof.json'), 'utf8'));
    const write = (name: string, d: unknown) => {
      fs.writeFileSync(file(name), JSON.stringify(d));
      return file(name);
    };

    const altered = await run(['audit-proof', '--file', write('altered.json', { ...doc, event: { ...doc.event, payload: { ...doc.event.payload, size: 1 } } }), '--dir', dir]);
    assert.equal(altered.code, 1, altered.err + altered.out);
    assert.match(altered.out, /✗ EVENT_ALTERED/);
    assert.match(altered.err, /Inclusion proof INVALID: EVENT_ALTERED/);
    assert.doesNotMatch(altered.out, /✓/);

    assert.ok(doc.proof.length > 0, 'the tree has more than one leaf, so there is a path to tamper with');
    const flipped = doc.proof.map((h: string, i: number) => (i === 0 ? (h[0] === '0' ? '1' : '0') + h.slice(1) : h));
    const pathBad = await run(['audit-proof', '--file', write('path.json', { ...doc, proof: flipped }), '--dir', dir]);
    assert.equal(pathBad.code, 1, pathBad.err + pathBad.out);
    assert.match(pathBad.out, /✗ NOT_INCLUDED: the audit path does not lead to the signed root/);

    const rootBad = await run(['audit-proof', '--file', write('root.json', { ...doc, checkpoint: { ...doc.checkpoint, rootHash: 'ab'.repeat(32) } }), '--dir', dir]);
    assert.equal(rootBad.code, 1, rootBad.err + rootBad.out);
    assert.match(rootBad.out, /✗ CHECKPOINT_FORGED/);

    // a proof signed under another root of trust: the signer in the file does not chain to the CA given
    const otherCa = file('other-ca.pem');
    fs.writeFileSync(otherCa, t.ctx.keys.signer.certificatePem);
    const untrusted = await run(['audit-proof', '--file', file('proof.json'), '--ca', otherCa]);
    assert.equal(untrusted.code, 1, untrusted.err + untrusted.out);
    assert.match(untrusted.out, /✗ CHECKPOINT_SIGNER_UNTRUSTED/);

    const notProof = await run(['audit-proof', '--file', write('not-proof.json', { hello: 1 }), '--dir', dir]);
    assert.equal(notProof.code, 2, 'not a proof document is bad input, not an invalid proof');
    assert.match(notProof.err, /Not an audit-log inclusion proof/);
  });

  it('when another bidder asks for this bidder’s event, then it exits 2 with NOT_FOUND and saves nothing', async () => {
    const r = await run(['audit-proof', '--seq', String(receiptSeq), '--server', url, '--dir', rivalDir, '--out', file('rival.json')]);
    assert.equal(r.code, 2, r.err + r.out);
    assert.match(r.err, /HTTP 404\): NOT_FOUND/);
    assert.match(r.err, /a bidder gets proofs of its own events only/);
    assert.equal(fs.existsSync(file('rival.json')), false);
  });

  it('when the event is newer than the latest checkpoint, then it exits 2 with AUDIT_EVENT_NOT_YET_CHECKPOINTED and the wait', async () => {
    bidder.token = await login(t, bidder.signingKeys, bidder.signingCertPem); // a login of the bidder's own: a new event
    fs.writeFileSync(path.join(dir, 'token'), bidder.token + '\n', { mode: 0o600 });
    const newest = Number((await t.ctx.db('audit_events').where({ actor_org_id: bidder.orgId }).max({ seq: 'seq' }).first())!.seq);
    const latest = Number((await t.ctx.db('audit_checkpoints').max({ n: 'tree_size' }).first())!.n);
    assert.ok(newest > latest);
    const r = await run(['audit-proof', '--seq', String(newest), '--server', url, '--dir', dir]);
    assert.equal(r.code, 2, r.err + r.out);
    assert.match(r.err, /HTTP 409\): AUDIT_EVENT_NOT_YET_CHECKPOINTED/);
    assert.match(r.err, /The event is newer than the latest checkpoint: the next checkpoint will cover it; try again after AUDIT_CHECKPOINT_MINUTES/);

    await checkpoint();
    const later = await run(['audit-proof', '--seq', String(newest), '--server', url, '--dir', dir]);
    assert.equal(later.code, 0, later.err + later.out);
    assert.match(later.out, /Action:\s+auth\.login\n/);
  });

  it('when the arguments are wrong or the platform is unreachable, then it exits 2 without checking anything', async () => {
    const neither = await run(['audit-proof', '--dir', dir]);
    assert.equal(neither.code, 2);
    assert.match(neither.err, /Give either --seq/);
    const badSeq = await run(['audit-proof', '--seq', '0', '--server', url, '--dir', dir]);
    assert.equal(badSeq.code, 2);
    assert.match(badSeq.err, /--seq must be a positive integer/);
    const down = await run(['audit-proof', '--seq', String(receiptSeq), '--server', 'http://127.0.0.1:9', '--dir', dir]);
    assert.equal(down.code, 2, down.err + down.out);
    assert.match(down.err, /Cannot reach the platform/);
  });
});
