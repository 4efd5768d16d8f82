/**
 * One error type for every refusal the platform gives. A named error per domain failure (see `<domain>.errors.ts`)
 * carries a stable code a client can branch on, an HTTP status, a Chinese message, and — where a rule of law is the
 * reason — the article (`basis`), so a regulator can trace every refusal to its source.
 */
export interface ErrorDetails {
  basis?: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = code;
  }
}

type MessageOf<P> = string | ((params: P) => string);

export interface ErrorFactory<P extends object> {
  (params?: P, extra?: ErrorDetails): AppError;
  readonly code: string;
  readonly status: number;
  readonly basis?: string;
  is(err: unknown): err is AppError;
}

/** Defines a named error: `export const DepositAboveCap = createError('DEPOSIT_ABOVE_CAP', 422, (p) => ..., 'TLR 26')`. */
export function createError<P extends object = Record<string, never>>(
  code: string,
  status: number,
  message: MessageOf<P>,
  basis?: string,
): ErrorFactory<P> {
  const factory = (params?: P, extra: ErrorDetails = {}) => {
    const text = typeof message === 'function' ? message((params ?? {}) as P) : message;
    const details: ErrorDetails = { ...(params ?? {}), ...extra };
    if (basis) details.basis = basis;
    return new AppError(code, status, text, details);
  };
  return Object.assign(factory, {
    code,
    status,
    basis,
    is: (err: unknown): err is AppError => err instanceof AppError && err.code === code,
  });
}

// Errors every domain shares.
export const ValidationFailed = createError<{ issues: Array<{ path: string; message: string }> }>(
  'VALIDATION_FAILED',
  400,
  '请求内容不符合要求 (request validation failed)',
);
export const MalformedJson = createError('MALFORMED_JSON', 400, '请求体不是合法的 JSON (malformed JSON body)');
export const PayloadTooLarge = createError('PAYLOAD_TOO_LARGE', 413, '请求体过大 (request body too large)');
export const UnsupportedMediaType = createError('UNSUPPORTED_MEDIA_TYPE', 415, '请求内容类型不受支持 (unsupported content type)');
export const Unauthenticated = createError('UNAUTHENTICATED', 401, '需要登录 (authentication required)');
export const TokenInvalid = createError('TOKEN_INVALID', 401, '登录令牌无效或已过期，请重新登录 (token invalid or expired)');
export const Forbidden = createError('FORBIDDEN', 403, '当前角色无权执行此操作 (your role may not do this)');
export const NotFound = createError<{ resource: string }>('NOT_FOUND', 404, (p) => `未找到${p.resource ?? '记录'} (not found)`);
export const RouteNotFound = createError('ROUTE_NOT_FOUND', 404, '接口不存在 (no such route)');
export const Conflict = createError<{ reason: string }>('CONFLICT', 409, (p) => p.reason ?? '记录已存在 (conflict)');
export const InternalError = createError('INTERNAL_ERROR', 500, '服务器内部错误，已记录 (internal error; it has been logged)');
