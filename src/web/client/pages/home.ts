/** 登录: certificate login with the key files (in the page only), or an operator's password. */
import { h, field } from '../lib/dom';
import { certificateLogin, passwordLogin } from '../lib/cert-login';
import { readKeyFiles, FILE_HINT } from '../lib/keys';
import { mainArea, onSubmit, topBar } from '../lib/layout';
import { currentSession, homeOf, type Session } from '../lib/session';

/** Only a path on this site: `?next=//evil.example` must not send anyone away. */
function nextPath(): string | null {
  const next = new URLSearchParams(location.search).get('next');
  return next && /^\/(?!\/)/.test(next) && !next.includes('\\') ? next : null;
}

function go(session: Session): void {
  location.assign(nextPath() ?? homeOf(session.organisation.type));
}

function render(): void {
  const session = currentSession();
  topBar(session);
  const main = mainArea('登录 · Sign in');
  if (session) {
    main.append(
      h('p', {}, `已登录：${session.organisation.name} · ${session.user.displayName ?? session.user.username}。`),
      h('p', {}, h('a', { href: homeOf(session.organisation.type), class: 'button' }, '进入工作台 / Continue')),
    );
    return;
  }

  const files = h('input', { type: 'file', multiple: true, accept: '.pem,.crt,.key', required: true, name: 'keys' });
  const certForm = h(
    'form',
    { class: 'panel', 'aria-labelledby': 'cert-login-title' },
    h('h2', { id: 'cert-login-title' }, '数字证书登录 · Certificate login'),
    h('p', {}, '投标人、招标代理、招标人和行政监督部门以数字证书登录。私钥只在本页面中使用，不会上传。 / The private key is used in this page only and never uploaded.'),
    field('密钥文件 / Key files', files, FILE_HINT),
    h('button', { type: 'submit' }, '登录 / Sign in'),
  );
  onSubmit(certForm, async () => {
    const kit = await readKeyFiles(files.files ?? []);
    go(await certificateLogin(kit));
  });

  const username = h('input', { type: 'text', autocomplete: 'username', required: true, name: 'username' });
  const password = h('input', { type: 'password', autocomplete: 'current-password', required: true, name: 'password' });
  const pwForm = h(
    'form',
    { class: 'panel' },
    field('用户名 / Username', username),
    field('口令 / Password', password),
    h('button', { type: 'submit' }, '口令登录 / Sign in'),
  );
  onSubmit(pwForm, async () => go(await passwordLogin(username.value, password.value)));

  main.append(
    certForm,
    h('details', { class: 'panel' }, h('summary', {}, '交易中心运维人员：口令登录 · Operators: password'), pwForm),
  );
}

render();
