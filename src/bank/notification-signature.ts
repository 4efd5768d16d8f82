/**
 * The signature on a bank notification: HMAC-SHA256 over `${timestamp}.${nonce}.${rawBody}` with the secret shared
 * with the bank. The simulator signs with it; the platform verifies with it (constant-time), refuses a timestamp
 * outside the allowed skew, and refuses a nonce it has seen (a replay) — see the deposits service.
 */
import crypto from 'node:crypto';

export function signNotification(secret: string, timestamp: string, nonce: string, rawBody: string | Buffer): string {
  return crypto.createHmac('sha256', secret).update(`${timestamp}.${nonce}.`).update(rawBody).digest('hex');
}

export function signatureMatches(secret: string, timestamp: string, nonce: string, rawBody: string | Buffer, signature: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signNotification(secret, timestamp, nonce, rawBody), 'hex');
  return crypto.timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
