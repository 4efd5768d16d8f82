/**
 * Platform time. Every deadline decision (bid deadline, decryption window, refund due dates) asks a Clock, never
 * `Date.now()` directly: EB 27 says the server's clock decides, and tests move a ControllableClock instead of sleeping.
 */
export interface Clock {
  now(): Date;
}

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
}

/**
 * A clock that runs with real time from an offset that tests (or a demo operator) can move.
 * `freeze()` stops it, so a test asserts exact instants.
 */
/** A ControllableClock's state: running from an offset to real time, or frozen at an instant (epoch ms). */
export interface ClockSetting {
  offsetMs: number;
  frozenAt: number | null;
}

export class ControllableClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | null = null;
  private readonly listeners = new Set<(now: Date) => void>();

  constructor(start?: Date) {
    if (start) this.set(start);
  }

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  /** Jump to an instant; time keeps running from there unless frozen. */
  set(at: Date): void {
    if (this.frozenAt !== null) this.frozenAt = at.getTime();
    else this.offsetMs = at.getTime() - Date.now();
    this.emit();
  }

  advance(ms: number): void {
    this.set(new Date(this.now().getTime() + ms));
  }

  freeze(at: Date = this.now()): void {
    this.frozenAt = at.getTime();
    this.emit();
  }

  /** The clock's whole state, so the deployment's other processes can take the same platform time (clock-sync.ts). */
  setting(): ClockSetting {
    return { offsetMs: this.offsetMs, frozenAt: this.frozenAt };
  }

  /** Takes a state read from `setting()` (here or in another process); listeners see the move like any other. */
  apply(setting: ClockSetting): void {
    this.offsetMs = setting.offsetMs;
    this.frozenAt = setting.frozenAt;
    this.emit();
  }

  /** Called after every move, so schedulers can look again at what became due. */
  onChange(listener: (now: Date) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const now = this.now();
    for (const l of this.listeners) l(now);
  }
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
