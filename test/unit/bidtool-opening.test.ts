/**
 * A whole online opening (不见面开标) with the bidders on bidtool — pack, encrypt, submit, sign-in, post-key, hall,
 * confirm, object — and the agency on the HTTP API, against the real platform listening on a loopback port, with
 * the test clock moved through the deadline, the decryption window, the confirmation and the objection periods.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { toChineseCapital } from '../../src/shared/chinese-amount';
import { MINUTE_MS } from '../../src/shared/clock';
import { formatYuan } from '../../src/shared/money';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { listen, runCli, stopListening, writeKeyDir, type RunResult } from '../support/bidtool-cli';
import { bearer, bufferBody, createCustodianMembers, createMember, idNumber, refresh, type Member } from '../support/factories';
import { world } from '../support/opening-world';

interface Bidder {
  member: Member;
  name: string;
  dir: string;
  envelope: string;
  priceFen: number;
  bidId: string;
}

describe('bidtool at the online opening: sign-in, post-key, hall, confirm, object (against the platform)', function () {
  this.timeout(180_000);

  let t: TestApp;
  let server: Server;
  let url: string;
  let tmp: string;
  let caPem: string;
  let w: Awaited<ReturnType<typeof world>>;
  const bidders: Bidder[] = [];
  const prices = [1_180_000_000, 1_165_432_150, 1_199_900_007];

  const run = (args: string[]): Promise<RunResult> => runCli(args, { now: () => t.clock.now(), hooks: { retryDelayMs: 20 } });

  /** A key directory laid out as `bidtool enrol` + `bidtool login` leave it. */
  const writeDir = (name: string, m: Member): string => writeKeyDir(path.join(tmp, name), m, caPem);

  /** The clock moved: everyone logs in again (bidders as `bidtool login` would, into DIR/token). */
  async function relogin(): Promise<void> {
    await refresh(t, w.agency, w.tenderer, ...bidders.map((b) => b.member));
    for (const b of bidders) fs.writeFileSync(path.join(b.dir, 'token'), b.member.token + '\n', { mode: 0o600 });
  }

  async function moveClock(ms: number): Promise<void> {
    t.clock.freeze(new Date(t.clock.now().getTime() + ms));
    await runDueJobs(t);
    await relogin();
  }

  const common = (b: Bidder) => ['--server', url, '--dir', b.dir, '--tender', w.tender.id];
  const hallOf = async (token: string) => (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(token)).expect(200)).body;

  before(async function () {
    t = await createTestApp('bidtool-opening');
    ({ server, url } = await listen(t));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bidtool-opening-'));
    caPem = (await t.http.get('/api/v1/pki/ca-certificate').expect(200)).text;
    await createCustodianMembers(t);
    // the published tender only: the bids come from bidtool below
    w = await world(t, []);
  });

  after(async function () {
    await stopListening(server);
    if (t) await t.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when three bidders pack, encrypt for the tender and submit with bidtool, then each has a current bid', async function () {
    for (const [i, priceFen] of prices.entries()) {
      const member = await createMember(t, 'bidder');
      const org = (await t.http.get(`/api/v1/organisations/${member.orgId}`).set(bearer(member.token)).expect(200)).body;
      const dir = writeDir(`bidder${i + 1}`, member);
      const docs = path.join(tmp, `docs${i + 1}`);
      fs.mkdirSync(docs);
      fs.writeFileSync(path.join(docs, '投标函.txt'), `${org.name} 投标函\n`);
      const zip = path.join(tmp, `bid${i + 1}.zip`);
      const packed = await run([
        'pack', '--tender', w.tender.id, '--section', w.sectionId, '--bidder-name', org.name, '--credit-code', org.creditCode,
        '--organisation-id', member.orgId, '--price-fen', String(priceFen), '--duration-days', '365', '--quality', '合格',
        '--pm-name', `项目经理${i + 1}`, '--pm-id', idNumber(i + 1), '--validity-days', '90', '--author', member.username,
        '--tool-serial', `BT-OPEN-${i + 1}`, '--out', zip, '--dir', docs,
      ]);
      assert.equal(packed.code, 0, packed.err);
      const envelope = path.join(tmp, `bid${i + 1}.cms`);
      const sealed = await run(['encrypt', '--in', zip, '--out', envelope, '--tender', w.tender.id, '--server', url, '--dir', dir]);
      assert.equal(sealed.code, 0, sealed.err + sealed.out);
      const b: Bidder = { member, name: org.name, dir, envelope, priceFen, bidId: '' };
      const submitted = await run(['submit', ...common(b), '--section', w.sectionId, '--in', envelope]);
      assert.equal(submitted.code, 0, submitted.err + submitted.out);
      b.bidId = /Bid id: +([0-9a-f-]{36})/.exec(submitted.out)?.[1] ?? '';
      assert.ok(b.bidId, submitted.out);
      bidders.push(b);
    }
  });

  it('when the deadline passes and bidders sign in with bidtool, then the hall lists them and a key before the window is refused (exit 2)', async function () {
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await relogin();
    for (const b of bidders.slice(0, 2)) {
      const r = await run(['sign-in', ...common(b)]);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /签到成功 \/ Signed in/);
      assert.match(r.out, /签到中 \/ signing in/);
    }
    const early = await run(['post-key', ...common(bidders[0]!), '--in', bidders[0]!.envelope]);
    assert.equal(early.code, 2, early.err + early.out);
    assert.match(early.err, /DECRYPTION_WINDOW_NOT_OPEN/);
    assert.match(early.err, /wait for the host/);
    assert.equal((await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id })).length, 0, 'no key was kept');
    const critical = await t.ctx.db('audit_events').where({ action: 'opening.early-key', tender_id: w.tender.id });
    assert.equal(critical.length, 1);

    const hall = await run(['hall', ...common(bidders[0]!)]);
    assert.equal(hall.code, 0, hall.err);
    assert.match(hall.out, /Signed in \(2\)/);
    assert.match(hall.out, /Server time: +2026-12-23 09:00:00 \(北京时间 UTC\+8\)/);
    for (const b of bidders.slice(0, 2)) assert.ok(hall.out.includes(b.name), b.name);
  });

  it('when the host opens the window, then bidtool post-key hands over each key — after sign-in only — and the bids are decrypted', async function () {
    const started = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
    assert.equal(started.body.state, 'decrypting');

    const [a, b, c] = bidders as [Bidder, Bidder, Bidder];
    const notSignedIn = await run(['post-key', ...common(c), '--in', c.envelope]);
    assert.equal(notSignedIn.code, 2, notSignedIn.err + notSignedIn.out);
    assert.match(notSignedIn.err, /NOT_SIGNED_IN/);
    assert.match(notSignedIn.err, /bidtool sign-in/);
    assert.equal((await run(['sign-in', ...common(c)])).code, 0);

    const hall = await run(['hall', ...common(a)]);
    assert.match(hall.out, /解密中 \/ decrypting/);
    assert.match(hall.out, /剩余 \/ remaining 30 分 00 秒 \/ 30 min 00 s/);
    assert.match(hall.out, /Signed in \(3\)/);

    // one by --bid, the others found on the platform by the envelope's SHA-256
    const byId = await run(['post-key', ...common(a), '--in', a.envelope, '--bid', a.bidId]);
    assert.equal(byId.code, 0, byId.err + byId.out);
    for (const x of [b, c]) {
      const r = await run(['post-key', ...common(x), '--in', x.envelope]);
      assert.equal(r.code, 0, r.err + r.out);
      assert.ok(r.out.includes(x.bidId), r.out);
      assert.match(r.out, /key-received/);
    }
    await runDueJobs(t);
    const rows = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id });
    assert.deepEqual(rows.map((r) => r.status), ['decrypted', 'decrypted', 'decrypted']);
  });

  it('when the window closes, then a late key is refused, bidtool hall shows 唱标 and the readings list the three prices', async function () {
    await moveClock(30 * MINUTE_MS);
    const late = await run(['post-key', ...common(bidders[0]!), '--in', bidders[0]!.envelope]);
    assert.equal(late.code, 2);
    assert.match(late.err, /DECRYPTION_WINDOW_CLOSED/);

    const hall = await run(['hall', ...common(bidders[1]!)]);
    assert.equal(hall.code, 0, hall.err);
    assert.match(hall.out, /唱标、确认中 \/ announcing/);
    assert.match(hall.out, /Window ends: .*（已结束 \/ over）/);
    assert.match(hall.out, /valid bids 3/);
    assert.match(hall.out, /Confirm until: .*remaining 10 分 00 秒/);

    const readings = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/readings`).set(bearer(w.agency.token)).expect(200)).body as Array<{ bidId: string; totalPriceFen: number; outcome: string }>;
    assert.equal(readings.length, 3);
    for (const b of bidders) {
      const r = readings.find((x) => x.bidId === b.bidId)!;
      assert.equal(r.outcome, 'decrypted');
      assert.equal(r.totalPriceFen, b.priceFen);
    }
    const shown = await run(['readings', ...common(bidders[2]!)]);
    assert.equal(shown.code, 0, shown.err);
    for (const b of bidders) assert.ok(shown.out.includes(`${formatYuan(b.priceFen)} 元`), shown.out);
  });

  it('when a bidder confirms and another objects with bidtool, then the agency answers and publishes the record with the names and prices', async function () {
    const [a, b] = bidders as [Bidder, Bidder];
    const confirmed = await run(['confirm', ...common(a), '--kind', 'confirmed']);
    assert.equal(confirmed.code, 0, confirmed.err);
    const badKind = await run(['confirm', ...common(a), '--kind', 'maybe']);
    assert.equal(badKind.code, 2);
    const text = '第二投标人报价的唱读有误，请核对。';
    const objected = await run(['object', ...common(b), '--text', text]);
    assert.equal(objected.code, 0, objected.err + objected.out);
    const objectionId = /Objection id: ([0-9a-f-]{36})/.exec(objected.out)?.[1];
    assert.ok(objectionId, objected.out);

    await moveClock(10 * MINUTE_MS); // confirmations close: silence is acceptance
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/objections/${objectionId}/answer`).set(bearer(w.agency.token))
      .send({ answer: '经核对，唱标价与投标文件一致。' }).expect(200);
    await moveClock(15 * MINUTE_MS + 1000); // the objection period is over
    const tooLate = await run(['object', ...common(a), '--text', '再提一条异议。']);
    assert.equal(tooLate.code, 2);
    assert.match(tooLate.err, /OBJECTION_WINDOW_CLOSED/);

    const recorded = await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/record`).set(bearer(w.agency.token)).expect(200);
    assert.equal(recorded.body.state, 'recorded');
    const hall = await hallOf(a.member.token);
    assert.equal(hall.state, 'recorded');

    const pdf = (await t.http.get(`/api/v1/tenders/${w.tender.id}/opening/record.pdf`).set(bearer(a.member.token))
      .buffer(true).parse(bufferBody)
      .expect(200)).body as Buffer;
    const file = path.join(tmp, 'record.pdf');
    fs.writeFileSync(file, pdf);
    const compact = execFileSync('pdftotext', ['-layout', file, '-']).toString().replace(/\s+/g, '');
    for (const x of bidders) {
      assert.ok(compact.includes(x.name), `${x.name} in the record`);
      assert.ok(compact.includes(formatYuan(x.priceFen)), `${formatYuan(x.priceFen)} in the record`);
      assert.ok(compact.includes(toChineseCapital(x.priceFen)), `${toChineseCapital(x.priceFen)} in the record`);
    }
    assert.ok(compact.includes('壹仟壹佰捌拾万元整'));
    assert.ok(compact.includes(text.replace(/\s+/g, '')), 'the objection is on the record');
  });
});
