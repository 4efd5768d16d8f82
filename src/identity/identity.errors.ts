import { createError } from '../shared/errors';

export const CreditCodeInvalid = createError<{ creditCode: string }>(
  'CREDIT_CODE_INVALID',
  422,
  '统一社会信用代码格式或校验位不正确 (invalid unified social credit code)',
  'GB 32100-2015',
);
export const OrganisationExists = createError('ORGANISATION_EXISTS', 409, '该统一社会信用代码已注册 (organisation already registered)');
export const UsernameTaken = createError('USERNAME_TAKEN', 409, '用户名已被使用 (username taken)');
export const PasswordLoginNotAllowed = createError(
  'PASSWORD_LOGIN_NOT_ALLOWED',
  403,
  '仅交易中心运维人员可使用密码登录，其他用户请使用数字证书登录 (password login is for operators only; use your certificate)',
);
export const LoginFailed = createError('LOGIN_FAILED', 401, '用户名或密码错误 (wrong username or password)');
export const ChallengeInvalid = createError(
  'CHALLENGE_INVALID',
  401,
  '登录挑战不存在、已使用或已过期，请重新获取 (login challenge unknown, used or expired)',
);
export const SignatureInvalid = createError('SIGNATURE_INVALID', 401, '签名验证失败：私钥与证书不匹配 (signature does not verify)');
export const CertificateUnknown = createError(
  'CERT_UNKNOWN',
  401,
  '证书不是本平台签发的或格式错误 (certificate not issued by this platform)',
);
export const CertificateExpired = createError<{ notAfter?: string; notBefore?: string }>(
  'CERT_EXPIRED',
  401,
  '证书不在有效期内，请更新证书 (certificate expired or not yet valid)',
);
export const CertificateRevoked = createError<{ revokedAt: string }>('CERT_REVOKED', 401, '证书已被吊销 (certificate revoked)');
export const CertificateWrongUsage = createError<{ expected: string; found: string }>(
  'CERT_WRONG_USAGE',
  422,
  (p) => `证书用途不符：需要${p.expected}证书 (wrong certificate usage)`,
);
export const CsrInvalid = createError('CSR_INVALID', 422, '证书请求 (CSR) 格式错误或自签名无效 (invalid CSR)');
export const EnrolmentInvalid = createError(
  'ENROLMENT_INVALID',
  401,
  '注册码无效、已使用或已过期，请联系交易中心 (enrolment code invalid, used or expired)',
);
export const AccountDisabled = createError('ACCOUNT_DISABLED', 403, '账户或所属单位已停用 (account or organisation disabled)');

export const SessionTooOld = createError(
  'SESSION_TOO_OLD',
  401,
  '登录已超过最长时限，请重新以数字证书登录 (the session is too old to renew: log in again)',
);
