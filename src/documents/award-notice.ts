/**
 * 中标通知书 (award notice, TL 45): issued to the winner once the candidate publicity has ended and every objection
 * raised during it has been answered (TLR 54). It names the tender and section, the winner, the winning price in
 * figures and in Chinese capitals, the publicity period, and the time within which the contract is to be signed
 * (30 days, TL 46). The platform signs the PDF (document-signature.ts). Times are shown in Asia/Shanghai (北京时间).
 */
import { toChineseCapital } from '../shared/chinese-amount';
import { formatYuan } from '../shared/money';
import { formatShanghai } from '../shared/time';
import { FONT, renderPdf, type PdfDocument } from './pdf';
import { drawHeading, drawKeyValueGrid, drawParagraph, drawTable } from './table';

export interface AwardNoticeData {
  tender: { code: string; name: string; type: 'construction' | 'procurement'; tendererName: string; agencyName: string };
  section: { seq: number; name: string };
  winner: { name: string; creditCode: string; rank: number };
  priceFen: number;
  /** Why a candidate other than the first was chosen; null when the first was. */
  reason: string | null;
  candidates: Array<{ rank: number; bidderName: string; priceFen: number }>;
  publicity: { startsAt: Date; endsAt: Date };
  contractDueBy: Date;
  issuedAt: Date;
}

/** Renders the notice (A4 portrait, one page for up to three candidates). */
export function renderAwardNotice(data: AwardNoticeData): Promise<Buffer> {
  const unit = data.tender.type === 'procurement' ? '包' : '标段';
  const sectionLabel = `第${data.section.seq}${unit}：${data.section.name}`;
  const price = `¥${formatYuan(data.priceFen)}（${toChineseCapital(data.priceFen)}）`;
  return renderPdf(
    {
      title: `中标通知书 ${data.tender.code}`,
      subject: data.tender.name,
      creationDate: data.issuedAt,
      pageNumbers: true,
      footerText: `中标通知书 · ${data.tender.code}`,
    },
    (doc: PdfDocument) => {
      doc.font(FONT.bold).fontSize(22).text('中标通知书', { align: 'center' });
      doc.font(FONT.regular).fontSize(9).fillColor('#555555').text('（本通知书所载时间均为北京时间）', { align: 'center' }).fillColor('black');
      doc.moveDown(1);

      drawParagraph(doc, `${data.winner.name}：`, { fontSize: 12, bold: true });
      drawParagraph(
        doc,
        `你单位于本项目${sectionLabel}递交的投标文件，经评标委员会评审并经中标候选人公示` +
          `（${formatShanghai(data.publicity.startsAt)} 至 ${formatShanghai(data.publicity.endsAt)}），` +
          `确定你单位为中标人，中标价为人民币${price}。`,
        { fontSize: 12, lineGap: 4 },
      );
      drawParagraph(
        doc,
        `请你单位自本通知书发出之日起三十日内，即 ${formatShanghai(data.contractDueBy)} 前，按照招标文件和你单位的投标文件与招标人订立书面合同（《中华人民共和国招标投标法》第四十六条）。`,
        { fontSize: 12, lineGap: 4, spaceAfter: 10 },
      );

      drawKeyValueGrid(
        doc,
        [
          ['招标项目编号', data.tender.code],
          ['招标项目名称', data.tender.name],
          [unit, sectionLabel],
          ['中标人', data.winner.name],
          ['统一社会信用代码', data.winner.creditCode],
          ['中标候选人排名', `第${data.winner.rank}名`],
          ['中标价（元）', `¥${formatYuan(data.priceFen)}`],
          ['中标价（大写）', toChineseCapital(data.priceFen)],
          ['招标人', data.tender.tendererName],
          ['招标代理机构', data.tender.agencyName],
        ],
        { pairsPerRow: 1, labelWidth: 1, valueWidth: 3 },
      );
      doc.moveDown(0.5);
      if (data.reason) {
        drawParagraph(doc, `确定排名第一以外的中标候选人为中标人的理由：${data.reason}`, { fontSize: 10 });
      }

      drawHeading(doc, '中标候选人');
      drawTable(doc, {
        columns: [
          { header: '排名', width: 1, align: 'center' },
          { header: '中标候选人', width: 5 },
          { header: '投标报价（元）', width: 5 },
        ],
        rows: data.candidates.map((c) => [String(c.rank), c.bidderName, `¥${formatYuan(c.priceFen)}\n${toChineseCapital(c.priceFen)}`]),
      });
      doc.moveDown(1);
      drawParagraph(doc, `招标人：${data.tender.tendererName}`, { fontSize: 11, align: 'right' });
      drawParagraph(doc, `招标代理机构：${data.tender.agencyName}`, { fontSize: 11, align: 'right' });
      drawParagraph(doc, `发出时间：${formatShanghai(data.issuedAt)}（北京时间）`, { fontSize: 11, align: 'right', spaceAfter: 12 });
      drawParagraph(doc, '本通知书由电子交易平台生成并以平台数字证书签名，可使用平台 CA 证书离线核验（《电子招标投标办法》第四十条）。', {
        fontSize: 9,
        color: '#333333',
      });
    },
  );
}
