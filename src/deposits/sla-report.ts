/**
 * The supervisors' view of the platform's promise — every deposit refunded within two working days of its release —
 * per tender and per period: refunds released, paid, paid on time, paid late, unpaid, and overdue (unpaid past the
 * due time), as JSON and as a PDF. Forfeitures are not refunds and are not counted.
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { DAY_MS } from '../shared/clock';
import { formatShanghai, startOfShanghaiDay } from '../shared/time';
import { requireActor, type ActionContext } from '../shared/access';
import { tendersRepository } from '../tenders/tenders.repository';
import { renderPdf } from '../documents/pdf';
import { drawKeyValueGrid, drawTable } from '../documents/table';
import { FONT } from '../documents/pdf';
import { formatYuan } from '../shared/money';
import { depositsRepository as repo, type Refund } from './deposits.repository';

export interface SlaFigures {
  released: number;
  paid: number;
  paidOnTime: number;
  paidLate: number;
  unpaid: number;
  overdue: number;
  /** paidOnTime / released, 1 when nothing was released. */
  onTimeRate: number;
  /** The deposits' principal released for refund, in fen. */
  releasedFen: number;
  /** What was paid back, principal and interest, in fen. */
  paidFen: number;
  /** The principal still to pay back, in fen (its interest is reckoned when it is paid). */
  unpaidFen: number;
}

export interface SlaReport {
  period: { from: string; to: string };
  generatedAt: Date;
  totals: SlaFigures;
  tenders: Array<{ tenderId: string; code: string; name: string } & SlaFigures>;
}

function figures(refunds: Refund[], now: Date): SlaFigures {
  const paid = refunds.filter((r) => r.paidAt);
  const paidOnTime = paid.filter((r) => r.paidAt!.getTime() <= r.dueAt.getTime()).length;
  const unpaid = refunds.filter((r) => !r.paidAt);
  const sum = (rs: Refund[], f: (r: Refund) => number) => rs.reduce((n, r) => n + f(r), 0);
  return {
    released: refunds.length,
    paid: paid.length,
    paidOnTime,
    paidLate: paid.length - paidOnTime,
    unpaid: unpaid.length,
    overdue: unpaid.filter((r) => now.getTime() > r.dueAt.getTime()).length,
    onTimeRate: refunds.length === 0 ? 1 : paidOnTime / refunds.length,
    releasedFen: sum(refunds, (r) => r.principalFen),
    paidFen: sum(paid, (r) => r.principalFen + (r.interestFen ?? 0)),
    unpaidFen: sum(unpaid, (r) => r.principalFen),
  };
}

const dayNumberOf = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);

export class SlaReportService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Refunds released from `from` to `to` (Asia/Shanghai dates, both included), optionally of one tender. */
  async report(ctx: ActionContext, q: { from: string; to: string; tenderId?: string }): Promise<SlaReport> {
    requireActor(ctx, 'regulator', 'operator');
    const refunds = await repo.refundsReleasedBetween(this.db, startOfShanghaiDay(dayNumberOf(q.from)), startOfShanghaiDay(dayNumberOf(q.to) + 1), q.tenderId);
    const now = this.clock.now();
    const ids = [...new Set(refunds.map((r) => r.tenderId))];
    const tenders = [];
    for (const id of ids) {
      const t = (await tendersRepository.findTender(this.db, id))!;
      tenders.push({ tenderId: id, code: t.code, name: t.name, ...figures(refunds.filter((r) => r.tenderId === id), now) });
    }
    return { period: { from: q.from, to: q.to }, generatedAt: now, totals: figures(refunds, now), tenders };
  }

  async pdf(ctx: ActionContext, q: { from: string; to: string; tenderId?: string }): Promise<Buffer> {
    const r = await this.report(ctx, q);
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    return renderPdf(
      { title: `保证金退还时效报告 ${r.period.from}—${r.period.to}`, layout: 'landscape', creationDate: r.generatedAt, pageNumbers: true, footerText: '保证金退还时效报告' },
      (doc) => {
        doc.font(FONT.bold).fontSize(18).text('投标保证金退还时效报告', { align: 'center' });
        doc.font(FONT.regular).fontSize(9).text(`统计期间（按释放日期）：${r.period.from} 至 ${r.period.to}　生成时间：${formatShanghai(r.generatedAt)}（北京时间）`, { align: 'center' });
        doc.moveDown(1);
        const t = r.totals;
        drawKeyValueGrid(doc, [
          ['应退笔数', String(t.released)],
          ['已退笔数', String(t.paid)],
          ['按期（2个工作日内）', String(t.paidOnTime)],
          ['逾期已退', String(t.paidLate)],
          ['未退', String(t.unpaid)],
          ['已逾期未退', String(t.overdue)],
          ['按期率', pct(t.onTimeRate)],
          ['应退本金（元）', formatYuan(t.releasedFen)],
          ['已退本息（元）', formatYuan(t.paidFen)],
          ['未退本金（元）', formatYuan(t.unpaidFen)],
          ['平台承诺', '释放后2个工作日内退还本息'],
        ]);
        doc.moveDown(1);
        drawTable(doc, {
          columns: [
            { header: '项目编号', width: 3 },
            { header: '项目名称', width: 6 },
            { header: '应退', width: 1.2, align: 'right' },
            { header: '已退', width: 1.2, align: 'right' },
            { header: '按期', width: 1.2, align: 'right' },
            { header: '逾期已退', width: 1.5, align: 'right' },
            { header: '逾期未退', width: 1.5, align: 'right' },
            { header: '按期率', width: 1.5, align: 'right' },
          ],
          rows: r.tenders.map((x) => [x.code, x.name, String(x.released), String(x.paid), String(x.paidOnTime), String(x.paidLate), String(x.overdue), pct(x.onTimeRate)]),
        });
      },
    );
  }
}
