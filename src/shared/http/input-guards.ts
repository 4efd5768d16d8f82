/**
 * Refusals every JSON route shares, before any schema or service sees the input. PostgreSQL cannot store U+0000 in
 * text (nor as a JSON key), so a NUL anywhere in a body or query string would otherwise travel to the database and
 * fail there as a 500; it is never meaningful in this platform's text, so it is refused at the door.
 */
import type { NextFunction, Request, Response } from 'express';
import { ValidationFailed } from '../errors';

const NUL = '\u0000';

/** The path of the first string (or key) holding a NUL, or null. Depth-bounded: body-parser already bounds size. */
function findNul(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes(NUL) ? path : null;
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const at = `${path}.${k.replaceAll(NUL, '\\0')}`;
    if (k.includes(NUL)) return at;
    const found = findNul(v, at, depth + 1);
    if (found) return found;
  }
  return null;
}

export function refuseNulCharacters(req: Request, _res: Response, next: NextFunction): void {
  const where = findNul(req.body, 'body') ?? findNul(req.query, 'query') ?? (req.path.includes(NUL) ? 'path' : null);
  if (!where) return next();
  next(ValidationFailed({ issues: [{ path: where, message: '不得包含空字符 U+0000 (must not contain NUL characters)' }] }));
}
