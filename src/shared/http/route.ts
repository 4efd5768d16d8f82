/**
 * One way to declare a route: its schemas validate the request AND describe it in /api/v1/openapi.json, its `access`
 * gates the role before the handler runs, and every handler's error reaches the one error middleware.
 * Routes stay thin: parse, call one service method, respond.
 */
import type { Request, Response, Router } from 'express';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { requireActor, type ActionContext, type OrgType } from '../access';
import { UnsupportedMediaType, ValidationFailed } from '../errors';
import { actionContextOf } from './request-context';

// Validation messages reach users: Chinese, with the field path alongside (`body.sections.0.depositFen`).
z.config(z.locales.zhCN());

export type Access = 'public' | 'authenticated' | readonly OrgType[];

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  ctx: ActionContext;
  req: Request;
  res: Response;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path below /api/v1, e.g. `/tenders/:tenderId`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** A streamed (non-JSON) request body, e.g. a document upload. */
  rawBody?: { description: string };
  response?: z.ZodType;
  /** Success status; default 200 (201 for post). */
  status?: number;
  /** Non-JSON response media type, e.g. application/pdf. */
  produces?: string;
  handler(input: HandlerInput<P, Q, B>): Promise<unknown>;
}

function formatIssues(error: z.ZodError, where: string) {
  return error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
}

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw ValidationFailed({ issues: formatIssues(parsed.error, where) });
  return parsed.data;
}

function isJson(req: Request): boolean {
  return Boolean(req.is('application/json'));
}

export const API_BASE = '/api/v1';

export class RouteTable {
  readonly routes: RouteDef[] = [];

  add<P, Q, B>(def: RouteDef<P, Q, B>): void {
    this.routes.push(def as RouteDef);
  }

  mount(router: Router): void {
    for (const def of this.routes) {
      router[def.method](def.path, async (req: Request, res: Response) => {
        const ctx = actionContextOf(req);
        if (def.access === 'authenticated') requireActor(ctx);
        else if (def.access !== 'public') requireActor(ctx, ...def.access);
        const params = parsePart(def.params, req.params, 'params');
        const query = parsePart(def.query, req.query, 'query');
        let body: unknown = undefined;
        if (def.body) {
          if (!isJson(req)) throw UnsupportedMediaType({}, { expected: 'application/json' });
          body = parsePart(def.body, req.body, 'body');
        }
        const result = await def.handler({ params, query, body, ctx, req, res });
        if (res.headersSent) return;
        const status = def.status ?? (def.method === 'post' ? 201 : 200);
        if (result === undefined) res.status(status === 200 ? 204 : status).end();
        else res.status(status).json(result);
      });
    }
  }

  /** Describes every route for the OpenAPI document, from the same schemas that validate. */
  register(registry: OpenAPIRegistry): void {
    for (const def of this.routes) {
      const roles = def.access === 'public' || def.access === 'authenticated' ? def.access : def.access.join(', ');
      const status = def.status ?? (def.method === 'post' ? 201 : 200);
      registry.registerPath({
        method: def.method,
        path: API_BASE + def.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
        summary: def.summary,
        description: `Access: ${roles}`,
        tags: [def.tag],
        security: def.access === 'public' ? [] : [{ bearerAuth: [] }],
        request: {
          params: def.params as z.ZodObject | undefined,
          query: def.query as z.ZodObject | undefined,
          body: def.body
            ? { content: { 'application/json': { schema: def.body } } }
            : def.rawBody
              ? { description: def.rawBody.description, content: { 'application/octet-stream': { schema: z.string() } } }
              : undefined,
        },
        responses: {
          [status]: {
            description: 'OK',
            content: def.produces
              ? { [def.produces]: { schema: z.string() } }
              : def.response
                ? { 'application/json': { schema: def.response } }
                : undefined,
          },
          default: { description: 'Error', content: { 'application/json': { schema: ErrorBody } } },
        },
      });
    }
  }
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable code a client can branch on, e.g. DEPOSIT_ABOVE_CAP' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' });
