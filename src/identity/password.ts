import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (p: string, s: Buffer, len: number, o: crypto.ScryptOptions) => Promise<Buffer>;
const PARAMS = { N: 16384, r: 8, p: 1 };

/** scrypt, stored as `scrypt$N$r$p$salt$hash` so parameters can be raised later without breaking old hashes. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(secret, salt, 32, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

const MAX_N = 1 << 20;

/** Parses a stored hash; anything malformed (which could otherwise compare empty with empty) is null. */
function parseStored(stored: string | null | undefined) {
  const parts = stored?.split('$');
  if (!parts || parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, salt, hash] = parts;
  if (![n, r, p].every((x) => /^\d{1,7}$/.test(x))) return null;
  const N = Number(n);
  const params = { N, r: Number(r), p: Number(p) };
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return null;
  const saltBytes = Buffer.from(salt, 'base64');
  const expected = Buffer.from(hash, 'base64');
  if (saltBytes.length < 16 || expected.length !== 32) return null;
  return { params, salt: saltBytes, expected };
}

export async function verifySecret(secret: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = parseStored(stored);
  if (!parsed) {
    // spend the same time as a real check, so a missing account is not told apart by timing
    await scrypt(secret, Buffer.alloc(16), 32, PARAMS);
    return false;
  }
  try {
    const actual = await scrypt(secret, parsed.salt, parsed.expected.length, { ...parsed.params, maxmem: 256 * 1024 * 1024 });
    return crypto.timingSafeEqual(parsed.expected, actual);
  } catch {
    return false;
  }
}

export function randomCode(bytes = 12): string {
  return crypto.randomBytes(bytes).toString('base64url');
}
