import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { MINUTE_MS } from '../../src/shared/clock';
import { yuan } from '../../src/web/client/lib/format';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { bearer, bidPackage, createCustodianMembers, createMember, refresh, sealBid, submitBid, type Member } from '../support/factories';
import { keyBody, postKey, type Entry } from '../support/opening-world';
import { closeAll, accessibilityProblems, launchBrowser, openPage, screenshot, serve, signIn, type WatchedPage } from './browser';

/** The agency console driven as a person does: by labels and buttons; the bidders and the opening through the API. */
describe('browser: the agency console', function () {
  this.timeout(180_000);
  let t: TestApp;
  let browser: Browser;
  let site: { base: string; close(): Promise<void> };
  let wp: WatchedPage;
  let agency: Member;
  let otherAgency: Member;
  let tenderer: Member;
  let tenderId: string;
  let bidderNames: string[];
  const entries: Entry[] = [];
  const NAME = '渭南市临渭区第二中学实验楼建设工程';
  // the second bidder offers the lowest price and is ranked first
  const prices = [1_180_000_000, 1_150_000_000, 1_199_900_000];

  const orgName = async (m: Member) => (await t.http.get(`/api/v1/organisations/${m.orgId}`).set(bearer(agency.token)).expect(200)).body.name as string;
  const mainText = async () => (await wp.page.locator('main').textContent()) ?? '';
  const all = () => [agency, otherAgency, tenderer, ...entries.map((e) => e.member)];

  /** Moves platform time, runs what fell due, and signs everyone in again (tokens live 15 platform minutes). */
  async function moveClock(to: Date): Promise<void> {
    t.clock.freeze(to);
    await runDueJobs(t);
    await refresh(t, ...all());
  }

  /** After the clock moved the tab's token is stale: sign out, as a person would, and in again. */
  async function signInAgain(next: string): Promise<void> {
    await wp.page.getByRole('button', { name: '退出登录 / Sign out' }).click();
    await wp.page.waitForURL((url) => url.pathname === '/');
    await signIn(wp, site.base, agency, next);
  }

  before(async () => {
    t = await createTestApp('browser_agency');
    await createCustodianMembers(t);
    agency = await createMember(t, 'agency');
    otherAgency = await createMember(t, 'agency');
    tenderer = await createMember(t, 'tenderer');
    site = await serve(t);
    browser = await launchBrowser();
    wp = await openPage(browser);
  });
  after(async () => {
    await closeAll(browser, site, t);
  });

  it('creates a tender with one section through the form, is told the rule it broke, uploads the document and publishes', async () => {
    const { page } = wp;
    await signIn(wp, site.base, agency);
    assert.equal(new URL(page.url()).pathname, '/agency');
    await page.getByText('还没有项目').waitFor();
    await page.getByRole('link', { name: '新建项目 / New tender' }).click();

    await page.getByLabel('项目名称 / Tender name').fill(NAME);
    await page.getByLabel('招标类型 / Type').selectOption('construction');
    await page.getByLabel('招标人 / Tenderer').selectOption({ label: await orgName(tenderer) });
    await page.getByLabel('地区 / Region').fill('陕西省渭南市');
    await page.getByLabel('标段 1 名称').fill('第一标段：土建及安装工程');
    // yuan with cents: 2% of ¥12,000,000.50 is exactly ¥240,000.01, which must pass (no float rounding on the way)
    await page.getByLabel('标段 1 估算价（元）').fill('12,000,000.50');
    await page.getByLabel('标段 1 投标保证金（元）').fill('240000.01');
    // 2026-11-23 is the day of issue at the earliest: a deadline 8 days later breaks the 20 days of TL 24
    await page.getByLabel('投标截止时间（北京时间） / Bid deadline (Beijing time)').fill('2026-12-01T09:30');
    await page.getByRole('button', { name: '保存草稿 / Save draft' }).click();
    const refusal = page.getByRole('form', { name: '新建项目 / New tender' }).getByRole('alert');
    await refusal.getByText('DEADLINE_TOO_CLOSE').waitFor();
    assert.match((await refusal.textContent()) ?? '', /不得少于二十日.*2026-12-13/);

    await page.getByLabel('投标截止时间（北京时间） / Bid deadline (Beijing time)').fill('2026-12-14T09:30');
    await page.getByRole('button', { name: '保存草稿 / Save draft' }).click();
    await page.waitForURL(/#tender\//);
    tenderId = new URL(page.url()).hash.replace('#tender/', '');
    await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    const sections = await page.getByTestId('sections').textContent();
    assert.match(sections ?? '', /¥12,000,000\.50/);
    assert.match(sections ?? '', /¥240,000\.01/);
    const stored = (await t.http.get(`/api/v1/tenders/${tenderId}`).set(bearer(agency.token)).expect(200)).body;
    assert.deepEqual([stored.sections[0].estimatedPriceFen, stored.sections[0].depositFen], [1_200_000_050, 24_000_001]);
    assert.equal(stored.bidDeadline, '2026-12-14T01:30:00.000Z');

    // publishing waits for the document
    assert.equal(await page.getByRole('button', { name: '发布招标项目 / Publish' }).isDisabled(), true);
    await page.getByLabel('招标文件 / Tender document').setInputFiles({ name: '招标文件.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 招标文件\n') });
    await page.getByRole('button', { name: '上传 / Upload' }).click();
    await page.getByTestId('documents').getByText('招标文件.pdf', { exact: true }).waitFor();

    await page.getByRole('button', { name: '发布招标项目 / Publish' }).click();
    const dialog = page.getByRole('dialog', { name: '确认发布？ · Publish this tender?' });
    assert.match((await dialog.textContent()) ?? '', /开标密钥.*拆分/);
    await dialog.getByRole('button', { name: '确认发布 / Publish' }).click();
    await page.getByText('投标中 / Open for bids').waitFor();
    const published = (await t.http.get(`/api/v1/tenders/${tenderId}`).set(bearer(agency.token)).expect(200)).body;
    assert.equal(published.status, 'published');

    await page.getByRole('link', { name: '← 返回项目列表 / Back to my tenders' }).click();
    await page.getByTestId('tender-list').getByRole('link', { name: NAME, exact: true }).waitFor();
  });

  it('issues a clarification 10 days before the deadline and shows the deadline moved from the old to the new one', async () => {
    const { page } = wp;
    await moveClock(new Date('2026-12-04T01:00:00Z'));
    await signInAgain(`/agency#tender/${tenderId}`);
    await page.getByLabel('澄清标题 / Title').fill('关于实验楼基础形式的澄清');
    await page.getByLabel('澄清内容 / Content').fill('基础形式由独立基础调整为筏板基础，工程量清单相应调整。');
    assert.equal(await page.getByLabel('可能影响投标文件编制 / May affect bid preparation').isChecked(), true);
    await page.getByRole('button', { name: '发布澄清 / Issue clarification' }).click();
    // TLR 21: 15 days must remain, so 2026-12-14 09:30 becomes 2026-12-19 09:30 (Beijing)
    const row = page.getByTestId('clarifications').getByRole('row').filter({ hasText: '关于实验楼基础形式的澄清' });
    await row.getByText('截止顺延 / Postponed').waitFor();
    assert.match((await row.textContent()) ?? '', /2026-12-14 09:30:00\s*→\s*2026-12-19 09:30:00/);
    assert.equal(await page.getByTestId('bid-deadline').textContent(), '2026-12-19 09:30:00');
    await page.getByText('投标截止时间顺延：2026-12-14 09:30:00 → 2026-12-19 09:30:00').waitFor();
  });

  it('shows how many bids came in, and never who sent them', async () => {
    const { page } = wp;
    const tender = (await t.http.get(`/api/v1/tenders/${tenderId}`).set(bearer(agency.token)).expect(200)).body;
    const openingCert = (await t.http.get(`/api/v1/tenders/${tenderId}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;
    const sectionId = tender.sections[0].id;
    for (const [i, priceFen] of prices.entries()) {
      const member = await createMember(t, 'bidder');
      const sealed = await sealBid(t, member, openingCert, await bidPackage(t, member, tender, sectionId, { totalPriceFen: priceFen, seed: i + 1 }));
      const res = await submitBid(t, member, tenderId, sectionId, sealed);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      entries.push({ member, sealed, bidId: res.body.submission.bid.id, priceFen });
    }
    bidderNames = await Promise.all(entries.map((e) => orgName(e.member)));

    await page.getByRole('button', { name: '刷新 / Refresh' }).click();
    await page.getByTestId('bid-counts').getByRole('cell', { name: '3', exact: true }).waitFor();
    const text = await mainText();
    for (const [i, name] of bidderNames.entries()) {
      assert.ok(!text.includes(name), `the page names bidder ${name}`);
      assert.ok(!text.includes(entries[i].member.username), 'the page names a bidder user');
      assert.ok(!text.includes(entries[i].bidId), 'the page shows a bid id');
      assert.ok(!text.includes(yuan(entries[i].priceFen)), 'the page shows a price');
    }
    await screenshot(page, 'agency-console');
    assert.deepEqual(await accessibilityProblems(page), []);
  });

  it('after the opening is recorded, records the evaluation, the publicity, the award (PDF) and the contract through the page', async () => {
    const { page } = wp;
    // the opening, through the API as the hall would run it (test/api/award.test.ts)
    const hall = `/api/v1/tenders/${tenderId}/opening`;
    await moveClock(new Date('2026-12-19T01:30:00Z'));
    for (const e of entries) await t.http.post(`${hall}/sign-in`).set(bearer(e.member.token)).expect(200);
    await t.http.post(`${hall}/start-decryption`).set(bearer(agency.token)).expect(200);
    for (const e of entries) await postKey(t, tenderId, e, await keyBody(e, t)).expect(202);
    await runDueJobs(t);
    for (const minutes of [30, 10, 15]) await moveClock(new Date(t.clock.now().getTime() + minutes * MINUTE_MS));
    const recorded = await t.http.post(`${hall}/record`).set(bearer(agency.token));
    assert.equal(recorded.status, 200, JSON.stringify(recorded.body));

    await signInAgain(`/agency#tender/${tenderId}`);
    await page.getByRole('link', { name: '进入开标大厅 / Go to the opening hall' }).waitFor();
    assert.equal(await page.getByRole('link', { name: '进入开标大厅 / Go to the opening hall' }).getAttribute('href'), `/hall/${tenderId}`);
    await page.getByLabel('评标报告 / Evaluation report').fill('评标委员会按综合评估法评审，推荐中标候选人三名。');
    const option = (i: number) => ({ label: `${bidderNames[i]} — ${yuan(prices[i])}` });
    await page.getByLabel('第 1 名中标候选人').selectOption(option(1));
    await page.getByLabel('第 2 名中标候选人').selectOption(option(0));
    await page.getByLabel('第 3 名中标候选人').selectOption(option(2));
    await page.getByRole('button', { name: '保存评标结果 / Save evaluation' }).click();
    const candidates = page.getByTestId('candidates-1');
    await candidates.waitFor();
    assert.ok(((await candidates.textContent()) ?? '').includes(`第 1 名${bidderNames[1]}${yuan(prices[1])}`));

    await page.getByRole('button', { name: '发布公示 / Publish publicity' }).click();
    await page.getByText('公示中 / running').waitFor();
    const status = (await t.http.get(`/api/v1/tenders/${tenderId}/sections/${await sectionOf()}/award-status`).set(bearer(agency.token)).expect(200)).body;
    assert.equal(status.stage, 'publicity');

    // the publicity ends (at least 3 days): the award is next
    await moveClock(new Date(new Date(status.publicity.endsAt).getTime() + 60 * MINUTE_MS));
    await signInAgain(`/agency#tender/${tenderId}`);
    await page.getByLabel('中标人 / Winner').waitFor();
    await page.getByRole('button', { name: '发出中标通知书 / Issue award' }).click();
    const confirm = page.getByRole('dialog', { name: '确认发出中标通知书？ · Issue the award notice?' });
    assert.match((await confirm.textContent()) ?? '', new RegExp(bidderNames[1]));
    await confirm.getByRole('button', { name: '确认发出 / Issue' }).click();

    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载中标通知书 PDF / Download award notice' }).click()]);
    const bytes = fs.readFileSync((await file.path())!);
    assert.equal(bytes.subarray(0, 4).toString(), '%PDF');

    // prefilled with the platform's time and the award price
    assert.equal(await page.getByLabel('合同金额（元） / Contract amount (yuan)').inputValue(), '11500000.00');
    await page.getByRole('button', { name: '登记合同 / Record contract' }).click();
    await page.getByText('合同已签订 / Contract').waitFor();
    const done = await page.getByRole('list', { name: '定标进度 / Award steps' }).getByText('✓ 已完成 / done').count();
    assert.equal(done, 5);
    const final = (await t.http.get(`/api/v1/tenders/${tenderId}/sections/${await sectionOf()}/award-status`).set(bearer(agency.token)).expect(200)).body;
    assert.equal(final.stage, 'contracted');
    assert.equal(final.contract.amountFen, prices[1]);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'agency-console-phone');
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(wp.problems, []);
  });

  it('does not show the tender to another agency, nor let it act on it', async () => {
    const other = await openPage(browser);
    await signIn(other, site.base, otherAgency);
    await other.page.getByText('还没有项目').waitFor();
    assert.ok(!((await other.page.locator('main').textContent()) ?? '').includes(NAME));
    // a published tender is public, but its management, counts and award are not
    await other.page.goto(`${site.base}/agency#tender/${tenderId}`);
    await other.page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    const text = (await other.page.locator('main').textContent()) ?? '';
    for (const name of bidderNames) assert.ok(!text.includes(name), `another agency sees bidder ${name}`);
    assert.equal(await other.page.getByRole('button', { name: '发布澄清 / Issue clarification' }).count(), 0);
    assert.equal(await other.page.getByTestId('bid-counts').count(), 0);
    assert.equal(await other.page.getByRole('list', { name: '定标进度 / Award steps' }).count(), 0);
    assert.deepEqual(other.problems, []);
    await other.context.close();
  });

  async function sectionOf(): Promise<string> {
    return (await t.http.get(`/api/v1/tenders/${tenderId}`).set(bearer(agency.token)).expect(200)).body.sections[0].id;
  }
});
