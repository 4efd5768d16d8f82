import type { RouteTable } from '../../shared/http/route';
import type { RuleEngine } from './engine';

export function ruleRoutes(routes: RouteTable, { engine }: { engine: RuleEngine }): void {
  routes.add({
    method: 'get', path: '/monitoring/rules', tag: 'monitoring', access: ['regulator', 'operator'],
    summary: '监测规则：依据、说明与生效阈值 (the monitoring rules: basis, what each looks for, thresholds in force)',
    handler: async () => engine.describe(),
  });
}
