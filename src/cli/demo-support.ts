/**
 * What the demo's steps share: its output, a loose JSON type for the API's bodies, the failure of a step, aligned
 * tables in a terminal (CJK characters are two columns wide), and a small client for the platform's API.
 */

export type Out = (line: string) => void;
// JSON bodies from the API, read loosely: the demo shows them, the tests check them.
export type Json = any;

export class StepFailed extends Error {}

/** Display width of a string in a terminal: CJK characters take two columns. */
function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/** Rows of cells as an aligned table, the header first, with a rule under it. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}


export class ApiClient {
  constructor(private readonly base: string) {}

  async call(
    method: string,
    route: string,
    opts: { token?: string; json?: unknown; raw?: Buffer; contentType?: string; headers?: Record<string, string>; expect?: number } = {},
  ): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { 'User-Agent': 'gz-demo-cli', ...opts.headers };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | Uint8Array | undefined;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.raw) {
      headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
      body = new Uint8Array(opts.raw);
    }
    const res = await fetch(this.base + route, { method, headers, body });
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    if (opts.expect !== undefined && res.status !== opts.expect) {
      const err = parsed && typeof parsed === 'object' && parsed.error ? `${parsed.error.code}: ${parsed.error.message}` : String(text).slice(0, 300);
      throw new StepFailed(`${method} ${route} → HTTP ${res.status}（期望 expected ${opts.expect}）${err}`);
    }
    return { status: res.status, body: parsed };
  }

  /** A binary download (a PDF), which must answer 200. */
  async bytes(route: string, token: string): Promise<Buffer> {
    const res = await fetch(this.base + route, { headers: { 'User-Agent': 'gz-demo-cli', Authorization: `Bearer ${token}` } });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new StepFailed(`GET ${route} → HTTP ${res.status}（期望 expected 200）${body.toString('utf8').slice(0, 300)}`);
    return body;
  }
}
