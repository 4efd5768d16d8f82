/**
 * Browser tests' harness: Debian's Chromium (installed by .ci/run with apt) driven by playwright-core — never a
 * downloaded browser — against the real app listening on a loopback port. Each page records its console errors
 * and failed requests, so a test can assert a page worked without a hidden error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestApp } from '../support/app';
import type { Member } from '../support/factories';
import { repoRoot } from '../support/run-script';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(repoRoot, 'test-output', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), as .ci/run does, or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** The app on 127.0.0.1 (WebCrypto needs a secure context: loopback is one). */
export interface Site {
  base: string;
  /** cuts every open connection, as a dropped network does (live feeds then reconnect) */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function serve(t: TestApp): Promise<Site> {
  const server: Server = await new Promise((resolve) => {
    const s = t.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    dropConnections: () => server.closeAllConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** console errors, uncaught exceptions and failed requests (4xx answers the page showed to the user are not here) */
  problems: string[];
}

/** A fresh browser profile (its own sessionStorage), at 1366×768 unless told otherwise. */
export async function openPage(browser: Browser, opts: { viewport?: { width: number; height: number }; downloads?: boolean } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'America/New_York', // far from Shanghai: the pages must show Beijing time whatever the viewer's zone
    acceptDownloads: opts.downloads ?? true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // a 4xx the page showed as a refusal is not a problem; nor is a live feed cut by a test (it reconnects)
    if (m.type() !== 'error' || /status of 4\d\d/.test(m.text())) return;
    if (/\/events\?/.test(m.location().url) && /ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION/.test(m.text())) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // an EventSource closed by navigation or by the test's end is not a failure of the page, nor a request a
    // navigation cut short (the browser aborts what the page it leaves was still loading)
    if (!/\/events/.test(r.url()) && r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.setDefaultTimeout(15_000);
  return { page, context, problems };
}

/** The member's keys folder, as `bidtool enroll` writes it. */
export function keyFolder(member: Member): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-browser-keys-'));
  const files: Record<string, string> = {
    'signing.key.pem': member.signingKeys.privateKeyPem,
    'signing.cert.pem': member.signingCertPem,
    'encryption.key.pem': member.encryptionKeys.privateKeyPem,
    'encryption.cert.pem': member.encryptionCertPem,
  };
  return Object.entries(files).map(([name, text]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  });
}

/** Signs in on the login page with the member's key files, as a person does; lands on the member's home page. */
export async function signIn(wp: WatchedPage, base: string, member: Member, next?: string): Promise<void> {
  const { page } = wp;
  await page.goto(`${base}/${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await page.getByLabel('密钥文件 / Key files').setInputFiles(keyFolder(member));
  await page.getByRole('button', { name: '登录 / Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/');
  await page.getByTestId('who').waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** How far the page scrolls sideways (0 when it fits the viewport, as it must on a phone). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
}

/**
 * Accessible basics, checked in the page as it stands: every control has a label, every button and link a name,
 * one h1 and no skipped heading level, the document in Chinese. Returns what is wrong (empty when nothing is).
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const problems = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '');
    if (document.documentElement.lang !== 'zh-CN') problems.push('html lang is ' + document.documentElement.lang);
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!visible(el)) continue;
      const labelled = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest('label') ||
        el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!labelled) problems.push('unlabelled ' + describe(el));
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (visible(el) && !(el.textContent || '').trim() && !el.getAttribute('aria-label')) problems.push('nameless ' + describe(el));
    }
    for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push('img without alt');
    const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(visible).map((h) => Number(h.tagName[1]));
    if (headings.filter((n) => n === 1).length !== 1) problems.push('expected one h1, found ' + headings.filter((n) => n === 1).length);
    headings.forEach((n, i) => { if (i > 0 && n > headings[i - 1] + 1) problems.push('heading level skips from h' + headings[i - 1] + ' to h' + n); });
    return problems;
  })()`);
}

/** Closes what a browser test opened, in order (the browser, the site, the app); what was never opened is skipped. */
export async function closeAll(...things: Array<{ close(): Promise<unknown> } | undefined>): Promise<void> {
  for (const thing of things) await thing?.close();
}
