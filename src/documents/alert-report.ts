/**
 * 预警处置报告 (alert handling report) for the supervising department: the alerts raised in a period and how they were
 * handled — totals, by rule, by severity, by tender — and every alert still overdue, so each one is followed until it
 * is handled. A4 landscape; times in Asia/Shanghai (北京时间).
 */
import { formatShanghai } from '../shared/time';
import type { AlertFigures, AlertReport } from '../monitoring/alert-report.service';
import { SEVERITY_LABELS, STATUS_LABELS } from '../monitoring/alerts.labels';
import { dueLabel } from '../monitoring/alerts.export';
import { FONT, renderPdf } from './pdf';
import { drawHeading, drawKeyValueGrid, drawParagraph, drawTable, type TableColumn } from './table';

const pct = (part: number, whole: number): string => (whole === 0 ? '—' : `${((part / whole) * 100).toFixed(1)}%`);

const FIGURE_COLUMNS: TableColumn[] = [
  { header: '预警数', width: 1.1, align: 'right' },
  { header: '已处理', width: 1.1, align: 'right' },
  { header: '按期处理', width: 1.2, align: 'right' },
  { header: '逾期处理', width: 1.2, align: 'right' },
  { header: '未处理', width: 1.1, align: 'right' },
  { header: '已逾期未处理', width: 1.5, align: 'right' },
  { header: '确认属实', width: 1.2, align: 'right' },
  { header: '排除', width: 1, align: 'right' },
];

const figureCells = (f: AlertFigures): string[] =>
  [f.raised, f.handled, f.handledOnTime, f.handledLate, f.unhandled, f.overdue, f.confirmed, f.dismissed].map(String);

export function renderAlertReport(r: AlertReport): Promise<Buffer> {
  const title = `预警处置报告 ${r.period.from}—${r.period.to}`;
  return renderPdf(
    { title, subject: 'Alert handling report', layout: 'landscape', creationDate: r.generatedAt, pageNumbers: true, footerText: '预警处置报告 · 电子交易平台监督' },
    (doc) => {
      doc.font(FONT.bold).fontSize(18).text('预警处置报告', { align: 'center' });
      doc
        .font(FONT.regular)
        .fontSize(9)
        .text(`统计期间（按预警时间）：${r.period.from} 至 ${r.period.to}　生成时间：${formatShanghai(r.generatedAt)}（北京时间）`, { align: 'center' });
      doc.moveDown(1);
      const t = r.totals;
      drawKeyValueGrid(
        doc,
        [
          ['预警总数', String(t.raised)],
          ['已处理（确认或排除）', String(t.handled)],
          ['按期处理', String(t.handledOnTime)],
          ['逾期处理', String(t.handledLate)],
          ['未处理', String(t.unhandled)],
          ['已逾期未处理', String(t.overdue)],
          ['确认属实', String(t.confirmed)],
          ['排除', String(t.dismissed)],
          ['按期处理率', pct(t.handledOnTime, t.raised)],
          ['处理期限', '严重程度对应的工作日数内（预警当日不计）'],
        ],
        { pairsPerRow: 2 },
      );
      doc.moveDown(0.5);
      drawTable(doc, {
        title: '一、按规则 (by rule)',
        columns: [{ header: '规则', width: 3.5 }, ...FIGURE_COLUMNS],
        rows: r.byRule.map((x) => [x.rule, ...figureCells(x)]),
        emptyText: '本期间无预警',
      });
      drawTable(doc, {
        title: '二、按严重程度 (by severity)',
        columns: [{ header: '严重程度', width: 3.5 }, ...FIGURE_COLUMNS],
        rows: r.bySeverity.map((x) => [`${SEVERITY_LABELS[x.severity]}（${x.severity}）`, ...figureCells(x)]),
      });
      drawTable(doc, {
        title: '三、按项目 (by tender)',
        columns: [{ header: '项目编号', width: 2.6 }, { header: '项目名称', width: 4 }, ...FIGURE_COLUMNS],
        rows: r.byTender.map((x) => [x.code ?? '（不涉及具体项目）', x.name ?? '', ...figureCells(x)]),
        emptyText: '本期间无预警',
      });
      drawHeading(doc, `四、逾期未处理的预警 (overdue: ${r.overdue.length})`);
      drawTable(doc, {
        columns: [
          { header: '规则', width: 2.4 },
          { header: '严重程度', width: 1.1 },
          { header: '标题', width: 5 },
          { header: '项目编号', width: 2.2 },
          { header: '涉及单位', width: 2.6 },
          { header: '预警时间', width: 1.9 },
          { header: '处理期限', width: 1.9 },
          { header: '状态', width: 1.2 },
        ],
        rows: r.overdue.map((a) => [
          a.rule,
          SEVERITY_LABELS[a.severity],
          a.title,
          a.tenderCode,
          a.subjectOrgName,
          formatShanghai(a.raisedAt),
          dueLabel(a.dueAt),
          STATUS_LABELS[a.status],
        ]),
        emptyText: '无逾期未处理的预警',
      });
      drawParagraph(
        doc,
        '本报告由电子交易平台根据预警及其处置记录自动生成；每条预警的证据与每一步处置均记录于交易日志（审计链），可逐条核验（《电子招标投标办法》第四十九条）。',
        { fontSize: 8, color: '#333333' },
      );
    },
  );
}
