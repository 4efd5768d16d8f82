/** What the verifier of an audit-log export can find wrong, each named with where it is. */

export type ProblemKind =
  | 'EVENT_MALFORMED'
  | 'EVENT_ALTERED'
  | 'EVENT_MISSING'
  | 'EVENTS_REORDERED'
  | 'EVENT_DUPLICATED'
  | 'CHAIN_BROKEN'
  | 'CERTIFICATE_INVALID'
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_FORGED'
  | 'CHECKPOINT_SIGNER_UNTRUSTED'
  | 'CHECKPOINT_BEYOND_LOG'
  | 'CHECKPOINT_ROOT_MISMATCH'
  | 'CHECKPOINT_HEAD_MISMATCH'
  | 'CHECKPOINTS_INCONSISTENT';

export const PROBLEM_KIND_LABELS: Record<ProblemKind, string> = {
  EVENT_MALFORMED: '事件行无法解析 (event line unreadable)',
  EVENT_ALTERED: '事件内容被篡改：重算哈希不符 (event altered: its hash does not match its fields)',
  EVENT_MISSING: '事件缺失 (events missing)',
  EVENTS_REORDERED: '事件顺序被调换 (events out of order)',
  EVENT_DUPLICATED: '事件重复 (event duplicated)',
  CHAIN_BROKEN: '前序哈希不符：前一事件被替换 (previous-hash link broken: the event before was replaced)',
  CERTIFICATE_INVALID: '证书无法读取或非平台根证书签发 (certificate unreadable or not issued by the root)',
  CHECKPOINT_MALFORMED: '检查点格式错误 (checkpoint malformed)',
  CHECKPOINT_FORGED: '检查点签名无效：伪造或被改动 (checkpoint signature invalid: forged or altered)',
  CHECKPOINT_SIGNER_UNTRUSTED: '检查点签名证书不可信 (checkpoint signer certificate not trusted)',
  CHECKPOINT_BEYOND_LOG: '检查点覆盖的事件多于导出中的事件：日志被截短 (checkpoint covers more events than exported: log truncated)',
  CHECKPOINT_ROOT_MISMATCH: '检查点的默克尔根与事件重算结果不符 (checkpoint Merkle root does not match the events)',
  CHECKPOINT_HEAD_MISMATCH: '检查点的末事件哈希不符 (checkpoint last-event hash does not match)',
  CHECKPOINTS_INCONSISTENT: '前后检查点不一致：历史被改写 (successive checkpoints disagree: history rewritten)',
};

export interface Problem {
  kind: ProblemKind;
  /** The event concerned (for a range of missing events, the first). */
  seq?: number;
  /** 1-based line of events.ndjson. */
  line?: number;
  /** The checkpoint concerned, by the tree size it claims. */
  checkpoint?: number;
  detail: string;
}
