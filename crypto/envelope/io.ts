/**
 * Stream plumbing shared by encryption and decryption: an output writer with
 * backpressure, and atomic file output (temp file + fsync + rename).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Bigger reads than the 64 KiB default: fewer round trips for multi-GB bids. */
export const FILE_CHUNK = 1 << 20;

/**
 * Writes to a NodeJS.WritableStream honouring backpressure: waits for 'drain'
 * when write() returns false, and surfaces the stream's 'error'.
 */
export class OutputWriter {
  private error: Error | null = null;
  private readonly onError = (err: Error): void => {
    this.error ??= err;
    this.wake?.();
  };
  private wake: (() => void) | null = null;

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.error) throw this.error;
    if (chunk.length === 0) return;
    if (this.out.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.out.removeListener('drain', done);
        this.out.removeListener('close', done);
        this.wake = null;
        resolve();
      };
      this.wake = done;
      this.out.once('drain', done);
      this.out.once('close', done);
    });
    if (this.error) throw this.error;
  }

  /** Ends the stream and waits for 'finish' (file streams close their descriptor after that). */
  async end(): Promise<void> {
    if (this.error) throw this.error;
    await new Promise<void>((resolve, reject) => {
      const event = 'finish';
      const ok = (): void => {
        this.out.removeListener('error', fail);
        resolve();
      };
      const fail = (err: Error): void => {
        this.out.removeListener(event, ok);
        reject(err);
      };
      this.out.once(event, ok);
      this.out.once('error', fail);
      this.out.end();
    });
    this.release();
  }

  /**
   * Aborts the output after a failure, as stream.pipeline does. The stream is
   * destroyed without an error argument: the failure is reported through the
   * caller's rejected promise, and an 'error' event nobody listens to would
   * crash the process.
   */
  abort(): void {
    const destroy = (this.out as { destroy?: () => void }).destroy;
    if (typeof destroy === 'function') destroy.call(this.out);
    this.release();
  }

  private release(): void {
    // Keep swallowing late errors from this stream: they are reported already.
    this.out.removeListener('error', this.onError);
    this.out.on('error', () => undefined);
  }
}

/** A temp path next to `target`, so the final rename stays on one file system. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(path.resolve(target));
  return path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Opens a write stream for a new temp file (mode 0600: plaintext bids are
 * sensitive). Its errors are reported through OutputWriter; the listener
 * added here only keeps an error that fires before (or after) that from
 * being an uncaught 'error' event.
 */
export function createTempWriteStream(tempPath: string): fs.WriteStream {
  const out = fs.createWriteStream(tempPath, { flags: 'wx', mode: 0o600, highWaterMark: FILE_CHUNK });
  out.on('error', () => undefined);
  return out;
}

/** Waits for a file stream to be closed (or closes it) and removes its file. */
export async function discardTemp(out: fs.WriteStream, tempPath: string): Promise<void> {
  if (!out.closed) {
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    out.destroy();
    await closed;
  }
  await removeQuietly(tempPath);
}

/** fsyncs the finished temp file and renames it over the target. */
export async function commitTemp(tempPath: string, target: string): Promise<void> {
  const fh = await fs.promises.open(tempPath, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tempPath, target);
}

export async function removeQuietly(p: string): Promise<void> {
  await fs.promises.rm(p, { force: true }).catch(() => undefined);
}
