/** The JSON API as the pages call it: the tab's token, the platform's error codes, Chinese messages. */
import { considerRenewal } from './renew';
import { clearSession, currentSession, loginUrl } from './session';

export const API = '/api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const s = currentSession();
  return { Accept: 'application/json', ...(s ? { Authorization: `Bearer ${s.token}` } : {}), ...extra };
}

async function failure(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: unknown } } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON: a proxy's page; the status says enough */
  }
  // a proxy in front may refuse a large upload with a page of its own: still say what it means
  const tooLarge = res.status === 413 && !body.error;
  const code = body.error?.code ?? (tooLarge ? 'PAYLOAD_TOO_LARGE' : `HTTP_${res.status}`);
  const message =
    body.error?.message ??
    (tooLarge ? '文件过大 (file too large)' : res.status >= 500 ? '服务器暂时无法处理，请稍后再试 (server error)' : `请求失败 (HTTP ${res.status})`);
  if (res.status === 401) clearSession();
  return new ApiError(res.status, code, message, body.error?.details);
}

/** A request body: JSON, or a file's own bytes with its media type. */
type Body = { json: unknown } | { file: Blob; contentType: string } | undefined;

async function send(method: string, path: string, body?: Body): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(API + path, {
      method,
      headers: headers(!body ? {} : 'json' in body ? { 'Content-Type': 'application/json' } : { 'Content-Type': body.contentType }),
      body: !body ? undefined : 'json' in body ? JSON.stringify(body.json) : body.file,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', '网络连接中断，请检查网络后重试 (network unreachable)');
  }
  if (!res.ok) throw await failure(res);
  const left = res.headers.get('x-token-expires-in');
  if (left !== null && path !== '/auth/renew') considerRenewal(Number(left));
  return res;
}

export async function api<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return answer<T>(await send(method, path, body === undefined ? undefined : { json: body }));
}

/** POSTs a file's own bytes (the documents route takes them as they are, not a multipart form). */
export async function upload<T = unknown>(path: string, file: Blob, contentType: string): Promise<T> {
  return answer<T>(await send('POST', path, { file, contentType }));
}

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

export const get = <T = unknown>(path: string) => api<T>('GET', path);
export const post = <T = unknown>(path: string, body: unknown = {}) => api<T>('POST', path, body);

/** GET with the response's headers too (e.g. X-Next-Cursor). */
export async function getWithHeaders<T = unknown>(path: string): Promise<{ body: T; headers: Headers }> {
  const res = await send('GET', path);
  return { body: (await res.json()) as T, headers: res.headers };
}

/** Downloads a file the API serves (a PDF, a time-stamp token, an export) under `filename`. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await send('GET', path);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A refusal as one line for people: the message, and the stable code to quote to the help desk. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return `登录已过期或无效，请重新登录 (sign in again) [${err.code}]`;
    const issues = (err.details as { issues?: Array<{ path: string; message: string }> } | undefined)?.issues;
    const extra = issues?.length ? `：${issues.map((i) => `${i.path} ${i.message}`).join('；')}` : '';
    return `${err.message}${extra} [${err.code}]`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** After a 401 the page offers the way back in. */
export function isSignedOut(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

export { loginUrl };
