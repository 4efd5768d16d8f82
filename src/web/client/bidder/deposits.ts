/**
 * 我的保证金: per section, the virtual sub-account to pay into (from the organisation's basic account, TLR 26),
 * what is due and what arrived, and each refund with its due date — the platform pays within 2 working days of the
 * event that releases it, stricter than the 5 days of TLR 35/57 and GP87 38 — and its voucher (保证金退还凭证).
 */
import { download } from '../lib/api';
import { h } from '../lib/dom';
import { action } from '../lib/layout';
import { shanghai, yuan } from '../lib/format';
import { sectionLabel, type BidderData, type Deposit, type Refund } from './model';

const REASONS: Record<string, string> = {
  'award-notice': '中标通知书发出（未中标）',
  'contract-signed': '中标人签订合同',
  withdrawal: '投标截止前撤回投标',
  'failed-opening': '开标流标',
  'tender-terminated': '招标终止',
  'withdrawn-not-bidder-fault': '非投标人原因解密失败，视为撤回',
  'no-bid': '投标截止时未递交投标文件',
  'paid-after-release': '释放后到账，即时退还',
  'revoked-after-deadline': '截止后撤销投标，不予退还（TLR 35）',
  'winner-refused-to-sign': '中标人拒绝签订合同，不予退还（TLR 74）',
};

const REFUND_STATUS: Record<Refund['status'], [string, string]> = {
  due: ['待退还 / due', 'warn'],
  sending: ['退款中 / sending', 'warn'],
  paid: ['已退还 / paid', 'ok'],
  failed: ['退款失败 / failed', 'bad'],
  forfeited: ['不予退还 / forfeited', 'bad'],
};

const DEPOSIT_KIND: Record<Deposit['status'], string> = { unpaid: 'warn', short: 'bad', paid: 'ok', over: 'warn' };

function refundRows(r: Refund, shortId: string): HTMLElement {
  const [label, kind] = REFUND_STATUS[r.status] ?? [r.status, 'warn'];
  const total = r.principalFen + (r.interestFen ?? 0);
  let voucher: HTMLElement | string = '—';
  if (r.voucher) {
    const b = h('button', { type: 'button', class: 'secondary' }, '退还凭证 .pdf / Voucher');
    action(b, () => download(`/refunds/${r.refundId}/voucher.pdf`, `保证金退还凭证-${shortId}.pdf`));
    voucher = b;
  } else if (r.status === 'paid') voucher = h('span', { class: 'muted' }, '凭证生成中 / being prepared');
  const cells: Array<[string, HTMLElement | string, boolean?]> = [
    ['退还原因 / Reason', REASONS[r.reason] ?? r.reason],
    ['状态 / Status', h('span', { class: `badge ${kind}` }, label)],
    ['应退期限 / Due by', h('span', {}, shanghai(r.dueAt), r.dueEstimated ? h('small', { class: 'muted' }, '（预计：次年节假日安排未公布 / estimated）') : null)],
    ['退还时间 / Paid', r.paidAt ? h('span', {}, shanghai(r.paidAt), r.onTime === false ? h('span', { class: 'badge bad' }, ' 逾期 / late ') : null) : '—'],
    ['本金 / Principal', yuan(r.principalFen), true],
    ['利息 / Interest', r.interestFen === null ? '—' : yuan(r.interestFen), true],
    ['合计 / Total', yuan(total), true],
    ['凭证 / Voucher', voucher],
  ];
  return h('tr', {}, cells.map(([l, c, num]) => h('td', { 'data-label': l, class: num ? 'num' : null }, c)));
}

function depositCard(d: Deposit, data: BidderData): HTMLElement {
  const headingId = `deposit-${d.sectionId}`;
  const refundHeaders = ['退还原因 / Reason', '状态 / Status', '应退期限 / Due by', '退还时间 / Paid', '本金 / Principal', '利息 / Interest', '合计 / Total', '凭证 / Voucher'];
  return h(
    'article',
    { class: 'panel deposit', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, sectionLabel(data, d.tenderId, d.sectionId)),
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, '缴纳账户 / Pay into'), h('dd', {}, h('code', {}, d.accountNo), ` ${d.bankName}`)),
      h('div', {}, h('dt', {}, '应缴 / Due'), h('dd', {}, yuan(d.requiredFen))),
      h('div', {}, h('dt', {}, '已到账 / Received'), h('dd', {}, yuan(d.paidFen))),
      h('div', {}, h('dt', {}, '状态 / Status'), h('dd', {}, h('span', { class: `badge ${DEPOSIT_KIND[d.status]}` }, d.statusLabel))),
      h('div', {}, h('dt', {}, '到账截止 / Pay by'), h('dd', {}, shanghai(d.payBy))),
    ),
    d.status === 'unpaid' || d.status === 'short'
      ? h('p', { class: 'muted' }, '请从本单位基本账户转账至上述账户，投标截止前到账方为有效。 / Pay from your basic account; only money arriving before the deadline counts.')
      : null,
    d.refunds.length === 0
      ? h('p', { class: 'muted' }, '暂无退款。中标通知书发出、撤回投标、流标或招标终止后，平台在两个工作日内原路退还（含利息）。 / Refunds are paid within 2 working days of their release.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'stack' },
            h('caption', {}, '退款 / Refunds'),
            h('thead', {}, h('tr', {}, refundHeaders.map((x, i) => h('th', { scope: 'col', class: i >= 4 && i <= 6 ? 'num' : null }, x)))),
            h('tbody', {}, d.refunds.map((r) => refundRows(r, d.sectionId.slice(0, 8)))),
          ),
        ),
  );
}

export function renderDeposits(host: HTMLElement, data: BidderData): void {
  if (data.deposits.length === 0) {
    host.append(h('p', { class: 'empty-state' }, '暂无保证金账户。在“可投标项目”中点击“取得缴纳账户”，按显示的账号从本单位基本账户转账。 / No deposit accounts yet: get one from an open tender.'));
    return;
  }
  host.append(h('p', { class: 'muted' }, '平台承诺：退款在释放之日起两个工作日内支付（北京时间，按国务院办公厅公布的节假日安排计算）。 / Refunds are paid within 2 working days of their release.'));
  for (const d of data.deposits) host.append(depositCard(d, data));
}
