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

/** What a newcomer needs before the first login: where the account and the key files come from. */
function firstTime(): HTMLElement {
  const code = (text: string) => h('code', {}, text);
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'first-time-title' },
    h('h2', { id: 'first-time-title' }, '第一次使用？ · First time here?'),
    h(
      'ol',
      {},
      h('li', {}, '向交易中心办理单位注册，领取用户名和一次性注册码。 / The trading centre registers your organisation and gives you a username and a one-time code.'),
      h('li', {}, '在本单位电脑上安装投标工具并生成密钥、申领证书（私钥只保存在本机）： / On your own computer, make your keys and get your certificates:', h('br'), code(`npx bidtool enroll --server ${location.origin} --username 用户名 --code 注册码 --out ./keys`)),
      h('li', {}, '回到本页，选择 ./keys 文件夹中的文件登录。 / Come back here and sign in with the files in ./keys.'),
    ),
    h('p', { class: 'muted' }, '投标文件在本机用投标工具加密后再上传，平台任何人在开标前都无法打开。 / Bids are encrypted on your computer before upload: nobody can open them before the opening.'),
  );
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
    firstTime(),
    h('details', { class: 'panel' }, h('summary', {}, '交易中心运维人员：口令登录 · Operators: password'), pwForm),
  );
}

render();
