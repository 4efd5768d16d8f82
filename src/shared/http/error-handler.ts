import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { AppError, createError, InternalError, MalformedJson, PayloadTooLarge, RouteNotFound, UnsupportedMediaType } from '../errors';

/** A request the HTTP layer itself could not read (a malformed path escape, an aborted body, …): never a 500. */
export const BadRequest = createError('BAD_REQUEST', 400, '请求无法解析 (malformed request)');

/** Errors raised by express's body parser carry a `type`; translate them into the platform's codes. */
function fromBodyParser(err: unknown): AppError | null {
  const type = typeof err === 'object' && err !== null ? (err as { type?: string }).type : undefined;
  if (type === 'entity.parse.failed') return MalformedJson();
  if (type === 'entity.too.large') return PayloadTooLarge();
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return UnsupportedMediaType({}, { reason: type });
  // anything else express or its body parser refused as the client's fault (http-errors: 4xx, status on the error)
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const extra = type ? { reason: type } : {};
    if (status === 413) return PayloadTooLarge({}, extra);
    if (status === 415) return UnsupportedMediaType({}, extra);
    return BadRequest({}, extra);
  }
  return null;
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(RouteNotFound());
}

/**
 * The one error middleware: every refusal leaves as `{ error: { code, message, details } }`. Unknown errors are
 * logged with the request id and hidden behind a generic message, so no internal detail (or secret) leaks.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let appError = err instanceof AppError ? err : fromBodyParser(err);
    if (!appError) {
      logger.error({ err, requestId: res.getHeader('X-Request-Id'), method: req.method, url: req.originalUrl }, 'unhandled error');
      appError = InternalError({}, { requestId: res.getHeader('X-Request-Id') });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(appError.status).json({
      error: { code: appError.code, message: appError.message, details: appError.details },
    });
  };
}
