import { createError } from '../shared/errors';

export const AwardNotFound = createError('AWARD_NOT_FOUND', 404, '该标段尚未发出中标通知书 (no award notice for this section)');
export const OpeningNotFinished = createError<{ state: string }>(
  'OPENING_NOT_FINISHED',
  409,
  '开标尚未完成（开标记录未公布），不能录入评标结果 (the opening has not been recorded yet)',
  'EB 32',
);
export const SectionFailed = createError('SECTION_FAILED', 409, '该标段已流标，须重新招标 (the section failed at the opening and must be re-tendered)', 'TLR 44');
export const EvaluationExists = createError('EVALUATION_EXISTS', 409, '该标段已录入评标结果 (the evaluation result is already recorded)');
export const EvaluationRequired = createError('EVALUATION_REQUIRED', 409, '请先录入评标结果及中标候选人 (record the evaluation result first)');
export const CandidatesInvalid = createError<{ reason: string }>(
  'CANDIDATES_INVALID',
  422,
  (p) => `中标候选人不符合要求：${p.reason} (invalid candidates)`,
  'TLR 53',
);
export const PublicityExists = createError('PUBLICITY_EXISTS', 409, '中标候选人公示已发布 (the candidate publicity is already published)');
export const PublicityTooShort = createError<{ earliestEndsAt: string }>(
  'PUBLICITY_TOO_SHORT',
  422,
  '中标候选人公示期不得少于3日 (the candidate publicity must run at least 3 days)',
  'TLR 54',
);
export const PublicityRequired = createError('PUBLICITY_REQUIRED', 409, '请先发布中标候选人公示 (publish the candidate publicity first)', 'TLR 54');
export const PublicityNotRunning = createError<{ startsAt: string; endsAt: string }>(
  'PUBLICITY_NOT_RUNNING',
  409,
  '不在中标候选人公示期内，不能提出异议 (objections only while the publicity runs)',
  'TLR 54',
);
export const PublicityRunning = createError<{ endsAt: string }>(
  'PUBLICITY_RUNNING',
  409,
  '中标候选人公示期尚未结束，不能发出中标通知书 (the publicity has not ended)',
  'TLR 54',
);
export const PublicityObjectionsUnanswered = createError<{ open: number }>(
  'PUBLICITY_OBJECTIONS_UNANSWERED',
  409,
  (p) => `尚有 ${p.open} 项公示期异议未答复，答复前暂停招标投标活动 (objections must be answered first; the process is paused)`,
  'TLR 54',
);
export const PublicityObjectionNotFound = createError('PUBLICITY_OBJECTION_NOT_FOUND', 404, '未找到该异议或已答复 (no such open objection)');
export const NotASectionBidder = createError('NOT_A_SECTION_BIDDER', 403, '本单位未在该标段投标 (your organisation did not bid in this section)', 'TLR 54');
export const AwardExists = createError('AWARD_EXISTS', 409, '该标段已发出中标通知书 (the award notice is already issued)');
export const CandidateNotFound = createError<{ rank: number }>('CANDIDATE_NOT_FOUND', 422, (p) => `没有排名第${p.rank}的中标候选人 (no such candidate)`);
export const AwardReasonRequired = createError(
  'AWARD_REASON_REQUIRED',
  422,
  '确定排名第一以外的中标候选人为中标人须说明理由 (a reason is required to award another candidate than the first)',
  'TLR 55',
);
export const WinnerRefused = createError(
  'WINNER_REFUSED',
  409,
  '中标人已拒绝签订合同，其投标保证金不予退还 (the winner refused to sign; its deposit is kept)',
  'TLR 74',
);
export const ContractExists = createError('CONTRACT_EXISTS', 409, '该标段已登记合同签订 (the contract is already recorded)');
export const ContractDateInvalid = createError<{ reason: string }>(
  'CONTRACT_DATE_INVALID',
  422,
  (p) => `合同签订时间无效：${p.reason} (invalid signing time)`,
  'TL 46',
);
