/** Small helpers shared by everything that holds an ioredis connection (the BullMQ queue, the event bus). */
import type { Redis } from 'ioredis';

/** Waits for a connection still connecting (the offline queue is off, so a command sent now would fail at once). */
export function whenReady(conn: Redis, timeoutMs: number): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve();
  if (!['wait', 'connecting', 'connect', 'reconnecting'].includes(conn.status)) {
    return Promise.reject(new Error(`redis connection is ${conn.status}`));
  }
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      conn.off('ready', onReady);
      conn.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new Error(`redis not ready after ${timeoutMs} ms (${conn.status})`)), timeoutMs);
    conn.once('ready', onReady);
    conn.once('error', onError);
  });
}

/** Closes connections politely, or drops them if QUIT cannot be sent. */
export async function quitAll(conns: Array<Redis | undefined>): Promise<void> {
  await Promise.all(
    conns
      .filter((c): c is Redis => c !== undefined)
      .map((c) => (c.status === 'end' ? undefined : c.quit().then(() => undefined, () => c.disconnect()))),
  );
}
