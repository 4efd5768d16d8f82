/**
 * The express app. Thin by design: request context, logging, metrics, JSON parsing and authentication, then the
 * route table every domain fills, then the one error handler.
 */
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { z } from 'zod';
import type { AppContext } from './context';
import { ControllableClock } from './shared/clock';
import { createMetrics } from './shared/metrics';
import { outboxBacklog } from './shared/queue';
import { formatShanghai, TIME_ZONE } from './shared/time';
import { API_BASE, RouteTable } from './shared/http/route';
import { authenticate, requestContext, actionContextOf } from './shared/http/request-context';
import { errorHandler, notFoundHandler } from './shared/http/error-handler';
import { buildOpenApi } from './shared/http/openapi';
import { securityHeaders } from './shared/http/security-headers';
import { csrfGuard } from './shared/http/csrf';
import { refuseNulCharacters } from './shared/http/input-guards';
import { rateLimit } from './shared/http/rate-limit';
import { identityRoutes } from './identity/identity.routes';
import { tenderRoutes } from './tenders/tenders.routes';
import { auditRoutes } from './monitoring/audit.routes';
import { alertRoutes } from './monitoring/alerts.routes';
import { ruleRoutes } from './monitoring/rules/rules.routes';
import { custodyRoutes } from './custody/custody.routes';
import { bidRoutes } from './bids/bids.routes';
import { liveRoutes, redactAccessToken } from './live/live.routes';
import { openingRoutes } from './opening/opening.routes';
import { awardRoutes } from './award/award.routes';
import { calendarRoutes } from './calendar/calendar.routes';
import { depositRoutes } from './deposits/deposits.routes';
import { opendataRoutes } from './opendata/ocds.routes';
import { webRoutes } from './web/web.routes';

export const VERSION = '0.1.0';

/** Every API route, declared once: the app mounts them, the OpenAPI document and the authorization test read them. */
export function buildRouteTable(ctx: AppContext): RouteTable {
  const routes = new RouteTable();
  const { services } = ctx;
  identityRoutes(routes, services);
  tenderRoutes(routes, services.tenders);
  auditRoutes(routes, { audit: services.audit, checkpoints: services.checkpoints });
  alertRoutes(routes, { alerts: services.alerts, review: services.alertReview, report: services.alertReport });
  ruleRoutes(routes, { engine: services.monitoring });
  custodyRoutes(routes, services.custody);
  bidRoutes(routes, { uploads: services.uploads, bids: services.bids, uploadIdleMs: ctx.config.uploadIdleSeconds * 1000 });
  liveRoutes(routes, { live: services.live, auth: services.auth });
  openingRoutes(routes, { opening: services.opening, readout: services.openingReadout });
  awardRoutes(routes, services.award);
  calendarRoutes(routes, services.calendar);
  depositRoutes(routes, { deposits: services.deposits, credits: services.credits, sla: services.sla });
  // open data reads only: a stateless service over the database, built here rather than wired in the context
  opendataRoutes(routes, services.ocds);

  routes.add({
    method: 'get', path: '/time', tag: 'platform', access: 'public',
    summary: '平台时间（倒计时以此为准） (platform time: countdowns follow it, EB 27)',
    handler: async () => {
      const now = ctx.clock.now();
      return { now: now.toISOString(), local: formatShanghai(now), timeZone: TIME_ZONE };
    },
  });
  if (ctx.clock instanceof ControllableClock) {
    const clock = ctx.clock;
    routes.add({
      method: 'post', path: '/dev/clock', tag: 'platform', access: ['operator'],
      body: z.object({ at: z.iso.datetime({ offset: true }).transform((s) => new Date(s)) }), status: 200,
      summary: '调整平台时间（仅 CLOCK=controllable 的演示/测试环境） (move platform time; demo and tests only)',
      handler: async ({ body, ctx: actionCtx }) => {
        const before = clock.now();
        clock.set(body.at);
        // one platform time for the deployment: every other API instance and worker takes the move too
        await ctx.clockSync?.share();
        await services.audit.record(actionCtx, {
          action: 'platform.clock.set',
          payload: { from: before.toISOString(), to: body.at.toISOString() },
        });
        return { now: clock.now().toISOString() };
      },
    });
  }
  return routes;
}

async function health(ctx: AppContext) {
  const check = async (fn: () => Promise<unknown>) => {
    try {
      const r = await fn();
      return typeof r === 'string' && r !== 'ok' ? r : 'ok';
    } catch (err) {
      return err instanceof Error ? err.message : 'error';
    }
  };
  const [db, queue, events, storage] = await Promise.all([
    check(() => ctx.db.raw('select 1')),
    check(() => ctx.queue.ping()),
    check(() => ctx.events.ping()),
    check(() => ctx.blobs.ping()),
  ]);
  const checks = {
    db: { status: db, kind: ctx.config.database.url ? 'postgresql' : 'pglite (embedded)' },
    queue: { status: queue, kind: ctx.config.redis.url ? 'bullmq (redis)' : 'in-process' },
    events: { status: events, kind: ctx.config.redis.url ? 'redis pub/sub' : 'in-process' },
    storage: { status: storage, kind: ctx.config.blobStore === 's3' ? 's3 (object storage)' : 'local directory' },
  };
  const ok = Object.values(checks).every((c) => c.status === 'ok');
  return { ok, body: { status: ok ? 'ok' : 'degraded', version: VERSION, time: ctx.clock.now().toISOString(), checks } };
}

export function buildApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  const metrics = createMetrics({ outbox: () => outboxBacklog(ctx.db, ctx.clock) });

  app.use(requestContext);
  app.use(securityHeaders());
  app.use(csrfGuard({ publicOrigin: ctx.config.publicOrigin }));
  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req, res) => String(res.getHeader('X-Request-Id') ?? req.id),
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
      // an SSE viewer may carry its token in the query (EventSource can't send headers): never log it
      serializers: { req: (req) => ({ id: req.id, method: req.method, url: redactAccessToken(req.url) }) },
    }),
  );
  app.use(metrics.middleware);

  app.get('/health', async (_req, res) => {
    const { ok, body } = await health(ctx);
    res.status(ok ? 200 : 503).json(body);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const routes = buildRouteTable(ctx);
  const openapi = buildOpenApi(routes, VERSION);
  const api = express.Router();
  api.use(
    express.json({
      limit: ctx.config.maxJsonBytes,
      strict: true,
      // the bank signs the exact bytes of its notifications: keep them for the signature check
      verify: (req, _res, buf) => {
        if (req.url?.startsWith('/bank/')) (req as { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );
  api.use(refuseNulCharacters);
  api.use(authenticate((token) => ctx.services.auth.verifyToken(token), () => ctx.clock.now()));
  api.use(rateLimit(ctx.rateLimits, ctx.config.rateLimits, ctx.logger));
  api.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  routes.mount(api);
  app.use(API_BASE, api);
  app.use(webRoutes({ platformName: ctx.config.platformName }));

  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}

export { actionContextOf };
