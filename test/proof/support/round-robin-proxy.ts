/**
 * The load balancer in front of the API processes: plain node:http, one upstream per request in turn, bodies
 * streamed both ways (an upload is never buffered; an SSE stream passes through as it is written). An upstream
 * that refuses a connection is passed over for a moment (a passive health check, as nginx's max_fails does), and the
 * request that met it answers 502 — the client retries, as it would behind a real balancer.
 */
import http from 'node:http';
import { once } from 'node:events';
import type net from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** Requests sent to each upstream, in upstream order. */
  counts: number[];
  close(): Promise<void>;
}

const PASS_OVER_MS = 500;

export async function startRoundRobinProxy(upstreams: Array<() => number>): Promise<RoundRobinProxy> {
  const counts = upstreams.map(() => 0);
  const downUntil = upstreams.map(() => 0);
  let next = 0;
  const pick = (): number => {
    for (let tries = 0; tries < upstreams.length; tries++) {
      const i = next++ % upstreams.length;
      if (downUntil[i]! <= Date.now()) return i;
    }
    return next++ % upstreams.length;
  };
  const sockets = new Set<net.Socket>();

  const server = http.createServer((req, res) => {
    const i = pick();
    counts[i]! += 1;
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreams[i]!(), method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
        res.flushHeaders();
        up.pipe(res);
        // the upstream died mid-answer: the client sees its connection end, as behind a real balancer
        up.on('error', () => res.destroy());
        up.on('aborted', () => res.destroy());
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') downUntil[i] = Date.now() + PASS_OVER_MS;
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: `upstream ${i + 1}: ${err.code ?? err.message}` } }));
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
    // the client dropped its line: the upstream must see the request end unfinished too
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
