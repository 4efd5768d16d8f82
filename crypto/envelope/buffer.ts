/**
 * Whole-buffer conveniences for small payloads (a key share sealed to one
 * custodian, a test envelope): the same streaming code over in-memory streams.
 */
import { Readable, Writable } from 'node:stream';
import { decryptStream } from './decrypt';
import { encryptStream } from './encrypt';
import type { DecryptionKey } from './types';

function collector(): { sink: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { sink, data: () => Buffer.concat(parts) };
}

/** Encrypts `data` into a complete envelope for the recipient certificates (PEM). */
export async function sealBuffer(data: Buffer, recipients: string[]): Promise<Buffer> {
  if (!Buffer.isBuffer(data)) throw new TypeError('data must be a Buffer');
  const out = collector();
  await encryptStream(Readable.from(data.length ? [data] : []), out.sink, { recipients, size: data.length });
  return out.data();
}

/** Decrypts a complete envelope; resolves only when the tag verifies. */
export async function openBuffer(envelope: Buffer, key: DecryptionKey): Promise<Buffer> {
  if (!Buffer.isBuffer(envelope)) throw new TypeError('envelope must be a Buffer');
  const out = collector();
  await decryptStream(Readable.from(envelope.length ? [envelope] : []), out.sink, key);
  return out.data();
}
