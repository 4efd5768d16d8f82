/**
 * Last-resort cleanup: what a benchmark registers here runs when the process exits without reaching the benchmark's
 * own `finally` (an uncaught error, Ctrl-C). Functions must be synchronous: nothing async runs at 'exit'.
 */
const pending = new Set<() => void>();

/** Registers `fn`; call the returned function once the normal path has cleaned up. */
export function onExitCleanup(fn: () => void): () => void {
  pending.add(fn);
  return () => void pending.delete(fn);
}

export function runExitCleanups(): void {
  for (const fn of [...pending].reverse()) {
    try {
      fn();
    } catch {
      // best effort: the process is leaving
    }
  }
  pending.clear();
}
