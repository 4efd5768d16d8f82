import { createError } from '../shared/errors';

export const DepositAboveCap = createError<{ section: number; depositFen: number; capFen: number }>(
  'DEPOSIT_ABOVE_CAP',
  422,
  (p) => `第${p.section}标段投标保证金超过估算价（预算金额）的2% (deposit above 2% of the estimated price or budget)`,
  'TLR 26; GPR 33',
);
export const DeadlineTooClose = createError<{ earliest: string; earliestLocal: string; basis?: string }>(
  'DEADLINE_TOO_CLOSE',
  422,
  (p) => `自招标文件发出之日起至投标截止之日止不得少于二十日，最早可设为 ${p.earliestLocal}（北京时间） (deadline too close to the issue of documents)`,
);
export const DeadlineInPast = createError('DEADLINE_IN_PAST', 422, '截止时间早于当前平台时间 (deadline is in the past)', 'EB 27');
export const DeadlineMovedEarlier = createError<{ required: string }>(
  'DEADLINE_MOVED_EARLIER',
  422,
  '澄清或修改不得提前投标截止时间，且须满足十五日要求 (a clarification may only postpone the deadline, to at least the required date)',
  'TLR 21',
);
export const TenderNotDraft = createError<{ status: string }>(
  'TENDER_NOT_DRAFT',
  409,
  '项目已发布，不能直接修改；请发布澄清或修改文件 (published: issue a clarification instead)',
);
export const TenderNotOpenForBids = createError<{ status: string }>(
  'TENDER_NOT_PUBLISHED',
  409,
  '项目不在投标阶段 (the tender is not open for bidding)',
);
export const TenderAfterDeadline = createError(
  'TENDER_AFTER_DEADLINE',
  409,
  '投标截止时间已过，不能再发布澄清或修改 (the deadline has passed)',
  'TL 34',
);
export const TenderDocumentsMissing = createError(
  'TENDER_DOCUMENTS_MISSING',
  422,
  '发布前须上传招标文件 (upload the tender documents before publishing)',
);
export const TenderTerminated = createError('TENDER_TERMINATED', 409, '项目已终止 (tender terminated)', 'TLR 31');
export const CustodiansInvalid = createError<{ reason: string }>(
  'CUSTODIANS_INVALID',
  422,
  (p) => `开标密钥保管单位设置无效：${p.reason} (invalid opening-key custodians)`,
);
export const OrganisationTypeMismatch = createError<{ field: string; expected: string }>(
  'ORGANISATION_TYPE_MISMATCH',
  422,
  (p) => `${p.field} 须为${p.expected}单位 (organisation of the wrong type)`,
);
export const FileNameInvalid = createError('FILE_NAME_INVALID', 400, '文件名无效 (invalid file name)');
