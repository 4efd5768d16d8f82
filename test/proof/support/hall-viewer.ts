/**
 * A viewer of the opening hall's live stream (SSE), connected directly to one API process, as a browser's
 * EventSource is: it keeps the events it saw in order and, when the stream ends (an instance going away, a token
 * running out), reconnects with Last-Event-ID so that nothing is missed, unless it was closed.
 */
import http from 'node:http';

export interface HallEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

export interface HallViewer {
  events: HallEvent[];
  /** Connections made (1 = never reconnected). */
  connections: number;
  close(): void;
}

export function watchHall(baseUrl: string, tenderId: string, token: () => string): HallViewer {
  const events: HallEvent[] = [];
  let closed = false;
  let current: http.ClientRequest | undefined;
  const viewer: HallViewer = {
    events,
    connections: 0,
    close() {
      closed = true;
      current?.destroy();
    },
  };

  const connect = () => {
    if (closed) return;
    viewer.connections += 1;
    const last = events.at(-1)?.seq ?? 0;
    const req = http.get(`${baseUrl}/api/v1/tenders/${tenderId}/events`, {
      headers: { Authorization: `Bearer ${token()}`, Accept: 'text/event-stream', ...(last ? { 'Last-Event-ID': String(last) } : {}) },
    });
    current = req;
    let retried = false;
    const again = () => {
      if (closed || retried) return;
      retried = true;
      setTimeout(connect, 200).unref();
    };
    req.on('error', again);
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('close', again);
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (!data || !frame.split('\n').some((l) => l.startsWith('id: '))) continue; // retry, pings, token-expired
          const parsed = JSON.parse(data.slice(6)) as HallEvent;
          // a replay after a reconnection starts after the last id: never a repeat, but be sure
          if (parsed.seq > (events.at(-1)?.seq ?? 0)) events.push({ seq: parsed.seq, type: parsed.type, data: parsed.data });
        }
      });
      // an instance killed mid-stream ends it without an 'end': 'close' comes either way
      res.on('close', again);
      res.on('error', again);
    });
  };
  connect();
  return viewer;
}
