import { createError } from '../shared/errors';
import type { AlertStatus } from './alerts.repository';
import { STATUS_LABELS } from './alerts.labels';

/** The steps a regulator may take from each status (an alert is acknowledged before it is dismissed: nothing is closed unread). */
export const TRANSITIONS: Readonly<Record<AlertStatus, readonly AlertStatus[]>> = {
  open: ['acknowledged'],
  acknowledged: ['investigating', 'dismissed'],
  investigating: ['confirmed', 'dismissed'],
  confirmed: [],
  dismissed: [],
};

export const NOTE_MAX_CHARS = 2000;

const SUPERVISION_BASIS = 'EB 8, 45, 48 (supervision); EB 49 (the record)';

export const AlertTransitionInvalid = createError<{ from: AlertStatus; to: AlertStatus; allowed: readonly AlertStatus[] }>(
  'ALERT_TRANSITION_INVALID',
  409,
  (p) =>
    `预警当前状态为「${STATUS_LABELS[p.from]}」，不能改为「${STATUS_LABELS[p.to]}」（可选：${p.allowed.length ? p.allowed.map((s) => STATUS_LABELS[s]).join('、') : '无，已处理完毕'}） (an alert that is ${p.from} cannot become ${p.to})`,
);

/** The caller saw another status than the alert has now: someone disposed of it in the meantime. */
export const AlertStatusChanged = createError<{ expected: AlertStatus; current: AlertStatus }>(
  'ALERT_STATUS_CHANGED',
  409,
  (p) => `预警状态已被他人改为「${STATUS_LABELS[p.current]}」，请刷新后再处理 (the alert is now ${p.current}, not ${p.expected}: reload it)`,
);

export const AlertNoteRequired = createError(
  'ALERT_NOTE_REQUIRED',
  422,
  '每一步处置都须填写处置意见 (every step needs a note: what was looked at and why)',
  SUPERVISION_BASIS,
);

export const AlertNoteTooLong = createError<{ max: number; length: number }>(
  'ALERT_NOTE_TOO_LONG',
  422,
  (p) => `处置意见不得超过${p.max}字（当前${p.length}字） (a note has at most ${p.max} characters)`,
);

/**
 * A regulator whose own organisation is the alert's subject may not dispose of it: no one reviews a finding about
 * themselves (回避; the supervising department oversees the trade, not itself — EB 8, 45, 48).
 */
export const AlertOwnOrganisation = createError(
  'ALERT_OWN_ORGANISATION',
  403,
  '该预警涉及本单位，应由其他监督人员处置 (this alert is about your own organisation: another supervisor must dispose of it)',
  SUPERVISION_BASIS,
);

export const AlertExportTooLarge = createError<{ count: number; max: number }>(
  'ALERT_EXPORT_TOO_LARGE',
  422,
  (p) => `符合条件的预警有${p.count}条，超过单次导出上限${p.max}条，请缩小筛选范围（如按时间分段） (${p.count} alerts match, more than ${p.max} per export: narrow the filter)`,
);

export const AlertReportTooLarge = createError<{ count: number; max: number }>(
  'ALERT_REPORT_TOO_LARGE',
  422,
  (p) => `统计期间内有${p.count}条预警，超过单份报告上限${p.max}条，请缩短统计期间 (${p.count} alerts in the period, more than ${p.max} per report: shorten the period)`,
);
