/**
 * A benchmark server child lives as long as its parent: it stops — running its cleanup (closing the app, dropping the
 * database it created) — when its stdin closes, which also happens when the parent dies, or on SIGTERM/SIGINT.
 */
export function stopWithParent(cleanup: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    cleanup().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
