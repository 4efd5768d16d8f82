import { createError } from '../shared/errors';

export const OpeningNotFound = createError('OPENING_NOT_FOUND', 404, '该项目尚未开标 (the opening has not begun)');
export const OpeningWrongState = createError<{ state: string; expected: string }>(
  'OPENING_WRONG_STATE',
  409,
  (p) => `开标当前处于「${p.state}」阶段，不能进行此操作 (not possible in this stage of the opening)`,
);
export const OpeningPaused = createError('OPENING_PAUSED', 409, '开标已暂停，请等待主持人恢复 (the opening is paused by its host)');
export const NotABidder = createError('NOT_A_BIDDER', 403, '本单位未在本项目递交有效投标文件 (your organisation has no bid in this tender)', 'EB 29');
export const CertificateLoginRequired = createError(
  'CERTIFICATE_LOGIN_REQUIRED',
  403,
  '签到须使用数字证书登录 (sign in with your certificate)',
  'EB 29',
);
export const NotSignedIn = createError('NOT_SIGNED_IN', 403, '请先签到 (sign in first)', 'EB 29');
export const DecryptionWindowNotOpen = createError(
  'DECRYPTION_WINDOW_NOT_OPEN',
  409,
  '解密尚未开始，提前提交解密密钥已被拒绝并作为严重事件记录 (the decryption window is not open; the early attempt has been recorded)',
  'EB 27; EB 30',
);
export const DecryptionWindowClosed = createError<{ closedAt: string }>(
  'DECRYPTION_WINDOW_CLOSED',
  409,
  '解密时限已过 (the decryption window has closed)',
  'EB 30; EB 31',
);
export const ContentKeyInvalid = createError<{ reason: string }>(
  'CONTENT_KEY_INVALID',
  422,
  '解密密钥格式或签名无效 (the content key or its signature is invalid)',
);
export const AlreadyDecrypted = createError('ALREADY_DECRYPTED', 409, '该投标文件已解密 (already decrypted)');
export const ObjectionWindowClosed = createError('OBJECTION_WINDOW_CLOSED', 409, '异议时间已过 (the objection period is over)', 'TLR 44');
export const ObjectionsUnanswered = createError<{ open: number }>(
  'OBJECTIONS_UNANSWERED',
  409,
  (p) => `尚有 ${p.open} 项异议未答复，须当场答复并记录 (objections must be answered before the record)`,
  'TLR 44; EB 39',
);
export const ObjectionPeriodRunning = createError<{ endsAt: string }>(
  'OBJECTION_PERIOD_RUNNING',
  409,
  '异议期尚未结束 (the objection period has not ended)',
  'TLR 44',
);
export const ObjectionNotFound = createError('OBJECTION_NOT_FOUND', 404, '未找到该异议或已答复 (no such open objection)');
