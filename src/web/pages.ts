/**
 * The pages: each is an HTML shell (this file) plus a script bundled from client/pages/<name>.ts that fills it
 * from the JSON API. The shell carries no data of any user: what a page shows, it fetches with the signed-in
 * user's token, so the API's rules decide what each organisation sees.
 */
export interface PageSpec {
  /** the bundle name: client/pages/<script>.ts */
  script: string;
  title: string;
}

export const PAGES = {
  home: { script: 'home', title: '登录 · Sign in' },
  bidder: { script: 'bidder', title: '投标人工作台 · Bidder' },
  agency: { script: 'agency', title: '招标代理工作台 · Agency console' },
  regulator: { script: 'regulator', title: '行政监督 · Regulator console' },
  hall: { script: 'hall', title: '开标大厅 · Opening hall' },
} satisfies Record<string, PageSpec>;

export type PageName = keyof typeof PAGES;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** The shell of one page. `data` goes to `<body data-…>` (e.g. the tender id of a hall), escaped. */
export function renderShell(page: PageName, platformName: string, data: Record<string, string> = {}): string {
  const spec = PAGES[page];
  const attrs = Object.entries({ page, platform: platformName, ...data })
    .map(([k, v]) => ` data-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${escapeHtml(v)}"`)
    .join('');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(spec.title)} · ${escapeHtml(platformName)}</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/${spec.script}.js"></script>
</head>
<body${attrs}>
<a class="skip-link" href="#main">跳到正文 / Skip to content</a>
<header class="top-bar" id="top-bar"><span class="brand">${escapeHtml(platformName)}</span></header>
<main id="main" tabindex="-1">
<noscript>本页面需要启用 JavaScript。/ This page needs JavaScript.</noscript>
<p class="loading" role="status">正在加载… / Loading…</p>
</main>
<footer class="foot">时间均为北京时间（Asia/Shanghai），以平台时间为准 · Times are Beijing time; the platform's clock governs</footer>
</body>
</html>
`;
}
