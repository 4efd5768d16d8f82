/** Waiting for something asynchronous without a fixed sleep: look again until it holds or the deadline passes. */

export interface PollOptions {
  /** @defaultValue 10000 */
  timeoutMs?: number;
  /** @defaultValue 20 */
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than undefined, null or false, and returns that; past the deadline,
 * fails naming `what`.
 */
export async function pollUntil<T>(what: string, probe: () => T | Promise<T>, opts: PollOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 20));
  }
}
