/**
 * The opening hall's live feed: Server-Sent Events, replayable with Last-Event-ID.
 *
 * Why this route is declared `public` and checks the viewer itself: browsers' EventSource cannot send an
 * Authorization header, so the hall passes its token as `?access_token=`. The route table's gate runs before the
 * handler and only knows the header, so it would refuse such a viewer; the handler therefore does the gate's work
 * (401 without a valid token, from the header or the query) and then the tender's visibility rule (404).
 */
import type { Response } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import { Unauthenticated, ValidationFailed } from '../shared/errors';
import type { AuthService } from '../identity/auth.service';
import type { LiveEvent, LiveEvents } from './live.service';

const Params = z.object({ tenderId: z.uuid() });
const Query = z.object({
  lastEventId: z.string().regex(/^\d{1,9}$/).optional().meta({ description: 'replay after this seq (the Last-Event-ID header wins)' }),
  access_token: z.string().regex(/^[A-Za-z0-9._-]{1,4096}$/).optional().meta({ description: 'for EventSource, which cannot send Authorization' }),
});

export const HEARTBEAT_MS = 15_000;
export const RETRY_MS = 3_000;
/** Sent before the stream ends because the viewer's login token has: the page signs in again, then reconnects. */
export const TOKEN_EXPIRED_FRAME = 'event: token-expired\ndata: {}\n\n';
/** A viewer this far behind is dropped; its EventSource reconnects and replays from its Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;

// One event goes to every viewer of a tender on this instance as the same frozen object: format it once.
const frames = new WeakMap<LiveEvent, string>();

export function sseFrame(event: LiveEvent): string {
  let frame = frames.get(event);
  if (!frame) {
    const data = { seq: event.seq, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data };
    frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

function lastEventId(header: string | undefined, query: string | undefined): number {
  const raw = header?.trim() || query;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,9}$/.test(raw)) {
    throw ValidationFailed({ issues: [{ path: 'headers.last-event-id', message: '须为非负整数 (a non-negative integer)' }] });
  }
  return Number(raw);
}

export function liveRoutes(routes: RouteTable, svc: { live: LiveEvents; auth: AuthService }): void {
  routes.add({
    method: 'get', path: '/tenders/:tenderId/events', tag: 'opening', access: 'public', params: Params, query: Query,
    produces: 'text/event-stream',
    summary:
      '开标大厅实时事件（SSE；凭 Last-Event-ID 补发；须登录，EventSource 可用 ?access_token=） ' +
      '(opening hall live events: SSE, replay with Last-Event-ID; signed-in viewers, ?access_token= for EventSource)',
    handler: async ({ ctx, params, query, req, res }) => {
      if (!ctx.actor && query.access_token) ctx.actor = await svc.auth.verifyToken(query.access_token);
      if (!ctx.actor) throw Unauthenticated();
      await svc.live.watchable(ctx.actor, params.tenderId);
      const after = lastEventId(req.get('last-event-id'), query.lastEventId);

      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);

      let closed = false;
      let stop: (() => Promise<void>) | null = null;
      // a stream outlives no token: checked before every frame, heartbeats included (so within HEARTBEAT_MS)
      const expiresAt = ctx.actor.tokenExpiresAt?.getTime() ?? Infinity;
      const send = (text: string) => {
        if (closed) return;
        if (svc.live.clock.now().getTime() >= expiresAt) {
          res.write(TOKEN_EXPIRED_FRAME);
          cleanup();
          endStream(res);
          return;
        }
        res.write(text);
        if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      };
      const heartbeat = setInterval(() => send(`: ping ${svc.live.clock.now().toISOString()}\n\n`), HEARTBEAT_MS);
      heartbeat.unref();
      const cleanup = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        if (stop) void stop().catch(() => undefined);
      };
      res.on('close', cleanup);
      send(`retry: ${RETRY_MS}\n\n`);
      try {
        const unsubscribe = await svc.live.subscribe(
          params.tenderId,
          after,
          (event) => send(sseFrame(event)),
          () => {
            // this instance is shutting down: end the stream; the browser reconnects (elsewhere) with its last id
            cleanup();
            endStream(res);
          },
        );
        if (closed) await unsubscribe();
        else stop = unsubscribe;
      } catch (err) {
        // headers are out: end the stream; the browser reconnects after `retry` and replays from its last id
        req.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'live subscription failed');
        endStream(res);
        cleanup();
      }
    },
  });
}

function endStream(res: Response): void {
  if (!res.writableEnded) res.end();
}

/**
 * `url` with any `access_token` query value replaced, for access logs: a token in a URL would otherwise be written
 * to the request log (and by proxies). For the request serializer in app.ts.
 */
export function redactAccessToken(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}
