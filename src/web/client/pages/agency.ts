/**
 * 招标代理工作台 (/agency): the agency's tenders, a new tender, and one tender's stages up to the contract.
 * Tenderers and the trading centre land here too and see what the API lets them read. Views are addressed by
 * the location hash (#tender/<id>, #new), so Back and bookmarks work without the server knowing about them.
 */
import { h, isUuid } from '../lib/dom';
import { mainArea, topBar } from '../lib/layout';
import { requireSession, type Session } from '../lib/session';
import { createTenderPanel } from '../agency/create';
import { tenderListPanel } from '../agency/list';
import { renderTender } from '../agency/tender';

function title(session: Session): string {
  return session.organisation.type === 'agency' ? '招标代理工作台 · Agency console' : '项目工作台 · Tenders';
}

function route(session: Session): void {
  const hash = location.hash.replace(/^#/, '');
  const tender = /^tender\/(.+)$/.exec(hash);
  document.title = `${title(session)} · ${document.body.dataset.platform ?? ''}`;
  if (tender && isUuid(tender[1])) {
    const main = mainArea('项目详情 · Tender');
    void renderTender(main, session, tender[1], () => route(session));
    return;
  }
  const main = mainArea(title(session));
  const canCreate = session.organisation.type === 'agency';
  if (hash === 'new' && canCreate) {
    main.append(h('p', {}, h('a', { href: '#' }, '← 返回项目列表 / Back to my tenders')), createTenderPanel());
    main.querySelector<HTMLInputElement>('input')?.focus();
    return;
  }
  if (canCreate) main.append(h('p', {}, h('a', { href: '#new', class: 'button' }, '新建项目 / New tender')));
  main.append(tenderListPanel(session));
}

const session = requireSession(['agency', 'tenderer', 'operator']);
if (session) {
  topBar(session);
  window.addEventListener('hashchange', () => {
    route(session);
    document.getElementById('main')?.focus();
  });
  route(session);
}
