import { createError } from '../shared/errors';

export const CustodyBeforeDeadline = createError(
  'CUSTODY_BEFORE_DEADLINE',
  409,
  '投标截止前不得取得或释放开标密钥分片；此次尝试已作为严重事件记录 (no key share before the deadline; this attempt has been recorded as critical)',
  'EB 27; TLR 41',
);
export const CustodianCertificateMissing = createError<{ organisationId: string; organisationName: string }>(
  'CUSTODIAN_CERTIFICATE_MISSING',
  422,
  (p) => `开标密钥保管单位「${p.organisationName}」没有有效的加密证书，无法封存密钥分片 (a custodian has no valid encryption certificate)`,
);
export const NotACustodian = createError('NOT_A_CUSTODIAN', 404, '未找到本单位保管的密钥分片 (no share held by your organisation)');
export const ShareInvalid = createError('SHARE_INVALID', 422, '密钥分片与封存时的记录不符 (the share does not match the one sealed to you)');
export const ShareAlreadyReleased = createError('SHARE_ALREADY_RELEASED', 409, '本单位的密钥分片已释放 (already released)');
export const ThresholdNotReached = createError<{ released: number; threshold: number }>(
  'THRESHOLD_NOT_REACHED',
  409,
  (p) => `已释放 ${p.released} 个分片，需要 ${p.threshold} 个 (not enough shares released)`,
  'EB 31',
);
