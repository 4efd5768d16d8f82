/**
 * What a monitoring rule is. A rule reads what the platform recorded (the audit chain, the decrypted bids, the
 * history of tenders) and returns findings; the engine turns each new finding into an alert for the supervising
 * department, with its evidence, once (NDRC1117 §11: irregular behaviour is reported and followed until handled).
 *
 * A new rule is one file exporting a `Rule` and a line in `index.ts`; its thresholds are declared with their defaults
 * and can be changed with MONITORING_THRESHOLDS (JSON, keyed "<rule id>.<threshold>").
 */
import type { Runner } from '../../db';
import type { Clock } from '../../shared/clock';
import type { BlobStore } from '../../shared/blobs';
import type { AlertSeverity } from '../alerts.repository';
import type { StoredAuditEvent } from '../audit.repository';

export interface Finding {
  /** The condition's identity within its rule: the same key is alerted once, however often it is found again. */
  key: string;
  severity: AlertSeverity;
  /** One line for the regulator's list, in Chinese. */
  title: string;
  tenderId: string | null;
  /** The organisations concerned; the first is the alert's subject. */
  orgIds: string[];
  /** The audit events that matched (evidence on the chain). */
  auditSeqs: number[];
  /** The fields that matched and the figures computed, for the alert's page. */
  fields: Record<string, unknown>;
}

export interface RuleEnv {
  db: Runner;
  clock: Clock;
  blobs: BlobStore;
  /** Whether a Shanghai date (YYYY-MM-DD) is a working day on the published calendar (Mon–Fri where none is). */
  isWorkingDay(date: string): Promise<boolean>;
}

export type Thresholds = Record<string, number>;

export interface Rule<T extends Thresholds = Thresholds> {
  /** Stable id, kebab-case: the alert's `rule`. */
  id: string;
  /** The rule of law or policy it rests on, cited on the alert. */
  basis: string;
  /** What it looks for, in Chinese (shown in the regulator's rule list). */
  description: string;
  defaults: T;
  /** Audit actions whose arrival wakes `onEvents`. */
  watches?: readonly string[];
  /** Called with the new events (only those whose action it watches), in chain order. */
  onEvents?(events: StoredAuditEvent[], env: RuleEnv, thresholds: T): Promise<Finding[]>;
  /** Called once a tender's bids are decrypted (the opening reached 唱标), with the tender's id. */
  onOpened?(tenderId: string, env: RuleEnv, thresholds: T): Promise<Finding[]>;
  /** Called nightly: rules across tenders (habitual co-bidding, win rates). */
  onSchedule?(env: RuleEnv, thresholds: T): Promise<Finding[]>;
}

/** Identity for the type checker: `export default defineRule({...})` keeps each rule's thresholds typed. */
export function defineRule<T extends Thresholds>(rule: Rule<T>): Rule<T> {
  return rule;
}

/** Sorted, unique: an order-independent key part for a set of organisations or values. */
export function setKey(values: Iterable<string>): string {
  return [...new Set(values)].sort().join(',');
}
