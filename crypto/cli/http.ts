/**
 * The one place bidtool talks to the platform: a thin wrapper over Node's
 * global fetch. Platform refusals (`{ error: { code, message, details } }`)
 * become a CliExit carrying the server's code and message; network failures,
 * timeouts and malformed answers become a CliExit of their own.
 */
import { CliExit, EXIT_BAD_INPUT, EXIT_FAILED } from './context';

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ApiRequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

interface PlatformError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Validates and normalises a --server value: http(s) URL, no trailing slash. */
export function normaliseServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliExit(EXIT_BAD_INPUT, `平台地址无效 / Invalid server URL: ${server}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliExit(EXIT_BAD_INPUT, `平台地址须为 http(s) / Server URL must be http(s): ${server}`);
  }
  if (url.search || url.hash) {
    throw new CliExit(EXIT_BAD_INPUT, `平台地址不应包含查询串 / Server URL must not have a query or fragment: ${server}`);
  }
  return url.toString().replace(/\/+$/, '');
}

function asPlatformError(body: unknown): PlatformError | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const err = (body as { error?: unknown }).error;
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message, details } = err as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  return {
    code,
    message,
    details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : undefined,
  };
}

/** "CODE: message", plus validation issues when the server lists them. */
function describePlatformError(status: number, e: PlatformError): string {
  const lines = [`平台拒绝请求 / Request refused by the platform (HTTP ${status}): ${e.code}: ${e.message}`];
  const issues = e.details?.issues;
  if (Array.isArray(issues)) {
    for (const issue of issues.slice(0, 10)) {
      if (typeof issue === 'object' && issue !== null) {
        const { path, message } = issue as { path?: unknown; message?: unknown };
        lines.push(`  - ${typeof path === 'string' && path !== '' ? path : '(body)'}: ${String(message ?? '')}`);
      }
    }
  }
  return lines.join('\n');
}

function networkFailure(url: string, e: unknown): CliExit {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return new CliExit(EXIT_FAILED, `请求超时 / Request timed out: ${url}`);
  }
  // fetch reports connection problems as TypeError('fetch failed') with the reason in `cause`.
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  const reason = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
  return new CliExit(EXIT_FAILED, `无法连接平台 / Cannot reach the platform: ${url} (${reason})`);
}

/**
 * Calls `<server><path>` (path like `/api/v1/me`) and returns the parsed JSON
 * body, or the text for non-JSON answers (PEM), or undefined for 204.
 * Throws CliExit: EXIT_BAD_INPUT with the platform's code and message when the
 * platform refuses; EXIT_FAILED when the platform cannot be reached, times out
 * or answers something that is not the platform's.
 */
export async function apiRequest<T = unknown>(
  server: string,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  opts: ApiRequestOptions = {},
): Promise<T> {
  const url = normaliseServer(server) + path;
  const headers: Record<string, string> = { Accept: 'application/json, application/x-pem-file;q=0.9, */*;q=0.1', ...opts.headers };
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }

  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
    text = await res.text();
  } catch (e) {
    throw networkFailure(url, e);
  }

  const isJson = /^application\/(?:[\w.+-]+\+)?json\b/i.test(res.headers.get('content-type') ?? '');
  let parsed: unknown = undefined;
  if (isJson && text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliExit(EXIT_FAILED, `平台返回的 JSON 无法解析 / The platform returned malformed JSON (HTTP ${res.status}): ${url}`);
    }
  }

  if (!res.ok) {
    const platformError = asPlatformError(parsed);
    if (platformError) throw new CliExit(EXIT_BAD_INPUT, describePlatformError(res.status, platformError));
    throw new CliExit(EXIT_FAILED, `平台返回错误 / The platform answered HTTP ${res.status} ${res.statusText}: ${url}`);
  }
  if (res.status === 204) return undefined as T;
  return (isJson ? parsed : text) as T;
}
