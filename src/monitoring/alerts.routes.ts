import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { AlertsService } from './alerts.service';

const ListAlertsQuery = z.object({
  tenderId: z.uuid().optional(),
  severity: z.enum(['info', 'warning', 'high', 'critical']).optional(),
  status: z.enum(['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed']).optional(),
  rule: z.string().regex(/^[a-z0-9._-]{1,64}$/).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const AlertParams = z.object({ alertId: z.uuid() });

export function alertRoutes(routes: RouteTable, { alerts }: { alerts: AlertsService }): void {
  const tag = 'monitoring';
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
