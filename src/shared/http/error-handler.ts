import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { AppError, InternalError, MalformedJson, PayloadTooLarge, RouteNotFound } from '../errors';

/** Errors raised by express's body parser carry a `type`; translate them into the platform's codes. */
function fromBodyParser(err: unknown): AppError | null {
  const type = typeof err === 'object' && err !== null ? (err as { type?: string }).type : undefined;
  if (type === 'entity.parse.failed') return MalformedJson();
  if (type === 'entity.too.large') return PayloadTooLarge();
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return MalformedJson({}, { reason: type });
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
