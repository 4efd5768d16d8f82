import { createError } from '../shared/errors';

export const AuditChainBroken = createError<{ seq: number; problem: string }>(
  'AUDIT_CHAIN_BROKEN',
  409,
  (p) => `审计链在第 ${p.seq} 条事件处断裂，拒绝为其签署检查点 (the chain is broken at seq ${p.seq}: no checkpoint is signed over it)`,
  'EB 49',
);
export const NoCheckpointYet = createError(
  'AUDIT_NO_CHECKPOINT',
  409,
  '尚无已签名的审计检查点 (no signed checkpoint yet)',
);
export const CheckpointNotFound = createError<{ treeSize: number }>(
  'AUDIT_CHECKPOINT_NOT_FOUND',
  404,
  (p) => `没有覆盖 ${p.treeSize} 条事件的检查点 (no checkpoint of tree size ${p.treeSize})`,
);
export const EventNotYetCheckpointed = createError<{ seq: number; treeSize: number; nextWithinMinutes: number }>(
  'AUDIT_EVENT_NOT_YET_CHECKPOINTED',
  409,
  (p) => `第 ${p.seq} 条事件晚于最新检查点（${p.treeSize} 条），下一个检查点将在 ${p.nextWithinMinutes} 分钟内签署 (the event is newer than the latest checkpoint; the next is signed within ${p.nextWithinMinutes} minutes)`,
);
export const ConsistencyRangeInvalid = createError<{ first: number; second: number }>(
  'AUDIT_CONSISTENCY_RANGE',
  422,
  (p) => `一致性证明须从较早的检查点到较晚的检查点 (a consistency proof goes from an earlier checkpoint to a later one: ${p.first} → ${p.second})`,
);
