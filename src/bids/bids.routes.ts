import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import { UnsupportedMediaType, ValidationFailed } from '../shared/errors';
import { idleGuardedBody } from '../shared/http/idle-timeout';
import type { BidUploadService } from './bid-upload.service';
import type { BidService } from './bids.service';

const StartParams = z.object({ tenderId: z.uuid(), sectionId: z.uuid() });
const StartBody = z.object({
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).meta({ description: 'envelope size in bytes' }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'SHA-256 of the envelope, lower-case hex' }),
  signature: z.string().regex(/^[A-Za-z0-9+/]+=*$/).max(65_536).meta({ description: 'detached CMS SignedData over the envelope, base64 DER' }),
});
const UploadParams = z.object({ uploadId: z.uuid() });
const BidParams = z.object({ bidId: z.uuid() });
const ListQuery = z.object({ tenderId: z.uuid().optional() });
const TenderParams = z.object({ tenderId: z.uuid() });

/** `uploadIdleMs`: a PATCH that sends no byte for this long is cut off (it stays resumable at its stored offset). */
export function bidRoutes(routes: RouteTable, svc: { uploads: BidUploadService; bids: BidService; uploadIdleMs: number }): void {
  const tag = 'bids';
  routes.add({
    method: 'post', path: '/tenders/:tenderId/sections/:sectionId/bid-uploads', tag, access: ['bidder'], params: StartParams, body: StartBody,
    summary: '开始递交投标文件：声明大小、摘要与签名 (start a bid upload: size, digest, signature)',
    handler: ({ ctx, params, body }) =>
      svc.uploads.start(ctx, params.tenderId, params.sectionId, { ...body, signature: Buffer.from(body.signature, 'base64') }),
  });
  routes.add({
    method: 'patch', path: '/bid-uploads/:uploadId', tag, access: ['bidder'], params: UploadParams,
    rawBody: { description: 'bytes from Upload-Offset on; the request completing the envelope answers with the receipt' },
    summary: '上传（可断点续传）；最后一个字节到达时生成回执 (send bytes, resumable; the last byte yields the receipt)',
    handler: ({ ctx, params, req, res }) => {
      if (!req.is('application/offset+octet-stream')) throw UnsupportedMediaType({}, { expected: 'application/offset+octet-stream' });
      const offset = Number(req.get('upload-offset'));
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw ValidationFailed({ issues: [{ path: 'headers.upload-offset', message: '须为非负整数 (a non-negative integer)' }] });
      }
      const length = req.get('content-length');
      return svc.uploads.append(ctx, params.uploadId, offset, idleGuardedBody(req, res, svc.uploadIdleMs), length === undefined ? null : Number(length));
    },
    status: 200,
  });
  routes.add({
    method: 'get', path: '/bid-uploads/:uploadId', tag, access: ['bidder'], params: UploadParams,
    summary: '上传进度，续传从 offset 开始 (progress; resume from offset)',
    handler: ({ ctx, params }) => svc.uploads.status(ctx, params.uploadId),
  });
  routes.add({
    method: 'delete', path: '/bid-uploads/:uploadId', tag, access: ['bidder'], params: UploadParams,
    summary: '放弃上传 (abort an upload)',
    handler: ({ ctx, params }) => svc.uploads.abort(ctx, params.uploadId),
  });
  routes.add({
    method: 'get', path: '/bids', tag, access: ['bidder'], query: ListQuery,
    summary: '本单位的投标文件 (my organisation’s bids)',
    handler: ({ ctx, query }) => svc.bids.list(ctx, query.tenderId),
  });
  routes.add({
    method: 'get', path: '/bids/:bidId', tag, access: ['bidder'], params: BidParams,
    summary: '投标文件详情 (a bid)',
    handler: ({ ctx, params }) => svc.bids.get(ctx, params.bidId),
  });
  routes.add({
    method: 'get', path: '/bids/:bidId/receipt.tsr', tag, access: ['bidder'], params: BidParams, produces: 'application/timestamp-reply',
    summary: '时间戳回执（RFC 3161） (the time-stamp token)',
    handler: async ({ ctx, params, res }) => {
      const token = await svc.bids.receiptToken(ctx, params.bidId);
      res.type('application/timestamp-reply').send(token);
    },
  });
  routes.add({
    method: 'get', path: '/bids/:bidId/receipt.pdf', tag, access: ['bidder'], params: BidParams, produces: 'application/pdf',
    summary: '投标文件接收回执 PDF (the receipt, PDF)',
    handler: async ({ ctx, params, res }) => {
      const pdf = await svc.bids.receiptPdf(ctx, params.bidId);
      res.type('application/pdf').setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent('投标回执.pdf')}`);
      res.send(pdf);
    },
  });
  routes.add({
    method: 'post', path: '/bids/:bidId/withdraw', tag, access: ['bidder'], params: BidParams, status: 200,
    summary: '截止前撤回投标文件 (withdraw before the deadline, TL 29)',
    handler: ({ ctx, params }) => svc.bids.withdraw(ctx, params.bidId),
  });
  routes.add({
    method: 'get', path: '/tenders/:tenderId/bid-counts', tag, access: ['agency', 'tenderer', 'regulator', 'operator'], params: TenderParams,
    summary: '各标段已递交数量（开标前不显示投标人） (counts only before the opening)',
    handler: ({ ctx, params }) => svc.bids.counts(ctx, params.tenderId),
  });
}
