/**
 * An idle timeout for a streamed request body. Long uploads may take as long as they need (the server's request
 * timeout is off for them), but a client that stops sending — a dropped line, or a slow-loris holding a connection
 * and a file handle open — is cut off after `idleMs` without a byte. The body stream then fails with a 408 the
 * error handler answers; what was not stored is discarded, so an upload stays at its stored offset and resumes.
 */
import { Transform } from 'node:stream';
import type { Request, Response } from 'express';
import { createError } from '../errors';

export const RequestIdle = createError<{ idleSeconds: number }>(
  'REQUEST_IDLE_TIMEOUT',
  408,
  (p) => `上传中断：${p.idleSeconds ?? ''} 秒内未收到数据，可从已确认的位置续传 (no data received in time; resume from the stored offset)`,
);

/** The request body, passed through a timer every chunk restarts. The connection is closed after the answer. */
export function idleGuardedBody(req: Request, res: Response, idleMs: number): Transform {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Transform({
    transform(chunk, _enc, done) {
      arm();
      done(null, chunk);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // the rest of the body will never be read: tell the client, then drop the connection rather than drain it
      if (!res.headersSent) res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
      guard.destroy(RequestIdle({ idleSeconds: Math.round(idleMs / 1000) }));
      req.unpipe(guard);
    }, idleMs);
  };
  const stop = () => clearTimeout(timer);
  guard.once('end', stop);
  guard.once('close', stop);
  req.once('error', (err) => guard.destroy(err));
  // The service reads the body only after its checks (the upload's owner, offset, tender): a line dropped meanwhile
  // fails the guard before anyone listens, which must not crash the process; the reader then finds it destroyed.
  guard.on('error', () => {});
  req.once('aborted', stop);
  // a client gone before its whole body came fails the body, as reading the request itself would; also when it
  // went before this guard was made (the checks before it are asynchronous)
  const dropped = () => Object.assign(new Error('request aborted before its body was complete'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  req.once('close', () => {
    if (!req.complete) guard.destroy(dropped());
  });
  // answered already (refused before the body was read): nobody waits for the rest
  res.once('close', stop);
  if (req.destroyed && !req.complete) {
    guard.destroy(dropped());
    return guard;
  }
  arm();
  req.pipe(guard);
  return guard;
}
