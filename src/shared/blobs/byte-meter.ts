/** A pass-through that counts and hashes (SHA-256) the bytes going through and fails once more than maxBytes passed. */
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** The error a ByteMeter fails with when the body is over its limit; stores turn it into PAYLOAD_TOO_LARGE. */
export class OverMaxBytes extends Error {
  constructor(readonly maxBytes: number) {
    super(`body over ${maxBytes} bytes`);
  }
}

export class ByteMeter extends Transform {
  private readonly hash = crypto.createHash('sha256');
  /** Bytes seen so far (not `size`: lib-storage would read that as the body's length before any byte flowed). */
  bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.bytes += buf.length;
    if (this.bytes > this.maxBytes) {
      cb(new OverMaxBytes(this.maxBytes));
      return;
    }
    this.hash.update(buf);
    cb(null, buf);
  }

  /** Lower-case hex SHA-256 of every byte that went through; call once, after the end. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
