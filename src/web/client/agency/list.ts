/** 项目列表: the tenders the organisation runs (agency) or owns (tenderer); the trading centre sees every tender. */
import { get } from '../lib/api';
import { h, replace, section, table } from '../lib/dom';
import { shanghai } from '../lib/format';
import { notifyError } from '../lib/layout';
import type { Session } from '../lib/session';
import { deadlinePassed, loading, statusBadge, TYPE_NAMES, type TenderSummary } from './ui';

const PAGE_SIZE = 20;

interface Page {
  items: TenderSummary[];
  total: number;
  page: number;
  pageSize: number;
}

export function tenderListPanel(session: Session): HTMLElement {
  const body = h('div', { 'aria-live': 'polite' }, loading());
  const panel = section('我的项目 · My tenders', body);
  // the trading centre oversees every tender; everyone else sees their own organisation's
  const mine = session.organisation.type !== 'operator';
  let page = 1;

  async function load(): Promise<void> {
    replace(body, loading());
    try {
      const res = await get<Page>(`/tenders?${mine ? 'mine=true&' : ''}page=${page}&pageSize=${PAGE_SIZE}`);
      render(res);
    } catch (err) {
      replace(body, h('p', { class: 'muted' }, '项目列表加载失败。 / Could not load the tenders.'));
      notifyError(err);
    }
  }

  function render(res: Page): void {
    const rows = res.items.map((t) => [
      t.code,
      h('a', { href: `#tender/${t.id}` }, t.name),
      statusBadge(t.status),
      shanghai(t.bidDeadline),
      h(
        'span',
        { class: 'row' },
        h('a', { href: `#tender/${t.id}`, 'aria-label': `查看 ${t.name} / View` }, '查看 / View'),
        deadlinePassed(t)
          ? h('a', { href: `/hall/${t.id}`, class: 'button', 'aria-label': `进入开标大厅：${t.name} / Opening hall` }, '开标大厅 / Opening hall')
          : null,
      ),
    ]);
    const pages = Math.max(1, Math.ceil(res.total / res.pageSize));
    const prev = h('button', { type: 'button', class: 'secondary', disabled: page <= 1 }, '上一页 / Previous');
    const next = h('button', { type: 'button', class: 'secondary', disabled: page >= pages }, '下一页 / Next');
    prev.addEventListener('click', () => {
      page -= 1;
      void load();
    });
    next.addEventListener('click', () => {
      page += 1;
      void load();
    });
    replace(
      body,
      h(
        'div',
        { class: 'table-wrap' },
        table(['项目编号 / Code', '项目名称 / Tender', '状态 / Status', '投标截止（北京时间） / Bid deadline', '操作 / Actions'], rows, {
          testId: 'tender-list',
          empty:
            session.organisation.type === 'agency'
              ? '还没有项目。请在下方“新建项目”中填写项目信息，保存为草稿。 / No tenders yet: create one below.'
              : '暂无项目。 / No tenders.',
        }),
      ),
      res.total > res.pageSize ? h('p', { class: 'row' }, prev, h('span', {}, `第 ${page} / ${pages} 页，共 ${res.total} 个项目`), next) : null,
      h('p', { class: 'muted' }, `类型：${Object.values(TYPE_NAMES).join('；')}。投标截止即开标时间 (TL 34)。`),
    );
  }

  void load();
  return panel;
}
