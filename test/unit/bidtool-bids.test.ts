/**
 * bidtool pack → encrypt → test-decrypt → submit → verify-receipt, decrypt, unwrap-key and release-share against the
 * real platform, started in-process on a loopback port: the CLI talks to it over HTTP as a bidder's machine would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { UploadHooks } from '../../crypto/cli/commands/bid';
import type { CliWriter } from '../../crypto/cli/context';
import { TransferProgress } from '../../crypto/cli/progress';
import { decryptFile } from '../../crypto/envelope';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { listen, runCli, stopListening, writeKeyDir, type RunResult } from '../support/bidtool-cli';
import { bearer, createCustodianMembers, createMember, tenderBody, uploadDocument, type Member } from '../support/factories';

const ID_NUMBER = '11010519491231002X';
const CREDIT_CODE = '91110000600037341L';

/**
 * A fetch for the upload that lets the request for PATCH number `n` (1-based) through for 64 KiB and then drops
 * the connection, for each n that `fails` picks.
 */
function droppingFetch(fails: (n: number) => boolean): { fetch: typeof fetch; patches: () => number; dropped: () => number } {
  let patches = 0;
  let dropped = 0;
  const wrapped: typeof fetch = async (input, init) => {
    if (init?.method !== 'PATCH') return fetch(input, init);
    patches++;
    if (!fails(patches)) return fetch(input, init);
    dropped++;
    const reader = (init.body as ReadableStream<Uint8Array>).getReader();
    let passed = 0;
    const cut = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (passed >= 64 * 1024) {
          await reader.cancel();
          c.error(new Error('simulated connection drop'));
          return;
        }
        const r = await reader.read();
        if (r.done) return c.close();
        const piece = r.value.subarray(0, 64 * 1024 - passed);
        passed += piece.length;
        c.enqueue(piece);
      },
    });
    return fetch(input, { ...init, body: cut } as RequestInit);
  };
  return { fetch: wrapped, patches: () => patches, dropped: () => dropped };
}

describe('bidtool sealed bids: encrypt, submit, receipts, decrypt, custody (against the platform)', function () {
  this.timeout(120_000);

  let t: TestApp;
  let server: Server;
  let url: string;
  let tmp: string;
  let caPem: string;
  let bidder: Member;
  let custodians: { regulator: Member; operator: Member };
  let tender: { id: string; bidDeadline: string; sections: Array<{ id: string }> };
  let sectionId: string;
  let dir: string;
  let zip: string;

  const run = (args: string[], uploadHooks: UploadHooks = { retryDelayMs: 20 }): Promise<RunResult> =>
    runCli(args, { now: () => t.clock.now(), hooks: uploadHooks, stderrIsTTY: false });

  /** A key directory laid out as `bidtool enrol` + `bidtool login` leave it. */
  const writeDir = (name: string, m: Member): string => writeKeyDir(path.join(tmp, name), m, caPem);

  const file = (name: string) => path.join(tmp, name);

  before(async function () {
    t = await createTestApp('bidtool-bids');
    ({ server, url } = await listen(t));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bidtool-bids-'));
    caPem = (await t.http.get('/api/v1/pki/ca-certificate').expect(200)).text;

    custodians = await createCustodianMembers(t);
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    bidder = await createMember(t, 'bidder');
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
    await uploadDocument(t, agency.token, draft.body.id);
    tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    sectionId = tender.sections[0]!.id;
    dir = writeDir('bidder', bidder);

    // The bid package: a document of random bytes, so the envelope spans several 256 KiB chunks.
    const docs = file('docs');
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, '投标函.txt'), '投标函 PLAINTEXT-MARKER\n');
    fs.writeFileSync(path.join(docs, '技术标.bin'), crypto.randomBytes(1_100_000));
    zip = file('bid.zip');
    const packed = await run([
      'pack', '--tender', tender.id, '--section', sectionId, '--bidder-name', '陕西某某建设集团有限公司', '--credit-code', CREDIT_CODE,
      '--price-fen', '1234567890', '--duration-days', '180', '--quality', '合格', '--pm-name', '张三', '--pm-id', ID_NUMBER,
      '--validity-days', '90', '--author', '李四', '--tool-serial', 'BT-TEST-0001', '--out', zip, '--dir', docs,
    ]);
    assert.equal(packed.code, 0, packed.err);
  });

  after(async function () {
    await stopListening(server);
    if (t) await t.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when encrypting for the tender, then the envelope goes to the opening and own certificates and test-decrypt passes every check', async function () {
    const r = await run(['encrypt', '--in', zip, '--out', file('bid.cms'), '--tender', tender.id, '--server', url, '--dir', dir]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /开标 \/ opening/);
    assert.match(r.out, /加密 \/ encryption/);
    assert.match(r.out, /Recipients \(2\)/);
    assert.equal(r.err, '', 'no warning: both an opening and an encryption recipient');

    const check = await run(['test-decrypt', '--in', file('bid.cms'), '--dir', dir, '--server', url, '--tender', tender.id]);
    assert.equal(check.code, 0, check.err + check.out);
    assert.equal(check.out.match(/✓/g)?.length, 7, check.out);
    assert.doesNotMatch(check.out, /✗/);
    assert.match(check.out, /GCM tag verified/);
    assert.match(check.out, /valid at the opening/);
    assert.match(check.out, /addressed to the tender’s opening certificate/);
    assert.doesNotMatch(check.out + check.err, /PLAINTEXT-MARKER/);
  });

  it('when a recipient is a signing certificate, then encrypt refuses it (exit 2) and writes nothing', async function () {
    const r = await run(['encrypt', '--in', zip, '--out', file('wrong.cms'), '--recipient', path.join(dir, 'signing.cert.pem')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /not an encryption or opening certificate/);
    assert.equal(fs.existsSync(file('wrong.cms')), false);
  });

  it('when the envelope is not sealed to the opening certificate, then test-decrypt shows a ✗ and exits 1', async function () {
    const sealed = await run(['encrypt', '--in', zip, '--out', file('own-only.cms'), '--dir', dir]);
    assert.equal(sealed.code, 0, sealed.err);
    assert.match(sealed.err, /no opening certificate/);
    const check = await run(['test-decrypt', '--in', file('own-only.cms'), '--dir', dir, '--server', url, '--tender', tender.id]);
    assert.equal(check.code, 1);
    assert.match(check.out, /✗ .*NOT addressed to the tender’s opening certificate/);
    assert.match(check.err, /Self-test FAILED: 1 check/);
  });

  it('when submitting in chunks and one chunk drops midway, then it is retried and the receipt is verified and saved', async function () {
    const envelope = file('bid.cms');
    const flaky = droppingFetch((n) => n === 2);
    const r = await run(
      ['submit', '--server', url, '--dir', dir, '--tender', tender.id, '--section', sectionId, '--in', envelope, '--chunk-mib', '0.25'],
      { fetch: flaky.fetch, retryDelayMs: 20 },
    );
    assert.equal(r.code, 0, r.err + r.out);
    assert.equal(flaky.dropped(), 1);
    assert.ok(flaky.patches() >= 6, `several chunks and one resend (${flaky.patches()} requests)`);
    assert.match(r.err, /retrying in/);
    // not a terminal: plain progress lines, about every 10%
    assert.match(r.err, /上传 \/ Upload: +\d+\.\d% .* MiB\/s +剩余 \/ ETA/);
    assert.doesNotMatch(r.err, /\r/);

    assert.match(r.out, /Bid submitted/);
    assert.match(r.out, /Received at: +2026-11-23 09:00:00 \(北京时间 UTC\+8\)/);
    assert.match(r.out, /Audit sequence: +\d+/);
    assert.match(r.out, /Receipt check: +通过 \/ OK/);
    assert.equal(fs.existsSync(`${envelope}.upload.json`), false, 'the state file is removed');
    assert.equal(fs.readFileSync(`${envelope}.回执.pdf`).subarray(0, 5).toString(), '%PDF-');

    const bids = (await t.http.get(`/api/v1/bids?tenderId=${tender.id}`).set(bearer(bidder.token)).expect(200)).body as Array<{ receiptSerial: string; envelopeSha256: string; status: string }>;
    assert.equal(bids.length, 1);
    assert.ok(r.out.includes(bids[0]!.receiptSerial), 'the receipt serial is printed');

    const verified = await run(['verify-receipt', '--in', envelope, '--receipt', `${envelope}.tsr`, '--ca', path.join(dir, 'ca.pem')]);
    assert.equal(verified.code, 0, verified.err);
    assert.match(verified.out, /Time: +2026-11-23 09:00:00 \(北京时间 UTC\+8\)/);
    assert.ok(verified.out.includes(bids[0]!.receiptSerial));
    assert.match(verified.out, /Policy: +2\.25\.\d+\.2\.1（投标文件接收回执/);
    const ossl = execFileSync('openssl', ['ts', '-verify', '-data', envelope, '-in', `${envelope}.tsr`, '-CAfile', path.join(dir, 'ca.pem')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(ossl, /Verification: OK/);

    // the receipt does not fit another envelope
    const other = await run(['verify-receipt', '--in', file('own-only.cms'), '--receipt', `${envelope}.tsr`, '--ca', path.join(dir, 'ca.pem')]);
    assert.equal(other.code, 1);
    assert.match(other.err, /IMPRINT_MISMATCH/);
  });

  it('when a submit is interrupted after the first chunk, then running it again resumes from the server offset and completes', async function () {
    const envelope = file('second.cms');
    assert.equal((await run(['encrypt', '--in', zip, '--out', envelope, '--tender', tender.id, '--server', url, '--dir', dir])).code, 0);
    const args = ['submit', '--server', url, '--dir', dir, '--tender', tender.id, '--section', sectionId, '--in', envelope, '--chunk-mib', '0.25', '--retries', '1'];

    const down = droppingFetch((n) => n > 1);
    const first = await run(args, { fetch: down.fetch, retryDelayMs: 20 });
    assert.equal(first.code, 1, first.err + first.out);
    assert.match(first.err, /run the same command again to resume/);
    const state = JSON.parse(fs.readFileSync(`${envelope}.upload.json`, 'utf8')) as { uploadId: string; tenderId: string };
    assert.equal(state.tenderId, tender.id);
    const status = (await t.http.get(`/api/v1/bid-uploads/${state.uploadId}`).set(bearer(bidder.token)).expect(200)).body;
    assert.equal(status.offset, 256 * 1024);
    assert.equal(status.complete, false);

    const again = await run(args);
    assert.equal(again.code, 0, again.err + again.out);
    assert.match(again.err, new RegExp(`Resuming upload ${state.uploadId} at .* \\(offset ${256 * 1024}\\)`));
    assert.match(again.out, /Supersedes bid/);
    assert.match(again.out, /Receipt check: +通过 \/ OK/);
    assert.equal(fs.existsSync(`${envelope}.upload.json`), false);
    const ok = await run(['verify-receipt', '--in', envelope, '--receipt', `${envelope}.tsr`, '--ca', path.join(dir, 'ca.pem')]);
    assert.equal(ok.code, 0, ok.err);
  });

  it('when signed with sign and the answer to the last chunk is lost, then the receipt is fetched from the platform and verified', async function () {
    const envelope = file('third.cms');
    assert.equal((await run(['encrypt', '--in', zip, '--out', envelope, '--tender', tender.id, '--server', url, '--dir', dir])).code, 0);
    let lost = 0;
    const losing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method !== 'PATCH') return res;
      const body = (await res.clone().json()) as { complete?: boolean };
      if (body.complete !== true) return res;
      lost++;
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    };
    const signed = await run(['sign', '--in', envelope, '--dir', dir]);
    assert.equal(signed.code, 0, signed.err);
    assert.ok(fs.existsSync(`${envelope}.p7s`));
    const plain = await run(['sign', '--in', zip, '--dir', dir, '--out', file('plain.p7s')]);
    assert.equal(plain.code, 2, 'the plaintext package is not signed');
    assert.match(plain.err, /Not a valid envelope/);
    const r = await run(
      ['submit', '--server', url, '--dir', dir, '--tender', tender.id, '--section', sectionId, '--in', envelope, '--signature', `${envelope}.p7s`],
      { fetch: losing, retryDelayMs: 20 },
    );
    assert.equal(r.code, 0, r.err + r.out);
    assert.equal(lost, 1);
    assert.match(r.out, /Receipt check: +通过 \/ OK/);
    const current = ((await t.http.get(`/api/v1/bids?tenderId=${tender.id}`).set(bearer(bidder.token)).expect(200)).body as Array<{ status: string; receiptSerial: string }>)
      .filter((b) => b.status === 'current');
    assert.equal(current.length, 1);
    assert.ok(r.out.includes(current[0]!.receiptSerial));
    const ok = await run(['verify-receipt', '--in', envelope, '--receipt', `${envelope}.tsr`, '--ca', path.join(dir, 'ca.pem')]);
    assert.equal(ok.code, 0, ok.err);
  });

  it('when the token is missing or rejected, then submit says to run bidtool login', async function () {
    const noToken = path.join(tmp, 'no-token');
    fs.mkdirSync(noToken);
    for (const f of ['signing.key.pem', 'signing.cert.pem', 'encryption.key.pem', 'encryption.cert.pem', 'ca.pem']) fs.copyFileSync(path.join(dir, f), path.join(noToken, f));
    const args = ['submit', '--server', url, '--dir', noToken, '--tender', tender.id, '--section', sectionId, '--in', file('bid.cms')];
    const missing = await run(args);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /bidtool login/);
    fs.writeFileSync(path.join(noToken, 'token'), 'not-a-token\n');
    const rejected = await run(args);
    assert.equal(rejected.code, 2);
    assert.match(rejected.err, /TOKEN_INVALID/);
    assert.match(rejected.err, /bidtool login --server/);
  });

  it('when decrypting with the own key, then the package comes back; with another key, exit 1 naming the recipient problem', async function () {
    const r = await run(['decrypt', '--in', file('bid.cms'), '--key', path.join(dir, 'encryption.key.pem'), '--out', file('back.zip')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(fs.readFileSync(file('back.zip')), fs.readFileSync(zip));
    assert.match(r.out, /authentication tag verified/);

    const stranger = writeDir('stranger', custodians.regulator);
    const wrong = await run(['decrypt', '--in', file('bid.cms'), '--key', path.join(stranger, 'encryption.key.pem'), '--out', file('nope.zip')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /NO_MATCHING_RECIPIENT/);
    assert.equal(fs.existsSync(file('nope.zip')), false);
  });

  it('when unwrapping the content key, then the 0600 file it writes opens the envelope with decryptFile', async function () {
    const help = await run(['unwrap-key', '--help']);
    assert.match(help.out, /decryption window/);
    const keyFile = file('content.key');
    const r = await run(['unwrap-key', '--in', file('bid.cms'), '--dir', dir, '--out', keyFile]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /WARNING/);
    if (process.platform !== 'win32') assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const contentKey = Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64');
    assert.equal(contentKey.length, 32);
    assert.ok(!r.out.includes(contentKey.toString('base64')), 'not printed when written to a file');
    await decryptFile(file('bid.cms'), file('by-content-key.zip'), { contentKey });
    assert.deepEqual(fs.readFileSync(file('by-content-key.zip')), fs.readFileSync(zip));

    const printed = await run(['unwrap-key', '--in', file('bid.cms'), '--dir', dir]);
    assert.equal(printed.out.trim(), contentKey.toString('base64'));
  });

  it('when stderr is a terminal, then the progress is one line redrawn in place with percent, MiB/s and ETA', async function () {
    const written: string[] = [];
    const bar = new TransferProgress({ write: (s) => void written.push(s), isTTY: true } as CliWriter, 4 * 1024 * 1024, 'Upload');
    bar.start(0);
    await new Promise((r) => setTimeout(r, 250));
    bar.update(2 * 1024 * 1024);
    bar.note('a note');
    bar.update(4 * 1024 * 1024);
    bar.finish();
    const text = written.join('');
    assert.match(text, /^\r\x1b\[K/);
    assert.match(text, /\r\x1b\[KUpload \[█{12}░{12}\]  50\.0%  2\.0\/4\.0 MiB  \d+\.\d MiB\/s  剩余 \/ ETA \d+ s/);
    assert.match(text, /\r\x1b\[Ka note\n/);
    assert.match(text, /\[█{24}\] 100\.0%  4\.0\/4\.0 MiB .*剩余 \/ ETA 0 s\n$/);
    assert.equal(text.split('\n').length, 3, 'only the note and the end add lines');
  });

  it('when "enroll" is used, then it is the enrol command', async function () {
    const r = await run(['enroll', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /--code <code>/);
  });

  it('when custodians release their shares, then before the deadline it is refused (exit 2) and after it the platform reports 2/2', async function () {
    const regDir = writeDir('regulator', custodians.regulator);
    const opDir = writeDir('operator', custodians.operator);
    const early = await run(['release-share', '--server', url, '--dir', regDir, '--tender', tender.id]);
    assert.equal(early.code, 2, early.err + early.out);
    assert.match(early.err, /CUSTODY_BEFORE_DEADLINE/);
    assert.match(early.err, /before the bid deadline/);

    t.clock.freeze(new Date(tender.bidDeadline));
    await runDueJobs(t);
    for (const d of [regDir, opDir]) {
      const login = await run(['login', '--server', url, '--dir', d]);
      assert.equal(login.code, 0, login.err);
    }
    const first = await run(['release-share', '--server', url, '--dir', regDir, '--tender', tender.id]);
    assert.equal(first.code, 0, first.err + first.out);
    assert.match(first.out, /Released: 1\/2/);
    const second = await run(['release-share', '--server', url, '--dir', opDir, '--tender', tender.id]);
    assert.equal(second.code, 0, second.err + second.out);
    assert.match(second.out, /Released: 2\/2（共 3 个保管单位 \/ of 3 custodians）/);
    assert.match(second.out, /Threshold reached/);

    const regToken = fs.readFileSync(path.join(regDir, 'token'), 'utf8').trim();
    const status = await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(regToken)).expect(200);
    assert.equal(status.body.custodians.filter((c: { released: boolean }) => c.released).length, 2);
    const again = await run(['release-share', '--server', url, '--dir', opDir, '--tender', tender.id]);
    assert.equal(again.code, 2);
    assert.match(again.err, /SHARE_ALREADY_RELEASED/);
  });
});
