import { createError } from '../shared/errors';

export const BankNotConfigured = createError(
  'BANK_NOT_CONFIGURED',
  503,
  '平台尚未连接银行（未设置 BANK_URL），暂不能办理保证金 (no bank is connected: BANK_URL is unset)',
);
export const BankUnavailableError = createError('BANK_UNAVAILABLE', 503, '银行系统暂时无法连接，请稍后重试 (the bank cannot be reached; try again)');
export const NoDepositRequired = createError('NO_DEPOSIT_REQUIRED', 422, '该标段不收取投标保证金 (this section takes no deposit)');
export const DepositAfterDeadline = createError<{ bidDeadline: string }>(
  'DEPOSIT_AFTER_DEADLINE',
  409,
  '投标截止时间已过，不能再办理保证金账户 (the bid deadline has passed)',
  'TLR 26',
);
export const NotificationSignatureInvalid = createError(
  'BANK_SIGNATURE_INVALID',
  401,
  '银行到账通知签名无效，已拒收并记录 (the notification signature is invalid; refused and recorded)',
);
export const NotificationStale = createError<{ timestamp: string }>(
  'BANK_NOTIFICATION_STALE',
  401,
  '银行到账通知时间戳超出允许范围（疑似重放），已拒收并记录 (the notification is outside the allowed time: a replay?)',
);
export const NotificationReplayed = createError(
  'BANK_NOTIFICATION_REPLAYED',
  409,
  '该通知编号已用于另一笔交易，已拒收并记录 (the nonce was already used for another transaction)',
);
export const RefundNotFound = createError('REFUND_NOT_FOUND', 404, '未找到该退款记录 (no such refund)');
export const VoucherNotReady = createError('VOUCHER_NOT_READY', 409, '退款尚未完成，凭证尚未生成 (the refund is not paid yet)');
