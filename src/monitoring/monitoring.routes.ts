import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { AuditService } from './audit.service';
import type { AlertsService } from './alerts.service';

const ListEventsQuery = z.object({
  tenderId: z.uuid().optional(),
  action: z.string().regex(/^[a-z._-]{1,64}$/).optional(),
  actorOrgId: z.uuid().optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const ListAlertsQuery = z.object({
  tenderId: z.uuid().optional(),
  severity: z.enum(['info', 'warning', 'high', 'critical']).optional(),
  status: z.enum(['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed']).optional(),
  rule: z.string().regex(/^[a-z0-9._-]{1,64}$/).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const AlertParams = z.object({ alertId: z.uuid() });

export function monitoringRoutes(routes: RouteTable, { audit, alerts }: { audit: AuditService; alerts: AlertsService }): void {
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
    method: 'get', path: '/alerts', tag, access: ['regulator', 'operator'], query: ListAlertsQuery,
    summary: '预警列表，新到旧，可按项目、严重程度、状态、规则筛选 (alerts, newest first, with filters)',
    handler: ({ query }) => alerts.list(query),
  });
  routes.add({
    method: 'get', path: '/alerts/:alertId', tag, access: ['regulator', 'operator'], params: AlertParams,
    summary: '预警详情及其证据 (an alert and its evidence)',
    handler: ({ params }) => alerts.get(params.alertId),
  });
}
