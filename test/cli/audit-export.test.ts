/**
 * The regulator's export and its offline verification: a log made by real requests, signed checkpoints, the export
 * written by `audit:export` (and streamed by GET /audit/export) verifies; then copies of it tampered with in each way a
 * holder of the export could — an event's field edited, two events swapped, one dropped, a checkpoint forged with
 * another key or given another size, history rewritten and re-hashed, a signer not from the platform's root — and each
 * is caught and named with its place.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRootCa, generateRsaKeyPair, issueCertificate, parseCertificate, randomSerialHex } from '../../crypto/pki';
import { writeAuditExport } from '../../src/cli/audit-export';
import { runExportVerify, verifyExportAt } from '../../src/cli/audit-verify';
import { canonicalJson } from '../../crypto/audit-hash';
import { signCheckpoint, type SignedCheckpoint } from '../../crypto/checkpoint-note';
import type { ExportVerifyResult } from '../../src/monitoring/export-verify';
import type { ProblemKind } from '../../src/monitoring/export-problems';
import { fromHex, leafHash, rootOf, toHex } from '../../crypto/merkle';
import { DAY_MS } from '../../src/shared/clock';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, createMember, operatorToken, tenderBody, uploadDocument, type Member } from '../support/factories';
import { runScript } from '../support/run-script';


function copyExport(from: string, label: string): string {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), `gz-audit-export-${label}-`));
  fs.cpSync(from, to, { recursive: true });
  return to;
}

const readLines = (dir: string) => fs.readFileSync(path.join(dir, 'events.ndjson'), 'utf8').split('\n').filter(Boolean);
const writeLines = (dir: string, lines: string[]) => fs.writeFileSync(path.join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);
const readCheckpoints = (dir: string): SignedCheckpoint[] => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints.json'), 'utf8'));
const writeCheckpoints = (dir: string, cps: SignedCheckpoint[]) => fs.writeFileSync(path.join(dir, 'checkpoints.json'), JSON.stringify(cps, null, 2));

function kinds(result: ExportVerifyResult): ProblemKind[] {
  return [...new Set(result.problems.map((p) => p.kind))].sort();
}

function problem(result: ExportVerifyResult, kind: ProblemKind) {
  return result.problems.filter((p) => p.kind === kind);
}

/** Re-signs checkpoint fields with a key of one's own (what a forger without the platform's key can do). */
function resign(c: SignedCheckpoint, privateKeyPem: string): SignedCheckpoint {
  const { signature: _s, signerSerial, ...fields } = c;
  return { ...fields, signerSerial, signature: signCheckpoint(fields, privateKeyPem) };
}

describe('cli: audit:export and audit:verify --export', () => {
  let t: TestApp;
  let dir: string;
  let head: number;
  let checkpoints: SignedCheckpoint[];
  let regulator: Member;
  const tmpDirs: string[] = [];
  const tmp = (d: string) => (tmpDirs.push(d), d);

  before(async function () {
    this.timeout(120_000);
    t = await createTestApp('audit-export');
    ({ regulator } = await createCustodianMembers(t));
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const op = await operatorToken(t);
    await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)).expect(200);
    // more activity, a checkpoint by the job's path, more, another on demand, then events no checkpoint covers yet
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, draft.body.id);
    assert.equal((await t.ctx.services.checkpoints.makeIfGrown()).made, true);
    await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200);
    await createMember(t, 'bidder');
    await t.http.post('/api/v1/audit/checkpoints').set(bearer(op)).expect(200);
    await createMember(t, 'bidder');

    dir = tmp(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gz-audit-export-')), 'export'));
    const summary = await writeAuditExport(t.ctx.db, dir, { platformName: t.ctx.config.platformName, now: t.clock.now() });
    head = Number((await t.ctx.db('audit_events').max({ seq: 'seq' }).first())!.seq);
    assert.equal(summary.headSeq, head);
    checkpoints = readCheckpoints(dir);
  });
  after(async () => {
    await t.close();
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('when the export is written, then it holds every event as stored, the signed checkpoints, the certificates and a manifest', async () => {
    assert.deepEqual(fs.readdirSync(dir).sort(), ['certificates', 'checkpoints.json', 'events.ndjson', 'manifest.json']);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'certificates')).sort(), ['ca.pem', 'signer.pem']);
    const lines = readLines(dir);
    assert.equal(lines.length, head);
    const row = await t.ctx.db('audit_events').where({ seq: 7 }).first();
    const event = JSON.parse(lines[6]!);
    assert.equal(event.seq, 7);
    assert.equal(event.hash, String(row.hash).trim());
    assert.equal(event.action, row.action);
    assert.equal(lines[6], canonicalJson(event), 'one canonical JSON object per line');
    assert.equal(checkpoints.length, 3);
    assert.ok(checkpoints.every((c, i) => i === 0 || c.treeSize > checkpoints[i - 1]!.treeSize));
    assert.ok(checkpoints.at(-1)!.treeSize < head, 'the last events are newer than the last checkpoint');
    assert.equal(fs.readFileSync(path.join(dir, 'certificates', 'ca.pem'), 'utf8'), t.ctx.keys.ca.certificatePem);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual({ events: manifest.events, checkpoints: manifest.checkpoints, headSeq: manifest.headSeq }, { events: head, checkpoints: 3, headSeq: head });
    await assert.rejects(writeAuditExport(t.ctx.db, dir, { platformName: 'x', now: t.clock.now() }), /not empty/, 'never written over');
  });

  it('when the untouched export is verified, then it is intact: every event, every checkpoint, the latest named', async () => {
    const lines: string[] = [];
    const { exitCode, result } = await runExportVerify(dir, (l) => lines.push(l));
    assert.equal(exitCode, 0, lines.join('\n'));
    assert.deepEqual(result.problems, []);
    assert.equal(result.events, head);
    assert.equal(result.headSeq, head);
    assert.equal(result.checkpoints, 3);
    assert.deepEqual(result.latestCheckpoint, { treeSize: checkpoints[2]!.treeSize, rootHash: checkpoints[2]!.rootHash, madeAt: checkpoints[2]!.madeAt });
    assert.equal(result.caFingerprintSha256, crypto.createHash('sha256').update(new crypto.X509Certificate(t.ctx.keys.ca.certificatePem).raw).digest('hex'));
    assert.equal(
      lines.at(-1),
      `交易日志完整 (audit log intact): ${head} events, 3 signed checkpoints verified, the latest covering ${checkpoints[2]!.treeSize} events with root ${checkpoints[2]!.rootHash}`,
    );
  });

  it('when a regulator streams GET /audit/export, then the NDJSON verifies the same; a bidder is refused', async () => {
    const res = await t.http.get('/api/v1/audit/export').set(bearer(regulator.token)).buffer(true).parse((r, cb) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (text += d));
      r.on('end', () => cb(null, text));
    });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/x-ndjson/);
    const text = res.body as string;
    const first = JSON.parse(text.split('\n')[0]!);
    assert.equal(first.record, 'export');
    assert.ok(first.headSeq >= head);
    const file = path.join(tmp(fs.mkdtempSync(path.join(os.tmpdir(), 'gz-audit-stream-'))), 'export.ndjson');
    fs.writeFileSync(file, text);
    const result = await verifyExportAt(file);
    assert.deepEqual(result.problems, []);
    assert.equal(result.events, first.headSeq);
    assert.equal(result.checkpoints, 3);
    const bidder = await createMember(t, 'bidder');
    await t.http.get('/api/v1/audit/export').set(bearer(bidder.token)).expect(403);
  });

  it('when one event\'s field is edited, then EVENT_ALTERED names its seq and line, and nothing else is blamed', async () => {
    const copy = tmp(copyExport(dir, 'alter'));
    const lines = readLines(copy);
    const k = Math.floor(head / 2);
    const event = JSON.parse(lines[k - 1]!);
    lines[k - 1] = canonicalJson({ ...event, clientIp: '10.0.0.66' });
    writeLines(copy, lines);
    const result = await verifyExportAt(copy);
    assert.equal(result.ok, false);
    assert.deepEqual(kinds(result), ['EVENT_ALTERED']);
    assert.equal(problem(result, 'EVENT_ALTERED')[0]!.seq, k);
    assert.equal(problem(result, 'EVENT_ALTERED')[0]!.line, k);
  });

  it('when two events are swapped, then EVENTS_REORDERED names the one out of place and the checkpoints over them no longer match', async () => {
    const copy = tmp(copyExport(dir, 'swap'));
    const lines = readLines(copy);
    const k = 3;
    [lines[k - 1], lines[k]] = [lines[k]!, lines[k - 1]!];
    writeLines(copy, lines);
    const result = await verifyExportAt(copy);
    assert.deepEqual(kinds(result), ['CHECKPOINT_ROOT_MISMATCH', 'EVENTS_REORDERED']);
    assert.deepEqual(problem(result, 'EVENTS_REORDERED').map((p) => [p.seq, p.line]), [[k, k + 1]]);
    assert.deepEqual(problem(result, 'CHECKPOINT_ROOT_MISMATCH').map((p) => p.checkpoint), checkpoints.map((c) => c.treeSize));
  });

  it('when one event is dropped, then EVENT_MISSING names its seq and every checkpoint over it fails', async () => {
    const copy = tmp(copyExport(dir, 'drop'));
    const lines = readLines(copy);
    const k = checkpoints[1]!.treeSize + 1; // after the second checkpoint: the first still holds
    lines.splice(k - 1, 1);
    writeLines(copy, lines);
    const result = await verifyExportAt(copy);
    assert.deepEqual(problem(result, 'EVENT_MISSING').map((p) => p.seq), [k]);
    assert.match(problem(result, 'EVENT_MISSING')[0]!.detail, new RegExp(`event ${k} is missing`));
    const failed = result.problems.filter((p) => p.kind.startsWith('CHECKPOINT_')).map((p) => p.checkpoint);
    assert.deepEqual([...new Set(failed)], [checkpoints[2]!.treeSize]);
    assert.equal(result.checkpoints, 2);
  });

  it('when a checkpoint\'s root is changed and re-signed with another key, then CHECKPOINT_FORGED names it', async () => {
    const copy = tmp(copyExport(dir, 'forge'));
    const cps = readCheckpoints(copy);
    const forger = generateRsaKeyPair();
    cps[1] = resign({ ...cps[1]!, rootHash: crypto.randomBytes(32).toString('hex') }, forger.privateKeyPem);
    writeCheckpoints(copy, cps);
    const result = await verifyExportAt(copy);
    assert.deepEqual(kinds(result), ['CHECKPOINT_FORGED', 'CHECKPOINT_ROOT_MISMATCH']);
    assert.deepEqual(problem(result, 'CHECKPOINT_FORGED').map((p) => p.checkpoint), [cps[1]!.treeSize]);
    assert.equal(result.checkpoints, 2);
    assert.equal(result.latestCheckpoint!.treeSize, cps[2]!.treeSize);
  });

  it('when a checkpoint is given another tree size, then its signature no longer holds: CHECKPOINT_FORGED names the size it claims', async () => {
    const copy = tmp(copyExport(dir, 'size'));
    const cps = readCheckpoints(copy);
    const claimed = cps[0]!.treeSize + 1;
    cps[0] = { ...cps[0]!, treeSize: claimed };
    writeCheckpoints(copy, cps);
    const result = await verifyExportAt(copy);
    assert.deepEqual(problem(result, 'CHECKPOINT_FORGED').map((p) => p.checkpoint), [claimed]);
    assert.ok(problem(result, 'CHECKPOINT_ROOT_MISMATCH').some((p) => p.checkpoint === claimed));
  });

  it('when history is rewritten and every hash after it recomputed, then the chain looks whole but every checkpoint over it fails', async () => {
    const copy = tmp(copyExport(dir, 'rewrite'));
    const lines = readLines(copy);
    const k = 5;
    let prev = JSON.parse(lines[k - 2]!).hash as string;
    for (let i = k - 1; i < lines.length; i++) {
      const { hash: _h, ...record } = JSON.parse(lines[i]!);
      if (i === k - 1) record.payload = { ...record.payload, rewritten: true };
      record.prevHash = prev;
      prev = crypto.createHash('sha256').update(canonicalJson(record)).digest('hex');
      lines[i] = canonicalJson({ ...record, hash: prev });
    }
    writeLines(copy, lines);
    const result = await verifyExportAt(copy);
    assert.deepEqual(kinds(result), ['CHECKPOINT_HEAD_MISMATCH', 'CHECKPOINT_ROOT_MISMATCH']);
    assert.deepEqual(problem(result, 'CHECKPOINT_ROOT_MISMATCH').map((p) => p.checkpoint), checkpoints.map((c) => c.treeSize));

    // and if the platform itself re-signed its latest checkpoint over the rewritten log, the earlier ones expose it
    const cps = readCheckpoints(copy);
    const rewrittenRoot = toHex(rootOf(lines.slice(0, cps[2]!.treeSize).map((l) => leafHash(fromHex(JSON.parse(l).hash)))));
    const last = JSON.parse(lines[cps[2]!.treeSize - 1]!).hash;
    cps[2] = resign({ ...cps[2]!, rootHash: rewrittenRoot, lastEventHash: last }, t.ctx.keys.signer.privateKeyPem);
    writeCheckpoints(copy, cps);
    const again = await verifyExportAt(copy);
    assert.deepEqual(problem(again, 'CHECKPOINTS_INCONSISTENT').map((p) => p.checkpoint), [cps[1]!.treeSize]);
    assert.ok(!again.problems.some((p) => p.checkpoint === cps[2]!.treeSize), 'the re-signed one matches the rewritten log');
  });

  it('when the checkpoints are signed by a certificate the platform root did not issue, then each is untrusted', async () => {
    const copy = tmp(copyExport(dir, 'signer'));
    const rogueCa = createRootCa({ commonName: '伪造根证书', organizationName: 'rogue', countryName: 'CN' }, { notBefore: new Date(t.clock.now().getTime() - DAY_MS), validityDays: 30 });
    const keys = generateRsaKeyPair();
    const serialHex = randomSerialHex();
    const pem = issueCertificate({
      ca: rogueCa, publicKeyPem: keys.publicKeyPem, subject: { commonName: '伪造签章', organizationName: 'rogue', countryName: 'CN' }, usage: 'signing',
      serialHex, notBefore: new Date(t.clock.now().getTime() - DAY_MS), notAfter: new Date(t.clock.now().getTime() + DAY_MS),
    });
    fs.writeFileSync(path.join(copy, 'certificates', 'signer.pem'), pem);
    writeCheckpoints(copy, readCheckpoints(copy).map((c) => resign({ ...c, signerSerial: parseCertificate(pem).serialHex }, keys.privateKeyPem)));
    const result = await verifyExportAt(copy);
    assert.deepEqual(kinds(result), ['CERTIFICATE_INVALID', 'CHECKPOINT_SIGNER_UNTRUSTED']);
    assert.deepEqual(problem(result, 'CHECKPOINT_SIGNER_UNTRUSTED').map((p) => p.checkpoint), checkpoints.map((c) => c.treeSize));
    assert.equal(result.checkpoints, 0);
  });

  describe('as a command', () => {
    function runCli(args: string[]) {
      const env = { ...process.env };
      delete env.DATABASE_URL; // offline: no database is needed or touched
      return runScript('src/cli/audit-verify.ts', args, { env });
    }

    it('when `audit-verify --export DIR` checks the export, then it prints the verdict and exits 0; a tampered copy exits 1 naming the seq', async function () {
      this.timeout(120_000);
      const ok = await runCli(['--export', dir]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /交易日志完整 \(audit log intact\)/);

      const copy = tmp(copyExport(dir, 'cli'));
      const lines = readLines(copy);
      lines[3] = canonicalJson({ ...JSON.parse(lines[3]!), action: 'forged.action' });
      writeLines(copy, lines);
      const bad = await runCli(['--export', copy]);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /✗ EVENT_ALTERED \[seq 4, line 4\] 事件内容被篡改/);
      const json = await runCli(['--export', copy, '--json']);
      assert.equal(json.code, 1);
      const parsed = JSON.parse(json.stdout.trim());
      assert.deepEqual(parsed.problems.map((p: { kind: string; seq: number }) => [p.kind, p.seq]), [['EVENT_ALTERED', 4]]);
    });

    it('when `audit-verify --proof FILE --ca ca.pem` checks a saved proof, then 0 for a true one and 1 for an altered one', async function () {
      this.timeout(120_000);
      const proof = await t.http.get('/api/v1/audit/events/2/proof').set(bearer(regulator.token)).expect(200);
      const folder = tmp(fs.mkdtempSync(path.join(os.tmpdir(), 'gz-audit-proof-')));
      fs.writeFileSync(path.join(folder, 'proof.json'), JSON.stringify(proof.body));
      fs.writeFileSync(path.join(folder, 'bad.json'), JSON.stringify({ ...proof.body, event: { ...proof.body.event, action: 'forged' } }));
      const ca = path.join(dir, 'certificates', 'ca.pem');
      const ok = await runCli(['--proof', path.join(folder, 'proof.json'), '--ca', ca]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /事件 2 在平台签名的检查点/);
      const bad = await runCli(['--proof', path.join(folder, 'bad.json'), '--ca', ca]);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /EVENT_ALTERED/);
    });
  });
});
