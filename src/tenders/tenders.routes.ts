import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import { UnsupportedMediaType } from '../shared/errors';
import { FileNameInvalid } from './tenders.errors';
import type { TenderService } from './tenders.service';
import * as s from './tenders.schemas';

const UploadQuery = z.object({ fileName: z.string().min(1).max(200) });

/** A file name as people write it (Chinese included), with nothing that could name a path. */
function checkFileName(name: string): string {
  if (/[\\/\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..' || name.trim() !== name) throw FileNameInvalid();
  return name;
}

export function tenderRoutes(routes: RouteTable, tenders: TenderService): void {
  const tag = 'tenders';

  routes.add({
    method: 'post', path: '/tenders', tag, access: ['agency'], body: s.CreateTenderBody,
    summary: '新建招标项目（草稿） (create a draft tender with its sections)',
    handler: ({ ctx, body }) => tenders.create(ctx, body),
  });
  routes.add({
    method: 'get', path: '/tenders', tag, access: 'authenticated', query: s.ListTendersQuery,
    summary: '招标项目列表与检索 (list and search)',
    handler: ({ ctx, query }) => tenders.list(ctx, query),
  });
  routes.add({
    method: 'get', path: '/tenders/:tenderId', tag, access: 'authenticated', params: s.TenderParams,
    summary: '招标项目详情 (detail)',
    handler: ({ ctx, params }) => tenders.get(ctx, params.tenderId),
  });
  routes.add({
    method: 'patch', path: '/tenders/:tenderId', tag, access: ['agency'], params: s.TenderParams, body: s.UpdateTenderBody,
    summary: '修改草稿 (edit a draft)',
    handler: ({ ctx, params, body }) => tenders.update(ctx, params.tenderId, body),
  });
  routes.add({
    method: 'post', path: '/tenders/:tenderId/publish', tag, access: ['agency'], params: s.TenderParams, status: 200,
    summary: '发布（发出招标文件） (publish: the documents are issued)',
    handler: ({ ctx, params }) => tenders.publish(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: '/tenders/:tenderId/clarifications', tag, access: ['agency'], params: s.TenderParams, body: s.ClarifyBody,
    summary: '发布澄清或修改；不足十五日的顺延截止时间 (clarify; postpones the deadline per TLR 21)',
    handler: ({ ctx, params, body }) => tenders.clarify(ctx, params.tenderId, body),
  });
  routes.add({
    method: 'post', path: '/tenders/:tenderId/terminate', tag, access: ['agency'], params: s.TenderParams, body: s.TerminateBody,
    status: 200,
    summary: '终止招标 (terminate, TLR 31)',
    handler: ({ ctx, params, body }) => tenders.terminate(ctx, params.tenderId, body.reason),
  });
  routes.add({
    method: 'post', path: '/tenders/:tenderId/documents', tag, access: ['agency'], params: s.TenderParams, query: UploadQuery,
    rawBody: { description: 'the file itself; Content-Type is its media type; ?fileName= its name' },
    summary: '上传招标文件（草稿阶段） (upload a tender document, streamed)',
    handler: ({ ctx, params, query, req }) => {
      const contentType = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!contentType || contentType === 'application/json' || contentType.startsWith('multipart/')) {
        throw UnsupportedMediaType({}, { expected: 'the file media type, e.g. application/pdf' });
      }
      return tenders.uploadDocument(ctx, params.tenderId, { fileName: checkFileName(query.fileName), contentType, body: req });
    },
  });
  routes.add({
    method: 'get', path: '/tenders/:tenderId/documents/:documentId', tag, access: 'authenticated', params: s.DocumentParams,
    produces: 'application/octet-stream',
    summary: '下载招标文件（记录下载） (download; recorded)',
    handler: async ({ ctx, params, res }) => {
      const { document, body } = await tenders.openDocument(ctx, params.tenderId, params.documentId);
      res.setHeader('Content-Type', document.contentType);
      res.setHeader('Content-Length', String(document.sizeBytes));
      res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(document.fileName)}`);
      res.setHeader('X-Content-SHA256', document.sha256);
      body.pipe(res);
      await new Promise<void>((resolve, reject) => {
        res.on('finish', resolve);
        res.on('close', resolve);
        body.on('error', reject);
      });
    },
  });
}
