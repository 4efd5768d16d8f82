import type { Response } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { AuditService } from './audit.service';
import type { CheckpointService } from './checkpoints.service';

const ListEventsQuery = z.object({
  tenderId: z.uuid().optional(),
  action: z.string().regex(/^[a-z._-]{1,64}$/).optional(),
  actorOrgId: z.uuid().optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const ListCheckpointsQuery = z.object({
  beforeSize: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const SeqParams = z.object({ seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const ProofQuery = z.object({ treeSize: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional() });
const ConsistencyQuery = z.object({
  first: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  second: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});

/** Until the client has taken what was written, or has gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function auditRoutes(routes: RouteTable, { audit, checkpoints }: { audit: AuditService; checkpoints: CheckpointService }): void {
  const tag = 'monitoring';
  routes.add({
    method: 'get', path: '/audit/events', tag, access: ['regulator', 'operator'], query: ListEventsQuery,
    summary: '交易日志（审计链），新到旧 (the audit chain, newest first)',
    handler: ({ query }) => audit.list(query),
  });
  routes.add({
    method: 'get', path: '/audit/verify', tag, access: ['regulator', 'operator'],
    summary: '校验审计链，指出第一处断裂 (verify the chain; names the first broken row)',
    handler: () => audit.verify(),
  });
  routes.add({
    method: 'get', path: '/audit/checkpoints', tag, access: ['regulator', 'operator'], query: ListCheckpointsQuery,
    summary: '已签名的审计检查点（默克尔根），新到旧 (signed checkpoints of the chain, Merkle roots, newest first)',
    handler: ({ ctx, query }) => checkpoints.list(ctx, query),
  });
  routes.add({
    method: 'post', path: '/audit/checkpoints', tag, access: ['operator'], status: 200,
    summary: '立即签署检查点（日志有增长时） (sign a checkpoint now, if the log grew; recorded in the chain)',
    handler: ({ ctx }) => checkpoints.makeNow(ctx),
  });
  routes.add({
    method: 'get', path: '/audit/checkpoints/consistency', tag, access: ['regulator', 'operator'], query: ConsistencyQuery,
    summary: '两个检查点之间的一致性证明 (RFC 6962) (consistency proof between two checkpoints)',
    handler: ({ ctx, query }) => checkpoints.consistencyProof(ctx, query.first, query.second),
  });
  routes.add({
    method: 'get', path: '/audit/events/:seq/proof', tag, access: 'authenticated', params: SeqParams, query: ProofQuery,
    summary: '事件在最新签名检查点中的包含证明；投标人可取本单位事件（如投标回执的 auditSeq） (inclusion proof of an event in the latest signed checkpoint; an organisation may ask for its own events, e.g. its bid receipt\'s auditSeq)',
    handler: ({ ctx, params, query }) => checkpoints.inclusionProof(ctx, params.seq, query.treeSize),
  });
  routes.add({
    method: 'get', path: '/audit/export', tag, access: ['regulator', 'operator'], produces: 'application/x-ndjson',
    summary: '导出交易日志（NDJSON：证书、检查点、全部事件），可离线校验 (export the log as NDJSON for offline verification)',
    handler: async ({ ctx, res }) => {
      const lines = checkpoints.exportLines(ctx); // refuses before any header: a refusal answers in JSON
      const first = await lines.next(); // the first page is read before the headers: a failure here is a JSON error
      res.attachment('audit-export.ndjson').type('application/x-ndjson; charset=utf-8');
      try {
        if (!first.done) res.write(`${first.value}\n`);
        for await (const line of lines) {
          if (res.destroyed) return;
          if (!res.write(`${line}\n`)) await drained(res);
        }
        res.end();
      } catch (err) {
        // headers are gone: all that is left is to cut the stream, which a reader sees as a truncated export
        res.destroy(err as Error);
      }
    },
  });
}
