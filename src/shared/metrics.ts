/** Prometheus metrics at /metrics: process defaults plus request counts and latencies by route. */
import type { NextFunction, Request, Response } from 'express';
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  middleware(req: Request, res: Response, next: NextFunction): void;
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'gz_' });
  const duration = new client.Histogram({
    name: 'gz_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return {
    registry,
    middleware(req, res, next) {
      const end = duration.startTimer();
      res.on('finish', () => {
        // the route pattern, not the URL, keeps label cardinality bounded
        const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    },
  };
}
