/**
 * The bank gateway over HTTP and JSON, as the bank simulator speaks it (and the shape a real bank adapter takes).
 * Whatever leaves the outcome of a request unknown — no connection, no answer in time, a 5xx (or 408, 429), an
 * answer that can't be read — is BankUnavailable, and the caller retries with the same idempotency key; any other
 * 4xx is the request's fault and a plain Error (a 404 for a payout's status is null: the bank never received it).
 * Messages name the method and path only: never the base URL (it may carry credentials) or a body.
 */
import { BankUnavailable, type BankGateway, type PayoutStatus, type StatementEntry, type TransferRequest } from './gateway';

export interface HttpBankGatewayOptions {
  baseUrl: string;
  /** Per request, answer body included. @defaultValue 5000 */
  timeoutMs?: number;
}

export class HttpBankGateway implements BankGateway {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(opts: HttpBankGatewayOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  openVirtualAccount(input: { reference: string; name: string }): Promise<{ accountNo: string; bankName: string }> {
    return this.request('POST', '/accounts/virtual', input);
  }

  transfer(req: TransferRequest): Promise<PayoutStatus> {
    return this.request('POST', '/payouts', req);
  }

  async payoutStatus(idempotencyKey: string): Promise<PayoutStatus | null> {
    return this.request<PayoutStatus | null>('GET', `/payouts/${encodeURIComponent(idempotencyKey)}`, undefined, { notFoundAsNull: true });
  }

  statement(date: string): Promise<StatementEntry[]> {
    return this.request('GET', `/statements/${encodeURIComponent(date)}`);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, opts: { notFoundAsNull?: boolean } = {}): Promise<T> {
    const what = `${method} ${path}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.baseUrl + path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new BankUnavailable(`银行无应答 (bank unavailable): ${what}: ${describeFailure(err, this.timeoutMs)}`);
    }
    // 408 and 429 say, like a 5xx, that the bank did not take the request up now.
    if (status >= 500 || status === 408 || status === 429) throw new BankUnavailable(`银行暂不可用 (bank unavailable): ${what} answered ${status}`);
    if (status === 404 && opts.notFoundAsNull) return null as T;
    if (status >= 400) throw new Error(`银行拒绝请求 (bank refused the request): ${what} answered ${status}${errorCode(text)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      // A 2xx we can't read tells us no more than no answer: the request may have been booked.
      throw new BankUnavailable(`银行应答无法解析 (bank answer unreadable): ${what} answered ${status}`);
    }
  }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  const text = [err instanceof Error ? err.message : String(err), typeof cause?.message === 'string' ? cause.message : '']
    .filter(Boolean)
    .join(': ');
  // fetch names the whole URL in some messages, credentials included: those are not repeated.
  return text.includes('://') ? (err instanceof Error ? err.name : 'request failed') : text;
}

/** The bank's error code, if its answer names one (only the code: the message may echo the request). */
function errorCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? ` ${code.slice(0, 64)}` : '';
  } catch {
    return '';
  }
}
