/**
 * The bidder's workbench in a real browser: two bidders with sealed bids and paid deposits in one tender (through
 * the API and the bank simulator); bidder A sees the open tender, its bids with their receipts, withdraws one with a
 * confirmation and then finds its refund with the voucher — and nothing of bidder B anywhere on its page.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { creditAndWait, serveForBank } from '../support/deposits';
import { bearer, bidPackage, createCustodianMembers, createMember, createOrganisation, sealBid, submitBid, tenderBody, uploadDocument, type Member } from '../support/factories';
import { accessibilityProblems, launchBrowser, openPage, screenshot, serve, signIn } from './browser';

const SECRET = 'browser-bidder-secret-0123456789';
const DEPOSIT_FEN = 24_000_000; // ¥240,000.00
const B_NAME = '乙方竞争者建筑工程有限公司';

const SHANGHAI = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const shanghai = (iso: string) => SHANGHAI.format(new Date(iso));

/** A download the page starts: its bytes. */
async function downloaded(page: Page, click: () => Promise<void>): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await file.path();
  return fs.readFileSync(path);
}

describe('browser: the bidder workbench', function () {
  this.timeout(90_000);
  let t: TestApp;
  let sim: BankSim;
  let bank: { stop(): Promise<void> };
  let browser: Browser;
  let site: { base: string; close(): Promise<void> };
  let a: Member;
  let b: Member;
  let tender: { id: string; code: string; name: string; sections: Array<{ id: string }> };
  const bids: Record<string, string> = {};
  const accounts: Record<string, string> = {};
  const B_PRICE_FEN = 1_118_765_43;

  before(async () => {
    sim = await startBankSim({ secret: SECRET, payoutDelayMs: 20, notifyRetryMs: 50 });
    t = await createTestApp('browser_bidder', { bank: { url: sim.url, notifySecret: SECRET, timeoutMs: 1500 } });
    bank = await serveForBank(t, sim);
    [site, browser] = await Promise.all([serve(t), launchBrowser()]);

    await createCustodianMembers(t);
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    const sections = [
      { name: '第一标段：土建工程', estimatedPriceFen: 12_000_000_00, depositFen: DEPOSIT_FEN },
      { name: '第二标段：安装工程', estimatedPriceFen: 6_000_000_00, depositFen: 12_000_000 },
    ];
    const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token))
      .send(tenderBody(tenderer.orgId, t.clock.now(), { name: '西安市第八十九中学综合楼建设工程', sections }));
    assert.equal(draft.status, 201, JSON.stringify(draft.body));
    await uploadDocument(t, agency.token, draft.body.id);
    tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    // an amendment that moves the deadline a day later: the page must say so
    await t.http.post(`/api/v1/tenders/${tender.id}/clarifications`).set(bearer(agency.token))
      .send({ title: '关于工程量清单的修改', body: '第 3 章工程量清单更正。', affectsBidPreparation: true, newDeadline: new Date(t.clock.now().getTime() + 31 * 86_400_000).toISOString() })
      .expect(201);
    const openingCert = (await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(agency.token)).expect(200)).body.certificatePem;

    a = await createMember(t, 'bidder');
    b = await createMember(t, 'bidder', { orgId: await createOrganisation(t, 'bidder', { name: B_NAME }) });
    const [s1, s2] = tender.sections.map((s) => s.id);
    const plan: Array<[string, Member, string, number]> = [
      ['a1', a, s1, 1_105_000_00],
      ['a2', a, s2, 580_000_00],
      ['b1', b, s1, B_PRICE_FEN],
    ];
    for (const [key, m, sectionId, price] of plan) {
      const acc = (await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/deposit-account`).set(bearer(m.token)).expect(200)).body;
      accounts[key] = acc.accountNo;
      const org = await t.ctx.db('organisations').where({ id: m.orgId }).first();
      await creditAndWait(t, sim, { virtualAccountNo: acc.accountNo, payerAccountNo: org.basic_account_no, payerAccountName: org.name, payerBankName: org.basic_account_bank, amountFen: acc.requiredFen });
      accounts[`${key}-basic`] = org.basic_account_no;
      const sealed = await sealBid(t, m, openingCert, await bidPackage(t, m, tender, sectionId, { totalPriceFen: price, seed: price % 97 }));
      const res = await submitBid(t, m, tender.id, sectionId, sealed);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      bids[key] = res.body.submission.bid.id;
    }
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await bank?.stop();
    await t?.close();
    await sim?.stop();
  });

  /** Nothing of bidder B on A's page: not its name, bid, price, nor any of its accounts. */
  async function assertNothingOfB(page: Page): Promise<void> {
    const text = (await page.locator('body').innerText()) + (await page.content());
    for (const secret of [B_NAME, bids.b1, accounts.b1, accounts['b1-basic'], String(B_PRICE_FEN), '1,118,765.43', b.orgId]) {
      assert.ok(!text.includes(secret), `bidder A's page shows ${secret} of bidder B`);
    }
  }

  it('shows A the open tender, its bids with their receipts, and lets it withdraw one after confirming', async () => {
    const wp = await openPage(browser);
    const { page } = wp;
    await signIn(wp, site.base, a);
    assert.equal(new URL(page.url()).pathname, '/bidder');

    // 可投标项目
    const open = page.getByRole('region', { name: '可投标项目 · Open tenders' });
    await open.getByRole('heading', { name: '西安市第八十九中学综合楼建设工程' }).waitFor();
    const newDeadline = (await t.http.get(`/api/v1/tenders/${tender.id}`).set(bearer(a.token)).expect(200)).body.bidDeadline;
    const openText = await open.innerText();
    assert.ok(openText.includes(shanghai(newDeadline)), `the deadline in Beijing time: ${shanghai(newDeadline)}`);
    assert.ok(openText.includes('¥240,000.00') && openText.includes('¥120,000.00'), 'deposits in yuan with separators');
    assert.match(openText, /本澄清顺延了投标截止时间/);
    assert.ok(openText.includes(accounts.a1), 'A\'s own account to pay into');
    await open.getByText('如何投标 / How to bid').first().click();
    const commands = await open.locator('pre').first().innerText();
    assert.ok(commands.includes(`bidtool pack --tender ${tender.id} --section ${tender.sections[0].id}`), commands);
    assert.ok(commands.includes(`bidtool submit --server ${site.base}`), commands);
    const doc = await downloaded(page, () => open.getByRole('button', { name: '下载 招标文件.pdf' }).click());
    assert.equal(doc.subarray(0, 4).toString(), '%PDF');

    // 我的投标文件
    const mine = page.getByRole('region', { name: '我的投标文件 · My bids' });
    const row1 = mine.locator(`tr[data-bid="${bids.a1}"]`);
    await row1.waitFor();
    assert.equal(await mine.locator('tbody tr').count(), 2, 'A\'s two bids, and only those');
    const bid1 = (await t.http.get(`/api/v1/bids/${bids.a1}`).set(bearer(a.token)).expect(200)).body;
    const rowText = await row1.innerText();
    assert.ok(rowText.includes(shanghai(bid1.receivedAt)) && rowText.includes(String(bid1.auditSeq)) && rowText.includes(bid1.envelopeSha256.slice(0, 12)), rowText);
    assert.match(rowText, /已递交/);
    const pdf = await downloaded(page, () => row1.getByRole('button', { name: '回执 .pdf / Receipt' }).click());
    assert.equal(pdf.subarray(0, 4).toString(), '%PDF');
    const tsr = await downloaded(page, () => row1.getByRole('button', { name: '时间戳 .tsr / Time-stamp' }).click());
    assert.equal(tsr[0], 0x30, 'a DER time-stamp response');

    // withdrawing asks first; cancelling leaves the bid as it was
    const row2 = mine.locator(`tr[data-bid="${bids.a2}"]`);
    await row2.getByRole('button', { name: '撤回 / Withdraw' }).click();
    await row2.getByRole('button', { name: '取消 / Cancel' }).click();
    await row2.getByRole('button', { name: '撤回 / Withdraw' }).click();
    await row2.getByRole('button', { name: '确认撤回 / Confirm withdrawal' }).click();
    await page.getByText('投标文件已撤回 / Bid withdrawn').waitFor();
    await mine.locator(`tr[data-bid="${bids.a2}"]`).getByText('已撤回 / withdrawn').waitFor();
    assert.equal((await t.http.get(`/api/v1/bids/${bids.a2}`).set(bearer(a.token)).expect(200)).body.status, 'withdrawn');
    assert.equal((await t.http.get(`/api/v1/bids/${bids.a1}`).set(bearer(a.token)).expect(200)).body.status, 'current');

    await assertNothingOfB(page);
    await screenshot(page, 'bidder-workbench');
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });

  it('shows A its deposits and the refund of the withdrawn bid, due in two working days, with its voucher; on a phone too', async () => {
    await runDueJobs(t); // the refund is paid
    await runDueJobs(t); // and its voucher made
    const refund = (await t.http.get('/api/v1/deposits/mine').set(bearer(a.token)).expect(200)).body
      .find((d: { sectionId: string }) => d.sectionId === tender.sections[1].id).refunds[0];
    assert.equal(refund.status, 'paid');

    const wp = await openPage(browser, { viewport: { width: 390, height: 844 } });
    const { page } = wp;
    await signIn(wp, site.base, a);
    await page.getByRole('link', { name: '我的保证金 · My deposits' }).click();
    const deposits = page.getByRole('region', { name: '我的保证金 · My deposits' });
    const card = deposits.getByRole('article').filter({ hasText: '第2标段' });
    await card.getByText('已退还 / paid').waitFor();
    const text = await card.innerText();
    assert.ok(text.includes(accounts.a2), 'the account A paid into');
    assert.ok(text.includes(shanghai(refund.dueAt)), `the due date in Beijing time: ${shanghai(refund.dueAt)}`);
    assert.ok(text.includes(shanghai(refund.paidAt)), 'when it was paid');
    assert.match(text, /投标截止前撤回投标/);
    assert.ok(text.includes('¥120,000.00'), 'amounts in yuan with thousands separators');
    const voucher = await downloaded(page, () => card.getByRole('button', { name: '退还凭证 .pdf / Voucher' }).click());
    assert.equal(voucher.subarray(0, 4).toString(), '%PDF');
    // section 1: paid, nothing refunded yet
    const first = await deposits.getByRole('article').filter({ hasText: '第1标段' }).innerText();
    assert.ok(first.includes('¥240,000.00') && first.includes('已缴'), first);

    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    assert.ok(width <= 390, `no sideways scrolling on a phone (page is ${width}px wide)`);
    await assertNothingOfB(page);
    await screenshot(page, 'bidder-workbench-phone');
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });
});
