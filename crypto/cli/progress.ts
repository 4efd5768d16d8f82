/**
 * Small helpers shared by the bid and custody commands: a transfer progress
 * display for stderr, retry back-off, and the saved login token.
 *
 * Progress: on a terminal, one line redrawn in place (bar, percent, MiB/s,
 * ETA); otherwise (a log file, a CI job) a plain line about every 10%, so
 * logs stay readable. Rates use the real monotonic clock, never ctx.now()
 * (which tests freeze).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CliExit, EXIT_BAD_INPUT, type CliWriter } from './context';

const MIB = 1024 * 1024;

/**
 * Whether a writer is an interactive terminal. A writer may say so itself
 * (`isTTY`, as Node's streams do); a plain writer is taken to be the process's
 * stderr, which is where bidtool's default context writes.
 */
export function isTerminal(w: CliWriter): boolean {
  const declared = (w as { isTTY?: unknown }).isTTY;
  if (typeof declared === 'boolean') return declared;
  return process.stderr.isTTY === true;
}

/** 1536 → "0.0"; 12_582_912 → "12.0" (MiB, one decimal). */
export function formatMiB(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Seconds → "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Exponential back-off with a little jitter: base, 2×base, 4×base … capped at 30 s. */
export function backoffDelay(baseMs: number, attempt: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 30_000);
  return Math.round(exp * (0.85 + Math.random() * 0.3));
}

interface Sample {
  t: number;
  pos: number;
}

/**
 * Progress of a transfer of `total` bytes. `update(position)` may go back
 * (a failed chunk is resent from the server's offset); the rate then starts
 * afresh.
 */
export class TransferProgress {
  private readonly tty: boolean;
  private samples: Sample[] = [];
  private position = 0;
  private lastDraw = 0;
  private nextDecile = 1;
  private drawn = false;
  private finished = false;

  constructor(
    private readonly w: CliWriter,
    private readonly total: number,
    private readonly label: string,
    opts: { tty?: boolean } = {},
  ) {
    this.tty = opts.tty ?? isTerminal(w);
  }

  /** Begins at `position` (non-zero when resuming). */
  start(position: number): void {
    this.position = position;
    this.samples = [{ t: performance.now(), pos: position }];
    this.nextDecile = Math.floor(this.percent(position) / 10) + 1;
    if (this.tty) this.draw(true);
    else this.w.write(`${this.label}: ${this.statusText()}\n`);
  }

  update(position: number): void {
    if (this.finished) return;
    const now = performance.now();
    if (position < this.position) {
      this.samples = [{ t: now, pos: position }];
      this.nextDecile = Math.floor(this.percent(position) / 10) + 1;
    }
    this.position = position;
    this.samples.push({ t: now, pos: position });
    // keep about ten seconds of history for the rate
    while (this.samples.length > 2 && now - this.samples[1]!.t > 10_000) this.samples.shift();
    if (this.tty) {
      if (now - this.lastDraw >= 100 || position >= this.total) this.draw(false);
      return;
    }
    const pct = this.percent(position);
    if (pct >= this.nextDecile * 10 && position < this.total) {
      this.nextDecile = Math.floor(pct / 10) + 1;
      this.w.write(`${this.label}: ${this.statusText()}\n`);
    }
  }

  /** Prints a message line without garbling the bar. */
  note(line: string): void {
    if (this.tty && this.drawn && !this.finished) {
      this.w.write(`\r\x1b[K${line}\n`);
      this.draw(true);
    } else {
      this.w.write(line + '\n');
    }
  }

  /** Ends the display (the bar line is completed with a newline). */
  finish(): void {
    if (this.finished) return;
    if (this.tty) {
      this.draw(true);
      this.w.write('\n');
    } else if (this.position >= this.total) {
      this.w.write(`${this.label}: ${this.statusText()}\n`);
    }
    this.finished = true;
  }

  private percent(pos: number): number {
    return this.total === 0 ? 100 : (pos / this.total) * 100;
  }

  /** Bytes per second over the recent window, or NaN before there is one. */
  private rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 200) return NaN;
    return ((last.pos - first.pos) / (last.t - first.t)) * 1000;
  }

  private statusText(): string {
    const rate = this.rate();
    const remaining = this.total - this.position;
    const speed = Number.isFinite(rate) ? `${formatMiB(rate)} MiB/s` : '-- MiB/s';
    const eta = Number.isFinite(rate) && rate > 0 ? formatDuration(remaining / rate) : '--';
    return (
      `${this.percent(this.position).toFixed(1).padStart(5)}%  ` +
      `${formatMiB(this.position)}/${formatMiB(this.total)} MiB  ${speed}  ` +
      `剩余 / ETA ${remaining <= 0 ? '0 s' : eta}`
    );
  }

  private draw(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const filled = Math.min(width, Math.floor((this.percent(this.position) / 100) * width));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.w.write(`\r\x1b[K${this.label} [${bar}] ${this.statusText()}`);
    this.drawn = true;
  }
}

// ---------------------------------------------------------------------------
// The saved login token (bidtool login writes DIR/token)
// ---------------------------------------------------------------------------

/** Reads the token `bidtool login` saved; a missing or empty file asks the user to log in. */
export function readSavedToken(tokenFile: string): string {
  let token: string;
  try {
    token = fs.readFileSync(tokenFile, 'utf8').trim();
  } catch {
    throw new CliExit(EXIT_BAD_INPUT, `未找到令牌，请先运行 bidtool login / No token found, run bidtool login first: ${tokenFile}`);
  }
  if (token === '') {
    throw new CliExit(EXIT_BAD_INPUT, `令牌文件为空，请先运行 bidtool login / The token file is empty, run bidtool login first: ${tokenFile}`);
  }
  return token;
}

const AUTH_CODES = /\b(TOKEN_INVALID|UNAUTHENTICATED)\b/;

/** Whether a platform refusal (as apiRequest words it) means the token is missing, expired or revoked. */
export function isAuthRefusal(e: unknown): boolean {
  return e instanceof CliExit && AUTH_CODES.test(e.message);
}

export function loginHint(server: string, dir: string): string {
  return `请重新登录后再试 / Log in again and retry: bidtool login --server ${server} --dir ${dir}`;
}

/** Runs a platform call; a rejected token becomes "run bidtool login". */
export async function withLoginHint<T>(server: string, dir: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isAuthRefusal(e)) throw new CliExit(EXIT_BAD_INPUT, `${(e as CliExit).message}\n${loginHint(server, dir)}`);
    throw e;
  }
}
