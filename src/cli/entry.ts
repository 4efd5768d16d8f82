/** Shared by the CLIs: run `main` only when the file is the process's entry point, and exit with its code. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config';

export function isEntryPoint(moduleUrl: string): boolean {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Configuration errors are printed as they are (they name the key); anything else with `failure` and its stack. */
export function runIfEntryPoint(moduleUrl: string, main: (argv: string[]) => Promise<number>, failure: string, failureCode = 1): void {
  if (!isEntryPoint(moduleUrl)) return;
  main(process.argv).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof ConfigError ? err.message : `${failure}: ${err instanceof Error ? err.stack : err}`);
      process.exit(failureCode);
    },
  );
}
