/** Workload data and arithmetic shared by the benchmarks. */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;

export const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * `size` bytes of cheap pseudo-random data: one random 1 MiB block, a counter mixed into several places of each copy,
 * so no 1 MiB block repeats (deflate's window is only 32 KiB anyway).
 */
export function pseudoRandomSource(size: number): Readable {
  const block = crypto.randomBytes(MiB);
  let sent = 0;
  let counter = 0n;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(MiB, size - sent);
      const chunk = Buffer.allocUnsafe(n);
      block.copy(chunk, 0, 0, n);
      for (let off = 0; off + 8 <= n; off += 16 * 1024) chunk.writeBigUInt64BE(chunk.readBigUInt64BE(off) ^ counter, off);
      counter++;
      sent += n;
      this.push(chunk);
    },
  });
}
