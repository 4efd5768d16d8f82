/**
 * The regulator console in a browser: alerts raised by the real checks (two bidders' deposits paid from one account,
 * a custodian reaching for its key share before the deadline), a supervisor filtering them, opening one, reading its
 * evidence and recording a step through the form; the refusal when the alert is about the supervisor's own
 * organisation; a tender's trade log with the chain's verification; the SLA report and the exports downloaded. A
 * bidder who comes to /regulator is sent away without a single alert fetched.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { signNotification } from '../../src/bank/notification-signature';
import { NOTIFICATION_HEADERS } from '../../src/bank/gateway';
import { createTestApp, type TestApp } from '../support/app';
import { startBankSim, type BankSim } from '../support/bank-sim';
import { bearer, createCustodianMembers, createMember, operatorToken, tenderBody, uploadDocument, type Member } from '../support/factories';
import { closeAll, accessibilityProblems, launchBrowser, openPage, screenshot, serve, signIn } from './browser';

const SECRET = 'regulator-browser-test-secret-0123';
const DEPOSIT_FEN = 24_000_000;
const SHARED = { no: '6222020200112233445', name: '西安某劳务有限公司' };
const SHARED_TITLE = '不同投标人的投标保证金从同一账户转出（视为串通投标）';
const NOT_BASIC_TITLE = '投标保证金未从投标人基本账户转出';

describe('browser: the regulator console', function () {
  this.timeout(120_000);
  let t: TestApp;
  let sim: BankSim; // opens the virtual sub-accounts; its notifications are signed here, as it would sign them
  let browser: Browser;
  let site: { base: string; close(): Promise<void> };
  let custodian: Member; // a regulator whose organisation holds a key share: the subject of its own early attempt
  let reviewer: Member;
  let bidders: Member[];
  let tender: { id: string; code: string; name: string };
  let sharedAlertId: string;
  let txn = 0;

  /** The bank's signed notification of a transfer, as the bank sends it. */
  async function pay(accountNo: string, payer: { no: string; name: string }) {
    const now = t.clock.now().toISOString();
    const body = JSON.stringify({ txnId: `RB${++txn}`, virtualAccountNo: accountNo, payerAccountNo: payer.no, payerAccountName: payer.name, payerBankName: '中国建设银行西安分行', amountFen: DEPOSIT_FEN, bookedAt: now });
    const nonce = crypto.randomBytes(8).toString('hex');
    await t.http.post('/api/v1/bank/notifications').set('Content-Type', 'application/json')
      .set({ [NOTIFICATION_HEADERS.timestamp]: now, [NOTIFICATION_HEADERS.nonce]: nonce, [NOTIFICATION_HEADERS.signature]: signNotification(SECRET, now, nonce, body) })
      .send(body).expect(200);
  }

  before(async () => {
    sim = await startBankSim({ secret: SECRET });
    t = await createTestApp('browser_regulator', { bank: { url: sim.url, notifySecret: SECRET, timeoutMs: 1500 } });
    ({ regulator: custodian } = await createCustodianMembers(t));
    reviewer = await createMember(t, 'regulator');
    const agency = await createMember(t, 'agency');
    const tenderer = await createMember(t, 'tenderer');
    bidders = [await createMember(t, 'bidder'), await createMember(t, 'bidder'), await createMember(t, 'bidder')];
    const created = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201)).body;
    await uploadDocument(t, agency.token, created.id);
    const published = (await t.http.post(`/api/v1/tenders/${created.id}/publish`).set(bearer(agency.token)).expect(200)).body;
    tender = { id: published.id, code: published.code, name: published.name };
    const sectionId = published.sections[0].id;
    const accounts = [];
    for (const b of bidders) accounts.push((await t.http.post(`/api/v1/tenders/${tender.id}/sections/${sectionId}/deposit-account`).set(bearer(b.token)).expect(200)).body.accountNo);
    const basic = await t.ctx.db('organisations').where({ id: bidders[0]!.orgId }).first();
    await pay(accounts[0], { no: basic.basic_account_no, name: basic.name });
    // the second and third bidders' deposits come from one third-party account: TLR 40(6)
    await pay(accounts[1], SHARED);
    await pay(accounts[2], SHARED);
    // a custodian reaching for its share before the deadline is refused and raised (EB 27; TLR 41)
    await t.http.get(`/api/v1/tenders/${tender.id}/opening-key/share`).set(bearer(custodian.token)).expect(409);
    // the tender is terminated: every deposit is released for refund within two working days
    await t.http.post(`/api/v1/tenders/${tender.id}/terminate`).set(bearer(agency.token)).send({ reason: '项目资金未落实，终止招标' }).expect(200);
    await t.http.post('/api/v1/audit/checkpoints').set(bearer(await operatorToken(t))).expect(200);
    const shared = (await t.http.get(`/api/v1/alerts?tenderId=${tender.id}&rule=deposit-shared-account`).set(bearer(reviewer.token)).expect(200)).body;
    assert.equal(shared.length, 1);
    sharedAlertId = shared[0].id;

    site = await serve(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await closeAll(browser, site, t);
    await sim?.stop();
  });

  it('a regulator filters the alerts, opens one, reads its evidence and records a step that the API then shows', async () => {
    const wp = await openPage(browser);
    const { page } = wp;
    await signIn(wp, site.base, reviewer);
    assert.equal(new URL(page.url()).pathname, '/regulator');
    const summary = (await t.http.get('/api/v1/alerts/summary').set(bearer(reviewer.token)).expect(200)).body;
    assert.ok(summary.total >= 4, JSON.stringify(summary));
    await page.getByTestId('alert-summary').getByText(`共 ${summary.total} 条`).waitFor();
    const list = page.getByTestId('alert-list');
    await list.getByRole('link', { name: NOT_BASIC_TITLE }).first().waitFor();

    await page.getByLabel('严重程度 / Severity').selectOption('high');
    await page.getByLabel('项目 / Tender').selectOption(tender.id);
    await page.getByRole('button', { name: '筛选 / Filter' }).click();
    await list.getByRole('link', { name: NOT_BASIC_TITLE }).first().waitFor({ state: 'detached' });
    // the list reloads on its own, after the old one is gone: wait for the filtered one before counting
    await list.getByRole('link').first().waitFor();
    assert.equal(await list.getByRole('link').count(), 1);
    await page.getByTestId('alert-summary').getByText('共 1 条').waitFor();

    await list.getByRole('link', { name: SHARED_TITLE }).click();
    await page.waitForURL((u) => u.hash === `#alert/${sharedAlertId}`);
    const facts = page.getByTestId('alert-facts');
    await facts.getByText('《招标投标法实施条例》 40(6)').waitFor();
    await facts.getByText(`${tender.code} ${tender.name}`).waitFor();
    // the evidence as tables: the shared payer account, both bidders by name, the credit on the chain
    const fields = page.getByTestId('evidence-fields');
    await fields.getByText(SHARED.no).first().waitFor();
    const names = await t.ctx.db('organisations').whereIn('id', [bidders[1]!.orgId, bidders[2]!.orgId]).pluck('name');
    for (const name of names) await fields.getByText(name).first().waitFor();
    await page.getByTestId('evidence-events').getByText('保证金到账（deposit.credit）').waitFor();
    await page.getByTestId('disposition-history').getByText('尚未处置').waitFor();

    const note = '已调取两笔到账的银行回单，付款账户相同，签收并转入调查。';
    await page.getByLabel('处置 / Step').selectOption('acknowledged');
    await page.getByLabel('处置意见（必填）/ Note (required)').fill(note);
    await page.getByRole('button', { name: '提交处置 / Record' }).click();
    await page.getByTestId('disposition-history').getByText(note).waitFor();
    await page.getByTestId('alert-facts').getByText('已签收').waitFor();
    const after = (await t.http.get(`/api/v1/alerts/${sharedAlertId}`).set(bearer(reviewer.token)).expect(200)).body;
    assert.equal(after.status, 'acknowledged');
    assert.deepEqual(after.dispositions.map((d: { toStatus: string; note: string }) => [d.toStatus, d.note]), [['acknowledged', note]]);
    // the next steps offered are the ones the API allows from here
    assert.deepEqual(await page.getByLabel('处置 / Step').locator('option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))), ['investigating', 'dismissed']);
    await screenshot(page, 'regulator-console');
    assert.deepEqual(await accessibilityProblems(page), []);

    // Back returns to the list, its filter kept
    await page.goBack();
    await list.getByRole('link', { name: SHARED_TITLE }).waitFor();
    assert.equal(await page.getByLabel('严重程度 / Severity').inputValue(), 'high');
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });

  it('shows the API\'s refusal when a supervisor tries to dispose of an alert about its own organisation', async () => {
    const own = (await t.http.get(`/api/v1/alerts?subjectOrgId=${custodian.orgId}`).set(bearer(custodian.token)).expect(200)).body;
    assert.equal(own.length, 1);
    const wp = await openPage(browser);
    await signIn(wp, site.base, custodian);
    await wp.page.goto(`${site.base}/regulator#alert/${own[0].id}`);
    await wp.page.getByLabel('处置意见（必填）/ Note (required)').fill('本单位的预警，试图签收');
    await wp.page.getByRole('button', { name: '提交处置 / Record' }).click();
    await wp.page.getByRole('status').getByText('ALERT_OWN_ORGANISATION').waitFor();
    assert.equal((await t.http.get(`/api/v1/alerts/${own[0].id}`).set(bearer(reviewer.token)).expect(200)).body.status, 'open');
    await wp.context.close();
  });

  it('shows a tender\'s trade log and the chain\'s verification, and downloads the SLA report PDF and the alerts CSV', async () => {
    const wp = await openPage(browser);
    const { page } = wp;
    await signIn(wp, site.base, reviewer);
    await page.getByRole('link', { name: '交易日志 / Trade log' }).click();
    await page.getByLabel('项目 / Tender').selectOption(tender.id);
    await page.waitForURL((u) => u.hash === `#log/${tender.id}`);
    const log = page.getByTestId('trade-log');
    await log.getByText('终止项目（tender.terminate）').waitFor();
    await log.getByText('保证金到账（deposit.credit）').first().waitFor();
    await log.getByText('处置预警（alert.disposed）').waitFor();
    const head = (await t.http.get('/api/v1/audit/verify').set(bearer(reviewer.token)).expect(200)).body;
    assert.equal(head.ok, true);
    await page.getByTestId('chain-status').getByText(`链完整，已验证至第 ${head.headSeq} 条`).waitFor();
    await page.getByTestId('checkpoint-status').getByText('最新签名检查点').waitFor();

    await page.getByRole('link', { name: '报告与导出 / Reports & exports' }).click();
    const sla = page.getByTestId('sla-report');
    await sla.waitFor();
    // three deposits released by the termination, none paid yet, ¥240,000.00 each
    const totals = sla.getByRole('table', { name: '合计 / Totals' });
    await totals.getByRole('cell', { name: '¥0.00', exact: true }).waitFor();
    assert.equal(await totals.getByRole('cell', { name: '¥720,000.00', exact: true }).count(), 2, 'released and still unpaid');
    await sla.getByText(tender.code).waitFor();
    const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载 PDF / Download PDF' }).click()]);
    assert.match(pdf.suggestedFilename(), /^deposit-sla-.*\.pdf$/);
    assert.equal(fs.readFileSync((await pdf.path())!).subarray(0, 5).toString(), '%PDF-');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '预警 CSV / Alerts CSV' }).click()]);
    const text = fs.readFileSync((await csv.path())!, 'utf8');
    assert.ok(text.includes(SHARED_TITLE) && text.includes('已签收'), text.slice(0, 400));
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });

  it('reads on a phone: the alert\'s page fits the screen\'s width', async () => {
    const wp = await openPage(browser, { viewport: { width: 390, height: 844 } });
    await signIn(wp, site.base, reviewer);
    await wp.page.goto(`${site.base}/regulator#alert/${sharedAlertId}`);
    await wp.page.getByTestId('evidence-fields').getByText(SHARED.no).first().waitFor();
    const width = await wp.page.evaluate('document.documentElement.scrollWidth') as number;
    assert.ok(width <= 390, `the page is ${width}px wide`);
    await screenshot(wp.page, 'regulator-console-phone');
    assert.deepEqual(await accessibilityProblems(wp.page), []);
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });

  it('sends a bidder who comes to /regulator away, without fetching one alert — not even those about itself', async () => {
    const wp = await openPage(browser);
    const asked: string[] = [];
    wp.page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await signIn(wp, site.base, bidders[2]!, '/regulator');
    await wp.page.waitForURL((u) => u.pathname === '/bidder');
    await wp.page.getByTestId('who').waitFor();
    const text = await wp.page.locator('body').innerText();
    assert.ok(!text.includes(SHARED_TITLE) && !text.includes(NOT_BASIC_TITLE), 'a bidder saw an alert');
    assert.ok(!asked.some((p) => p.startsWith('/api/v1/alerts') || p.startsWith('/api/v1/audit')), asked.join(' '));
    // and the API refuses it too
    await t.http.get('/api/v1/alerts').set(bearer(bidders[2]!.token)).expect(403);
    await wp.context.close();
  });
});
