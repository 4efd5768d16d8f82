/**
 * 投标情况: before the opening only how many bids each section holds — never who bid (EB 27; a list of bidders
 * before the deadline is what collusion needs). The route answers counts only.
 */
import { get } from '../lib/api';
import { h, replace, section, table } from '../lib/dom';
import { notifyError } from '../lib/layout';
import { loading, type TenderSection } from './ui';

interface Counts {
  sections: Array<{ sectionId: string; seq: number; count: number }>;
}

export function bidCountsPanel(tenderId: string, sections: TenderSection[]): HTMLElement {
  const body = h('div', { 'aria-live': 'polite' }, loading());
  const refresh = h('button', { type: 'button', class: 'secondary' }, '刷新 / Refresh');
  async function load(): Promise<void> {
    refresh.disabled = true;
    refresh.setAttribute('aria-busy', 'true');
    try {
      const res = await get<Counts>(`/tenders/${tenderId}/bid-counts`);
      const rows = res.sections.map((c) => {
        const s = sections.find((x) => x.id === c.sectionId);
        return [`第 ${c.seq} 标段`, s?.name ?? '', String(c.count)];
      });
      replace(
        body,
        h('div', { class: 'table-wrap' }, table(['标段 / Section', '名称 / Name', '已递交投标文件数 / Bids received'], rows, { testId: 'bid-counts', numeric: [2] })),
      );
    } catch (err) {
      replace(body, h('p', { class: 'muted' }, '投标数量加载失败，请点击刷新重试。 / Could not load the counts.'));
      notifyError(err);
    } finally {
      refresh.disabled = false;
      refresh.removeAttribute('aria-busy');
    }
  }
  refresh.addEventListener('click', () => void load());
  void load();
  return section(
    '投标情况 · Submissions',
    h('p', {}, '开标前仅显示各标段已递交的投标文件数量，不显示投标人名单（EB 27）。 / Counts only before the opening; never who bid.'),
    body,
    h('p', {}, refresh),
  );
}
