/** What every page has: the top bar (who is signed in, where to go, sign out) and a place for messages. */
import { api, describeError, isSignedOut } from './api';
import { h, replace, byId } from './dom';
import { keepSessionAlive } from './renew';
import { clearSession, loginUrl, ORG_TYPE_LABELS, type Session } from './session';

const NAV: Record<string, Array<[string, string]>> = {
  bidder: [['/bidder', '投标人工作台']],
  agency: [['/agency', '招标代理工作台']],
  tenderer: [['/agency', '项目工作台']],
  operator: [['/agency', '项目工作台']],
  regulator: [['/regulator', '行政监督']],
};

export function topBar(session: Session | null): void {
  const bar = byId('top-bar');
  const platform = document.body.dataset.platform ?? '';
  if (!session) {
    replace(bar, h('a', { class: 'brand', href: '/' }, platform));
    return;
  }
  keepSessionAlive();
  const links = (NAV[session.organisation.type] ?? []).map(([href, label]) =>
    h('a', { href, 'aria-current': location.pathname === href ? 'page' : null }, label),
  );
  const signOut = h('button', { type: 'button', class: 'link' }, '退出登录 / Sign out');
  signOut.addEventListener('click', async () => {
    try {
      await api('POST', '/auth/logout');
    } catch {
      /* the token is dropped here either way */
    }
    clearSession();
    location.assign('/');
  });
  replace(
    bar,
    h('a', { class: 'brand', href: '/' }, platform),
    h('nav', { 'aria-label': '主导航 / main' }, links),
    h(
      'span',
      { class: 'who', 'data-testid': 'who' },
      `${session.organisation.name}（${ORG_TYPE_LABELS[session.organisation.type] ?? session.organisation.type}）· ${session.user.displayName ?? session.user.username}`,
    ),
    signOut,
  );
}

/** The page's message line: read out by screen readers as it changes. */
export function notify(message: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  let el = document.getElementById('notice');
  if (!el) {
    el = h('div', { id: 'notice', role: 'status', 'aria-live': 'polite' });
    byId('main').prepend(el);
  }
  el.className = `notice ${kind}`;
  el.textContent = message;
}

/** Shows a refusal; a lost login offers the way back in. */
export function notifyError(err: unknown): void {
  notify(describeError(err), 'error');
  if (isSignedOut(err)) {
    const el = byId('notice');
    el.append(' ', h('a', { href: loginUrl() }, '重新登录 / sign in'));
  }
}

/**
 * Runs `run` once at a time for `busy` (a button or a form): its buttons disabled and it marked busy meanwhile,
 * success announced, a refusal shown — never thrown away silently.
 */
export async function runBusy(
  busy: HTMLElement,
  buttons: HTMLButtonElement[],
  run: () => Promise<unknown>,
  opts: { done?: string; onError?: (err: unknown) => void } = {},
): Promise<void> {
  if (busy.getAttribute('aria-busy') === 'true') return;
  busy.setAttribute('aria-busy', 'true');
  buttons.forEach((b) => (b.disabled = true));
  try {
    await run();
    if (opts.done) notify(opts.done, 'ok');
  } catch (err) {
    (opts.onError ?? notifyError)(err);
  } finally {
    busy.removeAttribute('aria-busy');
    buttons.forEach((b) => (b.disabled = false));
  }
}

/** A button runs an action. */
export function action(button: HTMLButtonElement, run: () => Promise<unknown>, done?: string): void {
  button.addEventListener('click', (ev) => {
    ev.preventDefault();
    void runBusy(button, [button], run, { done });
  });
}

/** The page's main area, emptied, with its heading. */
export function mainArea(title: string): HTMLElement {
  const main = byId('main');
  const notice = document.getElementById('notice');
  replace(main, notice, h('h1', {}, title));
  return main;
}

/** A form's submit (button or Enter) runs `run`, with the same care as `action`. */
export function onSubmit(form: HTMLFormElement, run: () => Promise<unknown>, done?: string): void {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void runBusy(form, [...form.querySelectorAll('button')], run, { done });
  });
}
