/**
 * The simulator's clock. A test that moves the platform's clock moves this one to match, so credits carry a bookedAt
 * and notifications a timestamp the platform accepts; from the instant it is set it runs on with real time.
 */
import type { Clock } from '../../shared/clock';

export class SimClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Jump to `at` and run on from there. */
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }

  /** Back to system time. */
  reset(): void {
    this.offsetMs = 0;
  }

  get isSystemTime(): boolean {
    return this.offsetMs === 0;
  }
}
