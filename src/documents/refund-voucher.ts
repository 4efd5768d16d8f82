/**
 * 保证金退还凭证 (deposit refund voucher): one per paid refund — the tender and section, the bidder, the deposit as
 * paid (when, from which account), the release and its reason, the refund as booked by the bank (principal, interest
 * with its rate and day count, total in figures and in Chinese capitals, the payee account, the bank's transaction id),
 * and whether it was paid within the platform's two working days. Times are shown in Asia/Shanghai (北京时间).
 */
import { toChineseCapital } from '../shared/chinese-amount';
import { formatYuan } from '../shared/money';
import { formatShanghai, shanghaiDate } from '../shared/time';
import type { Credit, Refund } from '../deposits/deposits.repository';
import { FONT, renderPdf, type PdfDocument } from './pdf';
import { drawKeyValueGrid, drawParagraph } from './table';

export interface RefundVoucherData {
  refund: Refund;
  credit: Credit;
  tender: { code: string; name: string };
  section: { seq: number; name: string };
  bidderName: string;
}

/** Why a deposit was released, in the words of the voucher. */
export const RELEASE_REASONS: Record<string, string> = {
  'award-notice': '中标通知书发出（未中标）',
  'contract-signed': '中标人签订合同',
  withdrawal: '投标截止前撤回投标',
  'failed-opening': '开标流标（有效投标不足三家）',
  'tender-terminated': '招标终止',
  'withdrawn-not-bidder-fault': '非投标人原因解密失败，视为撤回',
  'no-bid': '投标截止时未递交投标文件',
  'paid-after-release': '释放后到账，即时退还',
  'revoked-after-deadline': '投标截止后撤销投标，不予退还（TLR 35）',
  'winner-refused-to-sign': '中标人拒绝签订合同，不予退还（TLR 74）',
};

export function renderRefundVoucher(data: RefundVoucherData): Promise<Buffer> {
  const { refund: r, credit: c } = data;
  const total = r.principalFen + (r.interestFen ?? 0);
  const rate = ((r.interestRateBp ?? 0) / 100).toFixed(2);
  return renderPdf(
    { title: `保证金退还凭证 ${data.tender.code}`, subject: data.tender.name, creationDate: r.paidAt ?? undefined, footerText: `保证金退还凭证 · ${r.id}` },
    (doc: PdfDocument) => {
      doc.font(FONT.bold).fontSize(20).text('投标保证金退还凭证', { align: 'center' });
      doc.font(FONT.regular).fontSize(9).fillColor('#555555').text('（本凭证所载时间均为北京时间）', { align: 'center' }).fillColor('black');
      doc.moveDown(1);
      drawKeyValueGrid(
        doc,
        [
          ['招标项目编号', data.tender.code],
          ['招标项目名称', data.tender.name],
          ['标段', `第${data.section.seq}标段：${data.section.name}`],
          ['投标人', data.bidderName],
          ['保证金到账时间', formatShanghai(c.bookedAt)],
          ['缴纳账户', `${c.payerAccountName} ${c.payerBankName} ${c.payerAccountNo}`],
          ['保证金本金（元）', `¥${formatYuan(r.principalFen)}`],
          ['退还原因', RELEASE_REASONS[r.reason] ?? r.reason],
          ['释放时间', formatShanghai(r.releasedAt)],
          // the period ends at 00:00 after its last day: shown as that day, by its end
          ['应退还期限', `${shanghaiDate(new Date(r.dueAt.getTime() - 1))} 24:00 前${r.dueEstimated ? '（节假日安排未公布，按周末估算）' : ''}`],
          ['利息（元）', `¥${formatYuan(r.interestFen ?? 0)}（活期年利率 ${rate}%，${r.interestDays ?? 0} 天，按实际天数/360 计息）`],
          ['退还金额（元）', `¥${formatYuan(total)}`],
          ['退还金额（大写）', toChineseCapital(total)],
          ['收款账户', `${r.toAccountName ?? ''} ${r.toBankName ?? ''} ${r.toAccountNo ?? ''}${r.fallback ? '（原缴纳账户无法入账，退至登记的基本账户）' : ''}`],
          ['银行交易流水号', r.bankTxnId ?? ''],
          ['退还时间', r.paidAt ? formatShanghai(r.paidAt) : ''],
          ['是否按期', r.paidAt && r.paidAt <= r.dueAt ? '是（2个工作日内）' : '否'],
        ],
        { pairsPerRow: 1, labelWidth: 1, valueWidth: 3 },
      );
      doc.moveDown(1);
      drawParagraph(doc, '本凭证由电子交易平台根据银行退款记录自动生成（《招标投标法实施条例》第五十七条：退还投标保证金及银行同期存款利息）。', {
        fontSize: 9,
        color: '#333333',
      });
    },
  );
}
