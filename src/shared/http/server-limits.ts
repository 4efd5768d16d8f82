/**
 * Connection limits of the HTTP server, shared by `npm start` and the tests that prove them.
 * - requestTimeout stays 0: a 4 GiB bid streams for as long as it needs; a stalled upload is cut off by its own
 *   idle timeout (UPLOAD_IDLE_SECONDS) instead, and bid deadlines are judged by the platform clock, not here.
 * - headersTimeout bounds how long a client may take to send its headers, so a slow-loris trickling header lines
 *   cannot hold connections open; the check runs every connectionsCheckingInterval.
 * - keepAliveTimeout: an idle kept-alive connection closes after a few seconds (below headersTimeout, as Node needs).
 * Oversized headers (beyond Node's 16 KiB maxHeaderSize) are answered 431 by Node itself.
 */
import type { Server } from 'node:http';

export const SERVER_LIMITS = { headersTimeoutMs: 20_000, keepAliveTimeoutMs: 10_000 };

export function applyServerLimits(server: Server, limits: { headersTimeoutMs: number; keepAliveTimeoutMs: number } = SERVER_LIMITS): Server {
  server.requestTimeout = 0;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}
