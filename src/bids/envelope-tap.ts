/**
 * Lets an upload be stored and structurally checked in one pass: the bytes flow to the blob store while a copy
 * goes through the envelope inspector. The inspector never slows the store down once it has given its verdict.
 */
import { Transform, pipeline, type Readable } from 'node:stream';
import { createEnvelopeInspector, type EnvelopeInspection } from '../../crypto/envelope';

export interface TappedUpload {
  /** The bytes, to hand to the blob store. */
  stream: Transform;
  /** The inspector's verdict (rejects with EnvelopeError). */
  inspection: Promise<EnvelopeInspection>;
}

export function tapEnvelope(source: Readable | NodeJS.ReadableStream): TappedUpload {
  // the blob store hashes the bytes already; the inspector only parses
  const inspector = createEnvelopeInspector({ sha256: false });
  const sink = inspector.sink as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  let settled = false;
  const inspection = inspector.result.finally(() => {
    settled = true;
  });
  inspection.catch(() => undefined);
  sink.on('error', () => {
    settled = true;
  });
  const open = () => !settled && !sink.destroyed && !sink.writableEnded;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!open() || sink.write(chunk)) return cb(null, chunk);
      const go = () => {
        sink.off('drain', go);
        sink.off('error', go);
        sink.off('close', go);
        cb(null, chunk);
      };
      sink.once('drain', go);
      sink.once('error', go);
      sink.once('close', go);
    },
    flush(cb) {
      if (open()) sink.end();
      cb();
    },
  });
  // a dropped connection (premature close) destroys the tap, so the blob store discards what it had
  pipeline(source as Readable, stream, () => undefined);
  return { stream, inspection };
}
