/**
 * 开标记录表 (opening record): what the platform generates and publishes after an online opening (EB 32). It lists,
 * per section, every bid with its decryption result (EB 31: revoked when the bidder caused the failure, withdrawn
 * otherwise), the prices read out (唱标, EB 30) in figures and in Chinese capitals, the bidders' confirmation, the
 * bidders that signed in, and the objections raised and answered during the opening (TLR 44, EB 39).
 *
 * A4 landscape: the bid table has nine columns. Times are shown in Asia/Shanghai (北京时间).
 */
import { toChineseCapital } from '../shared/chinese-amount';
import { formatYuan } from '../shared/money';
import { formatShanghai } from '../shared/time';
import { FONT, renderPdf, type PdfDocument } from './pdf';
import { drawKeyValueGrid, drawParagraph, drawTable, type TableCell } from './table';

export interface OpeningRecordData {
  tender: { code: string; name: string; type: 'construction' | 'procurement'; agencyName: string; tendererName: string; bidDeadline: Date; decryptionStartedAt: Date | null; decryptionEndedAt: Date | null };
  sections: Array<{ seq: number; name: string; estimatedPriceFen: number; outcome: 'opened' | 'failed' /* 流标 */ }>;
  participants: Array<{ bidderName: string; creditCode: string; signedInAt: Date | null }>;
  bids: Array<{ sectionSeq: number; bidderName: string; decryption: 'decrypted' | 'revoked' | 'withdrawn' | 'custodian-opened'; cause: string | null; totalPriceFen: number | null; durationDays: number | null; quality: string | null; projectManager: string | null; deposit: string | null; confirmation: 'confirmed' | 'deemed' | 'disputed' | null }>;
  objections: Array<{ bidderName: string; raisedAt: Date; text: string; answer: string | null; answeredAt: Date | null }>;
  generatedAt: Date;
}

type Bid = OpeningRecordData['bids'][number];

export const TENDER_TYPE_LABEL: Record<OpeningRecordData['tender']['type'], string> = {
  construction: '工程建设',
  procurement: '政府采购',
};

export const DECRYPTION_LABEL: Record<Bid['decryption'], string> = {
  decrypted: '已解密',
  revoked: '撤销（投标人原因）',
  withdrawn: '撤回（非投标人原因）',
  'custodian-opened': '由保管单位开启',
};

export const CONFIRMATION_LABEL: Record<NonNullable<Bid['confirmation']>, string> = {
  confirmed: '已确认',
  deemed: '视为认可',
  disputed: '有异议',
};

/** `¥1,234.50` on one line and the amount in Chinese capitals on the next. */
export function priceCell(fen: number | null): TableCell {
  if (fen === null) return null;
  return `¥${formatYuan(fen)}\n${toChineseCapital(fen)}`;
}

function time(at: Date | null, missing = '—'): string {
  return at ? formatShanghai(at) : missing;
}

function sectionWord(type: OpeningRecordData['tender']['type']): { unit: string; price: string } {
  return type === 'procurement' ? { unit: '包', price: '采购预算金额' } : { unit: '标段', price: '招标项目估算价' };
}

/** Renders the record; rejects with RangeError when a bid names a section that is not listed. */
export async function renderOpeningRecord(data: OpeningRecordData): Promise<Buffer> {
  const { tender } = data;
  const sectionSeqs = new Set(data.sections.map((s) => s.seq));
  if (sectionSeqs.size !== data.sections.length) throw new RangeError('opening record: duplicate section numbers');
  for (const bid of data.bids) {
    if (!sectionSeqs.has(bid.sectionSeq)) throw new RangeError(`opening record: bid of ${bid.bidderName} names unknown section ${bid.sectionSeq}`);
  }
  const words = sectionWord(tender.type);

  return renderPdf(
    {
      title: `开标记录表 ${tender.code}`,
      subject: tender.name,
      layout: 'landscape',
      margin: 40,
      creationDate: data.generatedAt,
      pageNumbers: true,
      footerText: `开标记录表 · ${tender.code} · ${tender.name}`,
    },
    (doc: PdfDocument) => {
      doc.font(FONT.bold).fontSize(20).text('开标记录表', { align: 'center' });
      doc.font(FONT.regular).fontSize(9).fillColor('#555555').text('（本表所载时间均为北京时间）', { align: 'center' }).fillColor('black');
      doc.moveDown(0.6);

      drawKeyValueGrid(doc, [
        ['招标项目编号', tender.code],
        ['项目类型', TENDER_TYPE_LABEL[tender.type]],
        ['招标项目名称', tender.name],
        ['招标人', tender.tendererName],
        ['招标代理机构', tender.agencyName],
        ['开标时间（投标截止时间）', `${formatShanghai(tender.bidDeadline)}（北京时间）`],
        ['解密开始时间', time(tender.decryptionStartedAt, '未开始')],
        ['解密结束时间', time(tender.decryptionEndedAt, tender.decryptionStartedAt ? '未结束' : '未开始')],
      ], { labelWidth: 1.35, valueWidth: 2.15 });
      doc.moveDown(0.4);

      for (const section of [...data.sections].sort((a, b) => a.seq - b.seq)) {
        const bids = data.bids.filter((b) => b.sectionSeq === section.seq);
        drawTable(doc, {
          title: `第${section.seq}${words.unit}：${section.name}`,
          note:
            `${words.price}：¥${formatYuan(section.estimatedPriceFen)}（${toChineseCapital(section.estimatedPriceFen)}）    ` +
            `开标结果：${section.outcome === 'failed' ? '流标' : '正常开标'}    投标文件：${bids.length} 份`,
          columns: [
            // Widths in points of the 762-point landscape content width: 解密结果 holds 撤回（非投标人原因） and
            // 投标总价 a capital amount up to 亿 with 角 and 分 on one line each.
            { header: '序号', width: 28, align: 'center' },
            { header: '投标人', width: 125 },
            { header: '解密结果', width: 110 },
            { header: '投标总价（元）', width: 200 },
            { header: '工期', width: 55, align: 'center' },
            { header: '质量', width: 45 },
            { header: '项目负责人', width: 55 },
            { header: '保证金', width: 94 },
            { header: '确认', width: 50, align: 'center' },
          ],
          rows: bids.map((bid, i) => [
            String(i + 1),
            bid.bidderName,
            DECRYPTION_LABEL[bid.decryption] + (bid.cause ? `\n原因：${bid.cause}` : ''),
            priceCell(bid.totalPriceFen),
            bid.durationDays === null ? null : `${bid.durationDays} 日历天`,
            bid.quality,
            bid.projectManager,
            bid.deposit,
            bid.confirmation ? CONFIRMATION_LABEL[bid.confirmation] : null,
          ]),
          emptyText: `本${words.unit}无投标文件`,
        });
        doc.moveDown(0.4);
      }

      drawTable(doc, {
        title: '参加开标的投标人',
        columns: [
          { header: '序号', width: 3.2, align: 'center' },
          { header: '投标人', width: 30 },
          { header: '统一社会信用代码', width: 20 },
          { header: '签到时间', width: 15, align: 'center' },
        ],
        rows: data.participants.map((p, i) => [String(i + 1), p.bidderName, p.creditCode, time(p.signedInAt, '未签到')]),
        emptyText: '无投标人签到',
      });
      doc.moveDown(0.4);

      drawTable(doc, {
        title: '开标异议及答复',
        columns: [
          { header: '序号', width: 3.2, align: 'center' },
          { header: '异议人', width: 16 },
          { header: '提出时间', width: 10, align: 'center' },
          { header: '异议内容', width: 30 },
          { header: '答复', width: 24 },
          { header: '答复时间', width: 10, align: 'center' },
        ],
        rows: data.objections.map((o, i) => [String(i + 1), o.bidderName, formatShanghai(o.raisedAt), o.text, o.answer ?? '未答复', time(o.answeredAt)]),
        emptyText: '开标过程中无投标人提出异议',
      });
      doc.moveDown(0.4);

      drawParagraph(
        doc,
        '说明：因投标人原因造成投标文件未解密的，视为撤销其投标文件；因投标人之外的原因造成投标文件未解密的，视为撤回其投标文件（《电子招标投标办法》第三十一条）。' +
          '未参加开标的投标人视为认可开标结果。',
        { fontSize: 9, color: '#333333' },
      );
      drawParagraph(
        doc,
        `本开标记录表由电子交易平台依据《电子招标投标办法》第三十二条自动生成并公布。生成时间：${formatShanghai(data.generatedAt)}（北京时间）。`,
        { fontSize: 10 },
      );
    },
  );
}
