/**
 * 可投标项目: published tenders before their deadline — sections and deposits, the deadline and a countdown, the
 * documents and clarifications — and how to bid: with bidtool on the bidder's own machine, since a bid must never
 * reach the platform unencrypted (EB 27: the platform keeps it sealed until the opening).
 */
import { download, post } from '../lib/api';
import { h } from '../lib/dom';
import { action } from '../lib/layout';
import { bytes, countdown, shanghai, yuan } from '../lib/format';
import type { Session } from '../lib/session';
import type { BidderData, TenderDetail } from './model';
import type { PlatformClock } from '../lib/clock';
import { deadlineMoved } from '../lib/tender';

/** A value for a POSIX shell, quoted: an organisation's name may hold spaces or quotes. */
function shellQuote(s: string): string {
  return /^[\w./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function commands(t: TenderDetail, sectionId: string, session: Session, creditCode: string | null): string {
  const server = location.origin;
  return [
    '# 1. 打包（清单 + 投标文件）/ pack the bid package and its manifest',
    `bidtool pack --tender ${t.id} --section ${sectionId} --tender-code ${shellQuote(t.code)} \\`,
    `  --bidder-name ${shellQuote(session.organisation.name)} --credit-code ${creditCode ?? '<统一社会信用代码>'} --organisation-id ${session.organisation.id} \\`,
    `  --price-fen <投标总价（分）> --duration-days <工期（日历天）> --quality 合格 --validity-days <投标有效期（日）> \\`,
    `  --pm-name <项目负责人> --pm-id <身份证号码> --author <编制人> --out bid.zip 报价书.pdf 技术标.pdf`,
    '# 2. 用开标公钥加密（在本机完成）/ encrypt to the opening key, on this machine',
    `bidtool encrypt --in bid.zip --tender ${t.id} --server ${server} --dir ./keys --out bid.cms`,
    `bidtool test-decrypt --in bid.cms --dir ./keys --server ${server} --tender ${t.id}`,
    '# 3. 签名并递交（可断点续传），保存回执 / sign and submit (resumable); the receipt is kept',
    `bidtool submit --server ${server} --dir ./keys --tender ${t.id} --section ${sectionId} --in bid.cms`,
  ].join('\n');
}

function clarifications(t: TenderDetail): HTMLElement {
  if (t.clarifications.length === 0) return h('p', { class: 'muted' }, '暂无澄清或修改 / No clarifications yet.');
  return h(
    'ol',
    { class: 'clarifications' },
    t.clarifications.map((c) => {
      const moved = deadlineMoved(c);
      return h(
        'li',
        {},
        // a moved deadline is said outside the folded text: a bidder must not miss it
        moved
          ? h('p', { class: 'notice' }, `本澄清顺延了投标截止时间：由 ${shanghai(c.deadlineBefore)} 顺延至 ${shanghai(c.deadlineAfter)}（北京时间） / This clarification moved the bid deadline.`)
          : null,
        h(
          'details',
          {},
          h('summary', {}, `${c.title}（${shanghai(c.issuedAt, false)} 发布）`, c.affectsBidPreparation ? h('span', { class: 'badge warn' }, '影响投标文件编制') : null),
          h('p', { class: 'pre-line' }, c.body),
        ),
      );
    }),
  );
}

type OpenAccount = (tenderId: string, sectionId: string) => Promise<void>;

function tenderCard(t: TenderDetail, data: BidderData, session: Session, clock: PlatformClock, openAccount: OpenAccount): HTMLElement {
  const deadline = Date.parse(t.bidDeadline);
  const left = h('span', { class: 'clock', 'data-deadline': String(deadline) }, countdown(deadline - clock.now()));
  const headingId = `tender-${t.id}`;

  const sections = t.sections.map((s) => {
    const mine = data.deposits.find((d) => d.tenderId === t.id && d.sectionId === s.id);
    let depositCell: HTMLElement | string = s.depositFen > 0 ? '—' : '无需缴纳 / none';
    if (s.depositFen > 0) {
      if (mine) depositCell = h('span', {}, `${mine.bankName} ${mine.accountNo}`);
      else {
        const get = h('button', { type: 'button', class: 'secondary' }, `取得缴纳账户 · 第${s.seq}标段 / Get the account`);
        action(get, () => openAccount(t.id, s.id), '已取得缴纳账户，请从本单位基本账户转账 / Pay from your basic account');
        depositCell = get;
      }
    }
    return h(
      'tr',
      {},
      h('td', { 'data-label': '标段 / Section' }, `第${s.seq}标段 ${s.name}`),
      h('td', { 'data-label': '投标保证金 / Deposit', class: 'num' }, s.depositFen > 0 ? yuan(s.depositFen) : '—'),
      h('td', { 'data-label': '缴纳账户 / Pay into' }, depositCell),
    );
  });

  return h(
    'article',
    { class: 'panel tender', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, t.name),
    h('p', { class: 'muted' }, `项目编号 ${t.code}${t.region ? ` · ${t.region}` : ''} · ${t.type === 'procurement' ? '政府采购' : '工程建设'}`),
    h(
      'dl',
      { class: 'countdowns' },
      h('div', {}, h('dt', {}, '投标截止（即开标） / Bid deadline'), h('dd', {}, `${shanghai(t.bidDeadline)}`)),
      h('div', {}, h('dt', {}, '距截止 / Time left'), h('dd', {}, left)),
    ),
    Date.parse(t.originalDeadline) !== deadline ? h('p', { class: 'muted' }, `原截止时间 ${shanghai(t.originalDeadline)}，已因澄清顺延 / postponed by a clarification`) : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stack' },
        h('caption', {}, '标段与投标保证金 / Sections and deposits'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '标段 / Section'), h('th', { scope: 'col', class: 'num' }, '投标保证金 / Deposit'), h('th', { scope: 'col' }, '缴纳账户 / Pay into'))),
        h('tbody', {}, sections),
      ),
    ),
    h('h4', {}, '招标文件 / Tender documents'),
    t.documents.length === 0
      ? h('p', { class: 'muted' }, '暂无招标文件 / No documents.')
      : h(
          'ul',
          { class: 'documents' },
          t.documents.map((d) => {
            const b = h('button', { type: 'button', class: 'link' }, `下载 ${d.fileName}`);
            action(b, () => download(`/tenders/${t.id}/documents/${d.id}`, d.fileName));
            return h('li', {}, b, h('span', { class: 'muted' }, ` ${bytes(d.sizeBytes)} · SHA-256 ${d.sha256.slice(0, 12)}…`));
          }),
        ),
    h('h4', {}, '澄清与修改 / Clarifications'),
    clarifications(t),
    h(
      'details',
      { class: 'how-to-bid' },
      h('summary', {}, '如何投标 / How to bid'),
      h('p', {}, '投标文件须在您自己的电脑上用投标工具 bidtool 打包、加密后递交：未加密的投标文件绝不能上传到平台。加密后在开标前任何人（包括平台）都无法打开。 / Bids are packed and encrypted with bidtool on your own machine; a bid never reaches the platform unencrypted.'),
      t.sections.map((s) =>
        h('div', {}, h('h5', {}, `第${s.seq}标段 ${s.name}`), h('pre', { class: 'evidence', 'aria-label': `第${s.seq}标段投标命令 / commands` }, commands(t, s.id, session, data.creditCode))),
      ),
    ),
  );
}

/** Renders the open tenders; returns a ticker that refreshes the countdowns (and says when one has passed). */
export function renderOpenTenders(host: HTMLElement, data: BidderData, session: Session, clock: PlatformClock, reload: () => Promise<void>): () => void {
  // the account is the bidder's own virtual sub-account for the section (one per bidder and section)
  const openAccount: OpenAccount = async (tenderId, sectionId) => {
    await post(`/tenders/${tenderId}/sections/${sectionId}/deposit-account`);
    await reload();
  };
  host.append(
    h('p', { class: 'muted' }, '投标方式：在您自己的电脑上用投标工具 bidtool 打包、加密、签名后递交（各项目下“如何投标”列出填好项目与标段编号的命令）。未加密的投标文件绝不上传到平台；开标前任何人都无法打开。 / Bids are packed and encrypted with bidtool on your own machine, never uploaded in the clear.'),
  );
  if (data.open.length === 0) {
    host.append(h('p', { class: 'empty-state' }, '目前没有可投标的项目。项目发布后会出现在这里；已截止的项目请在“我的投标文件”中进入开标大厅。 / No tender is open for bids now.'));
  }
  for (const t of data.open) {
    host.append(tenderCard(t, data, session, clock, openAccount));
  }
  return () => {
    host.querySelectorAll<HTMLElement>('[data-deadline]').forEach((el) => {
      const ms = Number(el.dataset.deadline) - clock.now();
      if (ms > 0) el.textContent = countdown(ms);
      else if (!el.dataset.passed) {
        el.dataset.passed = '1';
        const tenderId = el.closest('article')?.getAttribute('aria-labelledby')?.slice('tender-'.length) ?? '';
        el.replaceChildren('已截止 / Closed · ', h('a', { href: `/hall/${tenderId}` }, '进入开标大厅 / Opening hall'));
      }
    });
  };
}
