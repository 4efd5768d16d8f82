import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, createMember } from '../support/factories';
import { closeAll, accessibilityProblems, keyFolder, launchBrowser, openPage, serve, signIn } from './browser';

describe('browser: signing in', function () {
  this.timeout(120_000);
  let t: TestApp;
  let browser: Browser;
  let site: { base: string; close(): Promise<void> };

  before(async () => {
    t = await createTestApp('browser_login');
    site = await serve(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await closeAll(browser, site, t);
  });

  it('serves the pages in Chinese with headers that keep other sites out', async () => {
    const res = await t.http.get('/').expect(200);
    assert.match(res.text, /<html lang="zh-CN">/);
    assert.match(res.headers['content-security-policy'], /script-src 'self'/);
    assert.match(res.headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    // the page's script is small on the wire (minified, gzipped), revalidated by ETag, its source map beside it
    const js = await t.http.get('/assets/hall.js').set('Accept-Encoding', 'gzip').expect(200);
    assert.match(js.headers['content-type'], /javascript/);
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.ok(Number(js.headers['content-length']) < 40_000, `hall.js is ${js.headers['content-length']} bytes gzipped`);
    await t.http.get('/assets/hall.js').set('If-None-Match', js.headers.etag).expect(304);
    const map = await t.http.get('/assets/hall.js.map').expect(200);
    assert.ok(map.body.sources.some((s: string) => s.endsWith('pages/hall.ts')));
    await t.http.get('/assets/../../package.json.js').expect(404);
    await t.http.get('/hall/not-a-uuid').expect(404);
  });

  it('signs a bidder in with its key files, in the page, and shows whose session it is', async () => {
    const bidder = await createMember(t, 'bidder');
    const wp = await openPage(browser);
    const sent: string[] = [];
    wp.page.on('request', (r) => sent.push(r.postData() ?? ''));
    await signIn(wp, site.base, bidder);
    assert.equal(new URL(wp.page.url()).pathname, '/bidder');
    const who = await wp.page.getByTestId('who').textContent();
    assert.match(who ?? '', /投标人/);
    // the private key never left the page: no request carried it
    const keyBody = bidder.signingKeys.privateKeyPem.split('\n')[1];
    assert.ok(sent.every((body) => !body.includes(keyBody)), 'a request carried the private key');
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });

  it('can be used with the keyboard alone: skip link, the key files, Enter to sign in; a newcomer is told how to start', async () => {
    const bidder = await createMember(t, 'bidder');
    const wp = await openPage(browser);
    const { page } = wp;
    await page.goto(`${site.base}/`);
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.getByRole('heading', { name: /第一次使用/ }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /bidtool enroll --server http:\/\/127\.0\.0\.1/);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.className'), 'skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'main');
    // to the file chooser by Tab (a person then picks the files in the dialog; the test hands them over)
    const chooser = page.getByLabel('密钥文件 / Key files');
    for (let i = 0; i < 10 && !(await chooser.evaluate((el) => el === el.ownerDocument.activeElement)); i++) await page.keyboard.press('Tab');
    assert.ok(await chooser.evaluate((el) => el === el.ownerDocument.activeElement), 'the key files field cannot be reached by Tab');
    await chooser.setInputFiles(keyFolder(bidder));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/bidder$/);
    await page.getByTestId('who').waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });

  it('refuses a key that does not match the certificate, and says so', async () => {
    const a = await createMember(t, 'bidder');
    const b = await createMember(t, 'bidder');
    const wp = await openPage(browser);
    await wp.page.goto(`${site.base}/`);
    const mixed = { ...a, signingKeys: b.signingKeys };
    await wp.page.getByLabel('密钥文件 / Key files').setInputFiles(keyFolder(mixed));
    await wp.page.getByRole('button', { name: '登录 / Sign in' }).click();
    await wp.page.getByText('签名私钥与证书不匹配').waitFor();
    assert.equal(new URL(wp.page.url()).pathname, '/');
    await wp.context.close();
  });
});

describe('browser: a session through a long day', function () {
  this.timeout(120_000);
  let t: TestApp;
  let browser: Browser;
  let site: { base: string; close(): Promise<void> };

  before(async () => {
    // one-minute tokens, sessions of at most an hour: what a day of openings does, in minutes of platform time
    t = await createTestApp('browser_renew', { config: { tokenTtlSeconds: 60, sessionMaxHours: 1 } });
    site = await serve(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await closeAll(browser, site, t);
  });

  const tokenIn = (wp: Awaited<ReturnType<typeof openPage>>) => wp.page.evaluate<string>("JSON.parse(sessionStorage.getItem('gz.session')).token");

  it('renews the token before it runs out, keeps working past the first token, and asks for the certificate once the session is too old', async () => {
    const bidder = await createMember(t, 'bidder');
    const wp = await openPage(browser);
    await signIn(wp, site.base, bidder);
    const first = await tokenIn(wp);

    // 40 s on: the platform's answers say 20 s are left, so the page renews
    t.clock.advance(40_000);
    await wp.page.reload();
    await wp.page.getByRole('heading', { name: /我的投标文件/ }).waitFor();
    await wp.page.waitForFunction(`JSON.parse(sessionStorage.getItem('gz.session')).token !== ${JSON.stringify(first)}`);
    assert.equal((await t.ctx.db('audit_events').where({ action: 'auth.renew', actor_user_id: bidder.userId })).length, 1);

    // 80 s after the login the first token is dead; the page, on its renewed one, is not
    t.clock.advance(40_000);
    await t.http.get('/api/v1/me').set(bearer(first)).expect(401);
    await wp.page.reload();
    await wp.page.getByRole('heading', { name: /我的投标文件/ }).waitFor();
    await wp.page.getByText('正在加载').first().waitFor({ state: 'detached' });
    assert.equal(await wp.page.locator('.notice.error').count(), 0);

    // an hour on, nothing renews any more: the page says so and offers the login, coming back here
    t.clock.advance(3600_000);
    await wp.page.reload();
    await wp.page.getByText('登录已过期或无效，请重新登录').waitFor();
    const again = wp.page.getByRole('link', { name: '重新登录 / sign in' });
    assert.match((await again.getAttribute('href')) ?? '', /^\/\?next=%2Fbidder/);
    assert.deepEqual(wp.problems, []);
    await wp.context.close();
  });
});
