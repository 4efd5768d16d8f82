/**
 * A stand-in for the platform's `POST /api/v1/bank/notifications` in bank simulator tests: it keeps every request it
 * gets, answers 401 to a bad signature and 200 otherwise, unless a test sets `answer`.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NOTIFICATION_HEADERS, type IncomingTransfer } from '../../src/bank/gateway';
import { signatureMatches } from '../../src/bank/notification-signature';

export interface ReceivedNotification {
  headers: IncomingHttpHeaders;
  rawBody: string;
  transfer: IncomingTransfer;
  timestamp: string;
  nonce: string;
  signature: string;
  signatureValid: boolean;
  /** When it arrived (Date.now()). */
  at: number;
  /** What was answered. */
  status: number;
}

export class WebhookReceiver {
  readonly received: ReceivedNotification[] = [];
  /** Decides the answer; the default accepts a valid signature and refuses any other with 401. */
  answer: (n: Omit<ReceivedNotification, 'status'>) => number = (n) => (n.signatureValid ? 200 : 401);
  url = '';
  private server: http.Server | null = null;

  constructor(readonly secret: string) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => String(req.headers[name] ?? '');
        const timestamp = header(NOTIFICATION_HEADERS.timestamp);
        const nonce = header(NOTIFICATION_HEADERS.nonce);
        const signature = header(NOTIFICATION_HEADERS.signature);
        const n = {
          headers: req.headers,
          rawBody,
          transfer: JSON.parse(rawBody) as IncomingTransfer,
          timestamp,
          nonce,
          signature,
          signatureValid: signatureMatches(this.secret, timestamp, nonce, rawBody, signature),
          at: Date.now(),
        };
        const status = this.answer(n);
        this.received.push({ ...n, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status < 300 }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1/bank/notifications`;
    return this.url;
  }

  /** Every request that carried this transfer, in arrival order. */
  of(txnId: string): ReceivedNotification[] {
    return this.received.filter((n) => n.transfer.txnId === txnId);
  }

  /** The requests answered 2xx for this transfer. */
  accepted(txnId: string): ReceivedNotification[] {
    return this.of(txnId).filter((n) => n.status < 300);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
