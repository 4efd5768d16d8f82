/**
 * A file write stream that starts writing its data to disk while it is still arriving, and fsyncs at the end.
 *
 * Why: a blob is durable before the platform answers (a receipt promises the bid is stored). Written through the page
 * cache and fsynced only at the end, a 20 MB envelope leaves 20 MB to flush after its last byte — and on a deadline
 * morning hundreds end together, so each waits for everybody's flush. Here every `stepBytes` written a datasync is
 * started in the background (at most one at a time, without holding up the writes), so at the end little is left to
 * flush and the last byte → receipt time stays short. The final fsync is still awaited before the stream finishes.
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

export const DEFAULT_SYNC_STEP_BYTES = 4 * 1024 * 1024;

export class SyncedFileWriter extends Writable {
  private unsynced = 0;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly stepBytes = DEFAULT_SYNC_STEP_BYTES,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => done(), done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    (async () => {
      await this.inFlight;
      await this.fh.sync();
    })().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const close = async () => {
      await this.inFlight?.catch(() => undefined);
      await this.fh.close();
    };
    close().then(() => done(err), (closeErr: Error) => done(err ?? closeErr));
  }

  private async writeAll(chunks: Buffer[]): Promise<void> {
    const { bytesWritten } = await this.fh.writev(chunks);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (bytesWritten !== total) {
      // writev may write less than asked (rare for regular files); write the rest in order
      const rest = Buffer.concat(chunks).subarray(bytesWritten);
      let off = 0;
      while (off < rest.length) off += (await this.fh.write(rest, off)).bytesWritten;
    }
    this.unsynced += total;
    if (this.unsynced >= this.stepBytes && this.inFlight === null) {
      this.unsynced = 0;
      // a failed background sync is reported by the final fsync, which fails for the same reason
      this.inFlight = this.fh.datasync().then(
        () => {
          this.inFlight = null;
        },
        () => {
          this.inFlight = null;
        },
      );
    }
  }
}
