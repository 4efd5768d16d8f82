import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { AuditService } from './audit.service';

const ListEventsQuery = z.object({
  tenderId: z.uuid().optional(),
  action: z.string().regex(/^[a-z._-]{1,64}$/).optional(),
  actorOrgId: z.uuid().optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function auditRoutes(routes: RouteTable, { audit }: { audit: AuditService }): void {
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
}
