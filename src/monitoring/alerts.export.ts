/**
 * Alerts as CSV for a spreadsheet (Excel reads UTF-8 only with a byte-order mark) and as JSON, written a page at a
 * time. Times in Asia/Shanghai (北京时间). Every CSV cell is quoted (RFC 4180), and a cell that a spreadsheet would
 * take for a formula — starting with = + - @, a tab or a carriage return — gets a leading apostrophe: an alert's title
 * or a note can quote what a bidder typed, and an export must not run it (CSV injection).
 */
import { SHANGHAI_OFFSET_MS } from '../shared/time';
import { SEVERITY_LABELS, STATUS_LABELS } from './alerts.labels';
import type { ExportedAlert } from './alert-review.service';

export const UTF8_BOM = '\uFEFF';

/** `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai. */
export function shanghaiTime(at: Date | null): string {
  if (!at) return '';
  const iso = new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Neutralises a would-be formula, then quotes the cell. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** A due time as people read it: the period's last day, by 24:00 (the instant itself is 00:00 the day after). */
export function dueLabel(dueAt: Date | null): string {
  if (!dueAt) return '';
  return `${new Date(dueAt.getTime() - 1 + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10)} 24:00`;
}

const csvLine = (cells: Array<string | number | boolean | null | undefined>): string => `${cells.map(csvCell).join(',')}\r\n`;

const yesNo = (b: boolean | null): string => (b === null ? '' : b ? '是' : '否');

const COLUMNS = [
  '预警编号 (id)',
  '规则 (rule)',
  '严重程度 (severity)',
  '标题 (title)',
  '依据 (basis)',
  '状态 (status)',
  '项目编号 (tender code)',
  '项目名称 (tender name)',
  '涉及单位 (subject organisation)',
  '预警时间 (raised, 北京时间)',
  '处理期限 (due, 北京时间)',
  '期限为估算 (due estimated)',
  '处理完毕时间 (handled)',
  '是否逾期 (overdue)',
  '是否按期处理 (handled on time)',
  '证据审计序号 (evidence audit seqs)',
  '处置记录 (dispositions)',
];

export function csvHeader(): string {
  return UTF8_BOM + csvLine(COLUMNS);
}

export function csvRows(alerts: ExportedAlert[]): string {
  return alerts
    .map((a) =>
      csvLine([
        a.id,
        a.rule,
        `${SEVERITY_LABELS[a.severity]} (${a.severity})`,
        a.title,
        a.basis,
        `${STATUS_LABELS[a.status]} (${a.status})`,
        a.tenderCode ?? '',
        a.tenderName ?? '',
        a.subjectOrgName ?? '',
        shanghaiTime(a.raisedAt),
        dueLabel(a.dueAt),
        a.dueEstimated ? '是' : '否',
        shanghaiTime(a.handledAt),
        yesNo(a.overdue),
        yesNo(a.handledOnTime),
        a.evidence.auditSeqs.join(' '),
        a.dispositions
          .map((d) => `${shanghaiTime(d.at)} ${STATUS_LABELS[d.toStatus]} ${d.userName ?? d.userId}（${d.orgName ?? d.orgId}）：${d.note}`)
          .join('\n'),
      ]),
    )
    .join('');
}

/** The JSON export's opening, up to the alerts array; each page follows as `jsonRows`, then `jsonEnd`. */
export function jsonStart(meta: { exportedAt: Date; count: number; filter: Record<string, unknown> }): string {
  return `{"exportedAt":${JSON.stringify(meta.exportedAt.toISOString())},"timeZone":"Asia/Shanghai","count":${meta.count},"filter":${JSON.stringify(meta.filter)},"alerts":[`;
}

export function jsonRows(alerts: ExportedAlert[], first: boolean): string {
  return (first ? '' : ',') + alerts.map((a) => JSON.stringify(a)).join(',');
}

export const jsonEnd = ']}';
