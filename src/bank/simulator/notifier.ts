/**
 * Pushes credit notifications to the platform's webhook as a bank does: the IncomingTransfer as JSON, signed over
 * timestamp, nonce and body (notification-signature.ts), retried with backoff until the platform answers 2xx, up to
 * a bound. Every attempt gets a fresh timestamp and nonce, so a retry is never mistaken for a replay. First attempts
 * go out one at a time in order, so a test sees the order it asked for; retries wait in the background.
 */
import crypto from 'node:crypto';
import type { Clock } from '../../shared/clock';
import { NOTIFICATION_HEADERS, type IncomingTransfer } from '../gateway';
import { signNotification } from '../notification-signature';
import type { Faults } from './faults';

export interface NotifierOptions {
  webhookUrl: string | null;
  secret: string;
  clock: Clock;
  faults: Faults;
  /** Attempts per notification before giving up. @defaultValue 20 */
  maxAttempts?: number;
  /** The first retry's delay, doubled each time up to `retryMaxMs`. @defaultValue 100 */
  retryBaseMs?: number;
  /** @defaultValue 5000 */
  retryMaxMs?: number;
  /** How long one attempt may take. @defaultValue 10000 */
  attemptTimeoutMs?: number;
  onDelivered(txnId: string): void;
  onGaveUp(txnId: string): void;
  log(line: string): void;
}

/** One signed request, as sent: kept per transfer so it can be replayed byte for byte. */
export interface Envelope {
  body: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

export interface DeliveryResult {
  status: number | null;
  body: string;
  error: string | null;
  timestamp: string;
  nonce: string;
}

interface Job {
  transfer: IncomingTransfer;
  attempts: number;
}

/** The notification body: fixed key order, so the bytes signed are the same for the same transfer. */
export function notificationBody(t: IncomingTransfer): string {
  const body: IncomingTransfer = {
    txnId: t.txnId,
    virtualAccountNo: t.virtualAccountNo,
    payerAccountNo: t.payerAccountNo,
    payerAccountName: t.payerAccountName,
    payerBankName: t.payerBankName,
    amountFen: t.amountFen,
    bookedAt: t.bookedAt,
  };
  return JSON.stringify(body);
}

export class Notifier {
  private webhookUrl: string | null;
  private secret: string;
  private readonly held: Job[] = [];
  private holdTimer: NodeJS.Timeout | null = null;
  /** Jobs waiting for a webhook URL to be set. */
  private readonly parked: Job[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly lastSent = new Map<string, Envelope>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: NotifierOptions) {
    this.webhookUrl = opts.webhookUrl;
    this.secret = opts.secret;
  }

  get target(): string | null {
    return this.webhookUrl;
  }

  setWebhook(url: string, secret?: string): void {
    this.webhookUrl = url;
    if (secret !== undefined) this.secret = secret;
    for (const job of this.parked.splice(0)) this.send(job);
  }

  /** Queues the notification of a booked credit, with the faults that apply to it now. */
  notify(transfer: IncomingTransfer): void {
    const copies = this.opts.faults.take('duplicateNext') ? 2 : 1;
    for (let i = 0; i < copies; i++) this.route({ transfer, attempts: 0 });
  }

  /**
   * Sends a past notification once more and reports the platform's answer. `sameNonce` replays the last request
   * sent for it byte for byte (timestamp, nonce, signature): a true replay. Otherwise it is signed afresh.
   */
  async redeliver(transfer: IncomingTransfer, sameNonce: boolean): Promise<DeliveryResult> {
    const previous = sameNonce ? this.lastSent.get(transfer.txnId) : undefined;
    const envelope = previous ?? this.seal(transfer, false);
    this.lastSent.set(transfer.txnId, envelope);
    return this.post(envelope);
  }

  close(): void {
    this.closed = true;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private route(job: Job): void {
    const holdMs = this.opts.faults.holdMs();
    if (holdMs === 0) return this.send(job);
    this.held.push(job);
    // Held notifications go out together once the first of them has waited holdMs.
    this.holdTimer ??= setTimeout(() => this.release(), holdMs);
  }

  private release(): void {
    this.holdTimer = null;
    const jobs = this.held.splice(0);
    if (this.opts.faults.current.reorder) jobs.reverse();
    for (const job of jobs) this.send(job);
  }

  private send(job: Job): void {
    if (this.closed) return;
    if (!this.webhookUrl) {
      this.parked.push(job);
      return;
    }
    this.queue = this.queue
      .then(() => this.attempt(job))
      .catch((err: unknown) => this.opts.log(`notification ${job.transfer.txnId} not handled: ${err instanceof Error ? err.message : err}`));
  }

  private async attempt(job: Job): Promise<void> {
    if (this.closed) return;
    job.attempts += 1;
    const envelope = this.seal(job.transfer, this.opts.faults.take('badSignatureNext'));
    this.lastSent.set(job.transfer.txnId, envelope);
    const result = await this.post(envelope);
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      this.opts.onDelivered(job.transfer.txnId);
      return;
    }
    const why = result.status !== null ? `HTTP ${result.status}` : result.error;
    const max = this.opts.maxAttempts ?? 20;
    if (job.attempts >= max) {
      this.opts.log(`notification ${job.transfer.txnId} given up after ${job.attempts} attempts (${why})`);
      this.opts.onGaveUp(job.transfer.txnId);
      return;
    }
    const base = this.opts.retryBaseMs ?? 100;
    const delay = Math.min(base * 2 ** (job.attempts - 1), this.opts.retryMaxMs ?? 5000);
    this.opts.log(`notification ${job.transfer.txnId} attempt ${job.attempts} failed (${why}); retry in ${delay} ms`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.send(job);
    }, delay);
    this.timers.add(timer);
  }

  private seal(transfer: IncomingTransfer, badSignature: boolean): Envelope {
    const body = notificationBody(transfer);
    const timestamp = this.opts.clock.now().toISOString();
    const nonce = crypto.randomBytes(16).toString('hex');
    let signature = signNotification(this.secret, timestamp, nonce, body);
    if (badSignature) signature = signNotification(`${this.secret}-wrong`, timestamp, nonce, body);
    return { body, timestamp, nonce, signature };
  }

  private async post(envelope: Envelope): Promise<DeliveryResult> {
    const { timestamp, nonce } = envelope;
    if (!this.webhookUrl) return { status: null, body: '', error: 'no webhook URL set', timestamp, nonce };
    try {
      const res = await fetch(this.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [NOTIFICATION_HEADERS.timestamp]: timestamp,
          [NOTIFICATION_HEADERS.nonce]: nonce,
          [NOTIFICATION_HEADERS.signature]: envelope.signature,
        },
        body: envelope.body,
        signal: AbortSignal.timeout(this.opts.attemptTimeoutMs ?? 10_000),
      });
      return { status: res.status, body: await res.text(), error: null, timestamp, nonce };
    } catch (err) {
      return { status: null, body: '', error: err instanceof Error ? err.message : String(err), timestamp, nonce };
    }
  }
}
