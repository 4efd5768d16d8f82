import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import { NOTIFICATION_HEADERS } from '../bank/gateway';
import type { DepositService } from './deposits.service';
import type { CreditService } from './credits.service';
import type { SlaReportService } from './sla-report';

const SectionParams = z.object({ tenderId: z.uuid(), sectionId: z.uuid() });
const TenderParams = z.object({ tenderId: z.uuid() });
const RefundParams = z.object({ refundId: z.uuid() });
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), '须为有效日期 (a valid date)');
const ReportQuery = z.object({ from: date, to: date, tenderId: z.uuid().optional() }).refine((q) => q.from <= q.to, { message: '起始日期不得晚于截止日期 (from must not be after to)' });

export function depositRoutes(
  routes: RouteTable,
  svc: { deposits: DepositService; credits: CreditService; sla: SlaReportService },
): void {
  const tag = 'deposits';
  routes.add({
    method: 'post', path: '/tenders/:tenderId/sections/:sectionId/deposit-account', tag, access: ['bidder'], params: SectionParams, status: 200,
    summary: '取得本标段的投标保证金缴纳账户（虚拟子账户，每个投标人每个标段唯一） (the deposit account for this section: a virtual sub-account of yours alone)',
    handler: ({ ctx, params }) => svc.deposits.openAccount(ctx, params.tenderId, params.sectionId),
  });
  routes.add({
    method: 'get', path: '/deposits/mine', tag, access: ['bidder'],
    summary: '我的投标保证金及退款（含应退期限） (my deposits and refunds, with due dates)',
    handler: ({ ctx }) => svc.deposits.mine(ctx),
  });
  routes.add({
    method: 'get', path: '/tenders/:tenderId/deposits', tag, access: ['agency', 'tenderer', 'regulator', 'operator'], params: TenderParams,
    summary: '项目保证金：开标唱标前仅显示笔数，之后显示各投标人状态 (counts until the prices are read, then each bidder\'s status)',
    handler: ({ ctx, params }) => svc.deposits.ofTender(ctx, params.tenderId),
  });
  routes.add({
    method: 'get', path: '/refunds/:refundId/voucher.pdf', tag, access: 'authenticated', params: RefundParams, produces: 'application/pdf',
    summary: '保证金退还凭证 PDF (the refund voucher)',
    handler: async ({ ctx, params, res }) => {
      const pdf = await svc.deposits.voucher(ctx, params.refundId); // before the type: a refusal answers in JSON
      res.type('application/pdf').send(pdf);
    },
  });
  routes.add({
    method: 'get', path: '/deposits/sla-report', tag, access: ['regulator', 'operator'], query: ReportQuery,
    summary: '保证金退还时效报告：应退、已退、按期、逾期（按项目、按期间） (refunds released, paid, on time, overdue)',
    handler: ({ ctx, query }) => svc.sla.report(ctx, query),
  });
  routes.add({
    method: 'get', path: '/deposits/sla-report.pdf', tag, access: ['regulator', 'operator'], query: ReportQuery, produces: 'application/pdf',
    summary: '保证金退还时效报告 PDF (the same, as a PDF)',
    handler: async ({ ctx, query, res }) => {
      const pdf = await svc.sla.pdf(ctx, query);
      res.type('application/pdf').send(pdf);
    },
  });
  // The bank's own call: no login, but an HMAC signature over the exact bytes, checked before anything is read.
  routes.add({
    method: 'post', path: '/bank/notifications', tag, access: 'public', status: 200,
    summary: '银行到账通知（银企直连，HMAC 签名；按银行交易流水号幂等） (the bank\'s signed credit notification; idempotent by transaction id)',
    handler: ({ ctx, req }) =>
      svc.credits.receive(ctx, {
        rawBody: (req as { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0),
        timestamp: req.get(NOTIFICATION_HEADERS.timestamp),
        nonce: req.get(NOTIFICATION_HEADERS.nonce),
        signature: req.get(NOTIFICATION_HEADERS.signature),
      }),
  });
}
