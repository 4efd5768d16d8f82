/**
 * The hall's live feed over Server-Sent Events. The browser's EventSource reconnects by itself and sends
 * Last-Event-ID, so the platform replays what was missed; this class adds what EventSource can't do: a new token
 * when the old one expired (a fresh EventSource resuming from the last seq seen), a visible connection state, and
 * no event handled twice.
 */
import { currentSession } from '../lib/session';
import { EVENT_TYPES, type LiveEvent } from './model';

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'signed-out';


export class LiveFeed {
  private source: EventSource | null = null;
  private lastSeq = 0;
  /** restarts since the stream last opened: a token the platform keeps refusing means signing in again */
  private failures = 0;

  constructor(
    private readonly tenderId: string,
    private readonly onEvent: (e: LiveEvent) => void,
    private readonly onState: (s: LinkState) => void,
  ) {}

  get seq(): number {
    return this.lastSeq;
  }

  start(): void {
    const session = currentSession();
    if (!session) return this.onState('signed-out');
    const params = new URLSearchParams({ access_token: session.token });
    if (this.lastSeq > 0) params.set('lastEventId', String(this.lastSeq));
    const source = new EventSource(`/api/v1/tenders/${encodeURIComponent(this.tenderId)}/events?${params}`);
    this.source = source;
    this.onState('connecting');
    source.onopen = () => {
      this.failures = 0;
      this.onState('open');
    };
    source.onerror = () => {
      // CLOSED: the platform refused (a 401 after the token expired); CONNECTING: the browser is retrying
      if (source.readyState === EventSource.CLOSED) this.restart();
      else this.onState('reconnecting');
    };
    const handle = (ev: MessageEvent) => {
      const e = JSON.parse(ev.data) as LiveEvent;
      if (e.seq <= this.lastSeq) return;
      this.lastSeq = e.seq;
      this.onEvent(e);
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, handle as EventListener);
    source.addEventListener('token-expired', () => this.restart());
  }

  /** A new stream from where this one stopped, with whatever token the tab now holds. */
  private restart(): void {
    this.source?.close();
    this.source = null;
    if (!currentSession() || ++this.failures > 3) return this.onState('signed-out');
    this.onState('reconnecting');
    setTimeout(() => this.start(), 1000);
  }

  stop(): void {
    this.source?.close();
    this.source = null;
  }
}
