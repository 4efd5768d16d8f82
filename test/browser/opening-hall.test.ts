/**
 * A whole remote opening (不见面开标) in the browser: an agency page hosting, three bidder pages taking part at
 * once — one decrypting its bid in the page with WebCrypto, two handing their keys over as bidtool does — through
 * 唱标, confirmation, an objection answered live and the published record. Along the way: the live feed survives a
 * dropped connection without losing or repeating an event, and no page shows what its organisation may not see.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, refresh } from '../support/factories';
import { keyBody, postKey, world } from '../support/opening-world';
import { closeAll, accessibilityProblems, horizontalOverflow, launchBrowser, openPage, screenshot, serve, signIn, type Site, type WatchedPage } from './browser';

const yuanText = (fen: number) => `¥${(fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;

async function feedSeqs(page: Page): Promise<number[]> {
  return page.locator('[data-testid="feed"] li').evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-seq'))));
}

describe('browser: the opening hall with three bidders and the host at once', function () {
  this.timeout(240_000);
  let t: TestApp;
  let site: Site;
  let browser: Browser;
  let w: Awaited<ReturnType<typeof world>>;
  let host: WatchedPage;
  let bidders: WatchedPage[];
  const prices = [1_180_000_000, 1_165_432_100, 1_199_900_000];
  const hallPath = () => `/hall/${w.tender.id}`;
  const api = (token: string, p: string) => t.http.get(`/api/v1/tenders/${w.tender.id}/opening${p}`).set(bearer(token));

  before(async () => {
    // browser sessions must outlive the minutes the test moves the platform clock through
    t = await createTestApp('browser_hall', { config: { tokenTtlSeconds: 86_400 } });
    await createCustodianMembers(t);
    w = await world(t, prices);
    // everyone comes to the hall ten minutes before the deadline
    t.clock.freeze(new Date(new Date(w.tender.bidDeadline).getTime() - 10 * 60_000));
    await refresh(t, w.agency, ...w.entries.map((e) => e.member));
    site = await serve(t);
    browser = await launchBrowser();
    host = await openPage(browser);
    bidders = await Promise.all(w.entries.map(() => openPage(browser)));
    await Promise.all([signIn(host, site.base, w.agency, hallPath()), ...w.entries.map((e, i) => signIn(bidders[i], site.base, e.member, hallPath()))]);
    for (const p of [host, ...bidders]) p.page.on('dialog', (d) => void d.accept());
  });
  after(async () => {
    await closeAll(browser, site, t);
  });

  it('before the deadline says when the opening begins, and becomes the hall by itself when it does', async () => {
    for (const { page } of [host, ...bidders]) {
      await page.getByRole('heading', { name: /开标尚未开始/ }).waitFor();
      assert.match((await page.getByTestId('opening-countdown').textContent()) ?? '', /^(10 分 00 秒|09 分 \d\d 秒)$/);
    }
    await bidders[0].page.getByText('请提前准备').waitFor();
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await refresh(t, w.agency, ...w.entries.map((e) => e.member));
    for (const { page } of [host, ...bidders]) await page.getByTestId('hall-state').getByText('签到中').waitFor();
  });

  it('shows every participant the hall: state, platform time in Beijing time, countdowns, live link', async () => {
    for (const { page } of [host, ...bidders]) {
      assert.equal(new URL(page.url()).pathname, hallPath());
      await page.getByTestId('hall-state').getByText('签到中').waitFor();
      await page.getByTestId('live-state').getByText('实时连接').waitFor();
      // the browser runs in New York; the hall shows the platform's Beijing time (deadline 09:00 on day 30)
      const deadline = new Date(w.tender.bidDeadline);
      const beijing = new Date(deadline.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
      assert.match((await page.getByTestId('server-time').textContent()) ?? '', new RegExp(beijing));
      assert.match((await page.getByTestId('cd-deadline').textContent()) ?? '', /已截止/);
    }
    assert.ok(await host.page.getByRole('heading', { name: new RegExp(w.tender.name) }).isVisible());
  });

  it('lets each bidder sign in from its page, and everyone sees the sign-ins live', async () => {
    for (const [i, b] of bidders.entries()) {
      await b.page.getByRole('button', { name: '签到 / Sign in to the opening' }).click();
      await b.page.getByText('本单位已签到').waitFor();
      await host.page.getByTestId('participants').getByText(w.entries[i].member.username.length ? /./ : /./).first().waitFor();
    }
    await host.page.locator('[data-testid="participants"] tbody tr').nth(2).waitFor();
    const names = await host.page.getByTestId('participants').locator('tbody tr').allTextContents();
    assert.equal(names.length, 3);
    await bidders[2].page.locator('[data-testid="participants"] tbody tr').nth(2).waitFor();
  });

  it('the host starts the decryption; one bidder decrypts in its page, two with their own tool; progress fills in', async () => {
    await host.page.getByRole('button', { name: '开始解密 / Start the decryption' }).click();
    for (const { page } of [host, ...bidders]) await page.getByTestId('hall-state').getByText('解密中').waitFor();
    assert.match((await host.page.getByTestId('cd-decryption').textContent()) ?? '', /剩余 30 分 00 秒|剩余 29 分/);

    // the host pauses (a bidder's line is down, say): every page shows it and no key can be handed over meanwhile
    await host.page.getByRole('button', { name: '暂停开标 / Pause' }).click();
    for (const { page } of bidders) {
      await page.getByText('主持人已暂停 / paused').waitFor();
      assert.equal(await page.getByTestId('decrypt-form').count(), 0);
    }
    await host.page.getByRole('button', { name: '恢复开标 / Resume' }).click();
    for (const { page } of bidders) await page.getByTestId('decrypt-form').waitFor();

    // bidder A: key files and its sealed bid, in the page
    const a = w.entries[0];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-browser-bid-'));
    const envelope = path.join(dir, 'bid.cms');
    fs.writeFileSync(envelope, a.sealed.envelope);
    const { keyFolder } = await import('./browser');
    const page = bidders[0].page;
    const requests: Array<{ url: string; body: string }> = [];
    page.on('request', (r) => requests.push({ url: r.url(), body: r.postData() ?? '' }));
    const form = page.getByTestId('decrypt-form');
    await form.getByLabel('密钥文件 / Key files').setInputFiles(keyFolder(a.member));
    await form.getByLabel(/投标文件数字信封/).setInputFiles(envelope);
    await form.getByRole('button', { name: /在本机解密并提交密钥/ }).click();
    await page.getByText('解密密钥已提交').waitFor();
    fs.rmSync(dir, { recursive: true });

    // what left the page: one content-key request; the private keys and the bid never did
    const keyPosts = requests.filter((r) => r.url.includes('/content-key'));
    assert.equal(keyPosts.length, 1);
    assert.ok(keyPosts[0].url.includes(a.bidId));
    // lines from the second half of each PEM: the private exponent and primes (the first lines hold the public
    // modulus, which the signature's certificate carries too)
    const secretLines = [a.member.encryptionKeys.privateKeyPem, a.member.signingKeys.privateKeyPem].flatMap((pem) => {
      const lines = pem.trim().split('\n').slice(1, -1);
      return lines.slice(Math.floor(lines.length / 2), -1);
    });
    const leaks = requests.filter((r) => secretLines.some((line) => r.body.includes(line)));
    assert.deepEqual(leaks.map((r) => r.url), [], 'a private key left the page');
    assert.ok(requests.every((r) => r.body.length < 10_000), 'the bid was uploaded from the hall');

    // B hands over its key with the bidder's tool while the other pages' live links are cut: they reconnect and
    // replay what they missed
    site.dropConnections();
    for (const e of w.entries.slice(1)) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);
    await runDueJobs(t);
    for (const { page: p } of [host, ...bidders]) {
      await p.locator('[data-testid="decrypt-progress"][value="3"]').waitFor();
      await p.getByTestId('live-state').getByText('实时连接').waitFor();
    }
    await bidders[0].page.getByTestId('my-bids').getByText('已解密').waitFor();
    // before 唱标 no price is on any page
    for (const { page: p } of [host, ...bidders]) {
      const text = (await p.locator('main').textContent()) ?? '';
      for (const fen of prices) assert.ok(!text.includes(yuanText(fen)), 'a price was shown before the reading');
    }
  });

  it('reads the prices out (唱标) to all at once; bidders confirm or object; the host answers live', async () => {
    const view = (await api(w.agency.token, '').expect(200)).body;
    t.clock.freeze(new Date(new Date(view.decryptionEndsAt).getTime() + 1000));
    await runDueJobs(t);
    for (const { page } of [host, ...bidders]) {
      await page.getByTestId('hall-state').getByText('唱标').waitFor();
      for (const fen of prices) await page.getByTestId('readings').getByText(yuanText(fen)).waitFor();
    }
    for (const { page } of [host, ...bidders]) assert.deepEqual(await accessibilityProblems(page), []);
    await bidders[0].page.getByRole('button', { name: '确认唱标结果 / Confirm' }).click();
    await bidders[0].page.getByText('已确认 / confirmed').waitFor();
    await bidders[1].page.getByRole('button', { name: '有异议 / Dispute' }).click();
    await bidders[1].page.getByText('已表示有异议').waitFor();
    await bidders[1].page.getByLabel(/对开标提出异议/).fill('第2名投标人的工期与投标文件不一致，请核对。');
    await bidders[1].page.getByRole('button', { name: '提交异议 / Submit' }).click();

    // the host sees it live and answers on the record
    await host.page.getByTestId('objections').getByText('工期与投标文件不一致').waitFor();
    await host.page.getByLabel('答复 / Answer').fill('已当场核对，工期与投标文件一致，异议不成立。');
    await host.page.getByRole('button', { name: '答复并记录 / Answer' }).click();
    for (const { page } of bidders) await page.getByTestId('objections').getByText('异议不成立').waitFor();
    const confirmations = (await api(w.agency.token, '/readings').expect(200)).body.map((r: { confirmation: string }) => r.confirmation).sort();
    assert.deepEqual(confirmations, [null, 'confirmed', 'disputed'].sort());
  });

  it('publishes the signed record; the host and the bidders download it; the feed lost and repeated nothing', async () => {
    let view = (await api(w.agency.token, '').expect(200)).body;
    t.clock.freeze(new Date(new Date(view.confirmationEndsAt).getTime() + 1000));
    await runDueJobs(t);
    view = (await api(w.agency.token, '').expect(200)).body;
    assert.equal(view.state, 'objections');
    t.clock.freeze(new Date(new Date(view.objectionEndsAt).getTime() + 1000));
    await host.page.getByTestId('hall-state').getByText('异议期').waitFor();
    await host.page.getByRole('button', { name: '发布开标记录表 / Publish the record' }).click();
    for (const { page } of [host, ...bidders]) await page.getByTestId('hall-state').getByText('已形成开标记录').waitFor();

    const [download] = await Promise.all([bidders[2].page.waitForEvent('download'), bidders[2].page.getByRole('button', { name: /下载开标记录表 PDF/ }).click()]);
    const file = await download.path();
    assert.equal(fs.readFileSync(file).subarray(0, 4).toString(), '%PDF');

    await screenshot(host.page, 'opening-hall-host');
    await screenshot(bidders[0].page, 'opening-hall-bidder');
    for (const { page } of [host, ...bidders]) assert.deepEqual(await accessibilityProblems(page), []);

    const last = Number((await t.ctx.db('live_events').where({ tender_id: w.tender.id }).max({ m: 'seq' }).first())?.m);
    for (const { page } of [host, ...bidders]) {
      await page.locator(`[data-testid="feed"] li[data-seq="${last}"]`).waitFor();
      const seqs = (await feedSeqs(page)).sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1), 'the feed lost or repeated an event');
    }
  });

  it("showed no bidder another's private data, and no page hit an error", async () => {
    for (const [i, b] of bidders.entries()) {
      const html = await b.page.content();
      for (const [j, other] of w.entries.entries()) {
        if (j === i) continue;
        assert.ok(!html.includes(other.bidId), `bidder ${i} sees bidder ${j}'s bid id`);
        assert.ok(!html.includes(other.member.username), `bidder ${i} sees bidder ${j}'s user`);
      }
    }
    // a phone can follow the hall too
    await bidders[0].page.setViewportSize({ width: 390, height: 844 });
    await screenshot(bidders[0].page, 'opening-hall-phone');
    const overflow = await horizontalOverflow(bidders[0].page);
    assert.ok(overflow <= 1, `the hall scrolls sideways on a phone by ${overflow}px`);
    for (const p of [host, ...bidders]) assert.deepEqual(p.problems, []);
  });
});
