/**
 * 我的投标文件: the organisation's own bids with their receipts (EB 27) — the PDF and the RFC 3161 time-stamp token
 * — how to check a receipt offline, and withdrawal before the deadline (TL 29), confirmed first: a withdrawn bid
 * cannot be restored, only submitted again.
 */
import { download, post } from '../lib/api';
import { h } from '../lib/dom';
import { action } from '../lib/layout';
import { bytes, shanghai } from '../lib/format';
import { sectionLabel, type Bid, type BidderData } from './model';
import type { PlatformClock } from '../lib/clock';

const DECRYPTION: Record<string, [string, string]> = {
  'no-key': ['待解密', 'warn'],
  'key-received': ['已交密钥，解密中', 'warn'],
  decrypted: ['已解密', 'ok'],
  failed: ['解密失败', 'bad'],
};

function statusBadge(bid: Bid, data: BidderData): HTMLElement {
  if (bid.status === 'withdrawn') return h('span', { class: 'badge' }, `已撤回 / withdrawn`);
  if (bid.status === 'superseded') return h('span', { class: 'badge' }, `已被替换 / superseded`);
  const d = data.decryptions.get(bid.id);
  if (d) {
    const [label, kind] = DECRYPTION[d.decryption] ?? [d.decryption, 'warn'];
    return h('span', { class: `badge ${kind}` }, `${label} / ${d.decryption}`);
  }
  return h('span', { class: 'badge ok' }, '已递交 / submitted');
}

function digest(sha: string): HTMLElement {
  return h('details', { class: 'digest' }, h('summary', { title: sha }, `${sha.slice(0, 12)}…`), h('code', { class: 'full-hash' }, sha));
}

function withdrawControl(bid: Bid, reload: () => Promise<void>): HTMLElement {
  const ask = h('button', { type: 'button', class: 'danger' }, '撤回 / Withdraw');
  const confirmBtn = h('button', { type: 'button', class: 'danger' }, '确认撤回 / Confirm withdrawal');
  const cancel = h('button', { type: 'button', class: 'secondary' }, '取消 / Cancel');
  const box = h(
    'div',
    { class: 'confirm', role: 'group', 'aria-label': '确认撤回 / Confirm', hidden: true },
    h('p', {}, '撤回后该投标文件不再参加开标，且无法恢复；截止前可重新递交。投标保证金将在两个工作日内退还。 / The bid will not be opened; you may submit again before the deadline.'),
    h('div', { class: 'row' }, confirmBtn, cancel),
  );
  ask.addEventListener('click', () => {
    box.hidden = false;
    ask.hidden = true;
    confirmBtn.focus();
  });
  cancel.addEventListener('click', () => {
    box.hidden = true;
    ask.hidden = false;
    ask.focus();
  });
  action(confirmBtn, async () => {
    await post(`/bids/${bid.id}/withdraw`);
    await reload();
  }, '投标文件已撤回 / Bid withdrawn');
  return h('div', {}, ask, box);
}

function actions(bid: Bid, data: BidderData, clock: PlatformClock, reload: () => Promise<void>): HTMLElement {
  const short = bid.id.slice(0, 8);
  const pdf = h('button', { type: 'button', class: 'secondary' }, '回执 .pdf / Receipt');
  action(pdf, () => download(`/bids/${bid.id}/receipt.pdf`, `投标回执-${short}.pdf`));
  const tsr = h('button', { type: 'button', class: 'secondary' }, '时间戳 .tsr / Time-stamp');
  action(tsr, () => download(`/bids/${bid.id}/receipt.tsr`, `bid-${short}.tsr`));
  const t = data.tenders.get(bid.tenderId);
  const open = t?.status === 'published' && Date.parse(t.bidDeadline) > clock.now();
  return h(
    'div',
    { class: 'row' },
    pdf,
    tsr,
    bid.status === 'current' && open ? withdrawControl(bid, reload) : null,
    t && !open && t.status !== 'draft' ? h('a', { href: `/hall/${bid.tenderId}` }, '开标大厅 / Opening hall') : null,
  );
}

export function renderBids(host: HTMLElement, data: BidderData, clock: PlatformClock, reload: () => Promise<void>): void {
  if (data.bids.length === 0) {
    host.append(h('p', { class: 'empty-state' }, '您还没有递交投标文件。请按“可投标项目”中的步骤用 bidtool 加密并递交。 / No bids yet: pack, encrypt and submit one with bidtool.'));
    return;
  }
  const headers = ['项目 / 标段 · Tender / section', '状态 / Status', '递交时间 / Submitted', '大小 / Size', 'SHA-256', '日志序号 / Audit seq', '操作 / Actions'];
  const sorted = [...data.bids].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
  host.append(
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stack', 'data-testid': 'my-bids' },
        h('caption', {}, `共 ${data.bids.length} 份 / bids`),
        h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          sorted.map((b) =>
            h(
              'tr',
              { 'data-bid': b.id },
              h('td', { 'data-label': headers[0] }, sectionLabel(data, b.tenderId, b.sectionId)),
              h('td', { 'data-label': headers[1] }, statusBadge(b, data), b.withdrawnAt ? h('small', { class: 'muted' }, ` ${shanghai(b.withdrawnAt)}`) : null),
              h('td', { 'data-label': headers[2] }, shanghai(b.receivedAt)),
              h('td', { 'data-label': headers[3], class: 'num' }, bytes(b.envelopeSize)),
              h('td', { 'data-label': headers[4] }, digest(b.envelopeSha256)),
              h('td', { 'data-label': headers[5], class: 'num' }, String(b.auditSeq)),
              h('td', { 'data-label': headers[6] }, actions(b, data, clock, reload)),
            ),
          ),
        ),
      ),
    ),
    h(
      'details',
      { class: 'verify-help' },
      h('summary', {}, '如何核验回执 / How to verify a receipt'),
      h('p', {}, '时间戳回执（RFC 3161）证明平台在回执所载时间收到了这份加密投标文件。用您递交的 bid.cms 和下载的 .tsr 在本机核验，无需信任本页面： / The token proves when the platform received your envelope; check it on your own machine:'),
      h('pre', { class: 'evidence' }, [
        'openssl ts -verify -data bid.cms -in bid-XXXXXXXX.tsr -CAfile ca.pem',
        'bidtool verify-receipt --in bid.cms --receipt bid-XXXXXXXX.tsr --ca ./keys/ca.pem',
        'bidtool audit-proof --seq <日志序号 / audit seq> --server ' + location.origin + ' --dir ./keys --out proof.json',
      ].join('\n')),
      h('p', {}, '平台根证书 / Platform CA: ', h('a', { href: '/api/v1/pki/ca-certificate', download: 'ca.pem' }, 'ca.pem'), '；时间戳服务证书 / TSA: ', h('a', { href: '/api/v1/pki/tsa-certificate', download: 'tsa.pem' }, 'tsa.pem')),
    ),
  );
}
