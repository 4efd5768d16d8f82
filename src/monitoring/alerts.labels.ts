/** How alerts' statuses and severities read in Chinese (exports, the report, refusals). */
import type { AlertSeverity, AlertStatus } from './alerts.repository';

export const STATUS_LABELS: Readonly<Record<AlertStatus, string>> = {
  open: '待处理',
  acknowledged: '已签收',
  investigating: '调查中',
  confirmed: '已确认属实',
  dismissed: '已排除',
};

export const SEVERITY_LABELS: Readonly<Record<AlertSeverity, string>> = {
  critical: '严重',
  high: '高',
  warning: '警告',
  info: '提示',
};

export const statusLabel = (s: AlertStatus): string => `${STATUS_LABELS[s]}(${s})`;
