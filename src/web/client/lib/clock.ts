/**
 * Platform time in the page. Countdowns follow the platform's clock, not the viewer's computer (EB 27): the page
 * asks `GET /time` and keeps the difference.
 */
import { get } from './api';

export class PlatformClock {
  private offsetMs = 0;

  /** Learns the platform's time; a page keeps going on its own clock if the platform can't be asked. */
  async sync(): Promise<void> {
    const asked = Date.now();
    try {
      const { now } = await get<{ now: string }>('/time');
      // the answer was made about halfway through the round trip
      this.offsetMs = new Date(now).getTime() - (asked + Date.now()) / 2;
    } catch {
      /* keep the last offset */
    }
  }

  /** Learns it from a time the platform stated (e.g. the opening view's serverTime). */
  observe(platformTime: string): void {
    const t = new Date(platformTime).getTime();
    if (!Number.isNaN(t)) this.offsetMs = t - Date.now();
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }
}
