/**
 * Byte sources for the BER reader: a readable stream, or a Writable sink
 * that something else pipes into.
 */
import { Writable } from 'node:stream';

/** Where bytes come from: `null` means end of input. */
export interface ChunkSource {
  next(): Promise<Buffer | null>;
  /** Stops the source early (on error or when done); must not throw. */
  close(): void;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('the envelope stream must deliver bytes (Buffer/Uint8Array), not strings or objects');
}

/** Adapts a readable stream (anything async-iterable of byte chunks). */
export function sourceFromReadable(input: NodeJS.ReadableStream | AsyncIterable<unknown>): ChunkSource {
  const it = (input as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let done = false;
  return {
    async next() {
      if (done) return null;
      const r = await it.next();
      if (r.done) {
        done = true;
        return null;
      }
      return toBuffer(r.value);
    },
    close() {
      if (done) return;
      done = true;
      // Ends the iteration; for a Readable this destroys it, like stream.pipeline on error.
      void it.return?.()?.then(
        () => undefined,
        () => undefined,
      );
    },
  };
}

/**
 * A Writable whose chunks are handed to a ChunkSource one at a time: a write
 * completes when the reader takes the chunk, so the writer's backpressure
 * follows the reader's pace. After `close()` (the reader failed or finished)
 * further writes are accepted and discarded, so a producer piping into it
 * never stalls and never sees an 'error' event.
 */
export function createSinkSource(onFinal: () => Promise<unknown>): { sink: Writable; source: ChunkSource } {
  let pending: { chunk: Buffer; cb: (err?: Error | null) => void } | null = null;
  let ended = false;
  let closed = false;
  let waiter: (() => void) | null = null;
  const wake = (): void => {
    const w = waiter;
    waiter = null;
    w?.();
  };

  const sink = new Writable({
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _enc, cb) {
      if (closed) return cb();
      pending = { chunk: toBuffer(chunk), cb };
      wake();
    },
    final(cb) {
      ended = true;
      wake();
      onFinal().then(
        () => cb(),
        () => cb(),
      );
    },
    destroy(err, cb) {
      // The producer gave up (e.g. the upload was aborted): what arrived is
      // still parsed, so the result says TRUNCATED rather than "empty".
      ended = true;
      if (pending) {
        const p = pending;
        pending = { chunk: p.chunk, cb: () => undefined };
        p.cb();
      }
      wake();
      cb(err);
    },
  });

  const source: ChunkSource = {
    async next() {
      for (;;) {
        if (closed) return null;
        if (pending) {
          const { chunk, cb } = pending;
          pending = null;
          cb();
          return chunk;
        }
        if (ended) return null;
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
    close() {
      closed = true;
      const p = pending;
      pending = null;
      p?.cb();
    },
  };
  return { sink, source };
}
