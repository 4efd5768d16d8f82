import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import type { RouteTable } from './route';

/** The OpenAPI document, generated from the same schemas that validate requests. */
export function buildOpenApi(routes: RouteTable, version: string): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  routes.register(registry);
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: '公共资源电子交易平台 API (public-resource trading platform)',
      version,
      description:
        'Amounts are integer fen (分); times are ISO 8601 in UTC and shown in Asia/Shanghai. Errors: ' +
        '{ "error": { "code", "message", "details" } } with stable codes; details.basis cites the article of law.',
    },
    servers: [{ url: '/' }],
  });
}
