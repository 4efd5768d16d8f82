/**
 * Shared plumbing for bidtool commands: where output goes, how a command
 * reports failure, and small file helpers. Commands never call process.exit;
 * they throw CliExit, and the entry point turns that into an exit code, so the
 * whole program can run in-process (tests).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface CliWriter {
  write(text: string): void;
}

export interface CliContext {
  stdout: CliWriter;
  stderr: CliWriter;
  /** Current time; injectable so checks are reproducible in tests. */
  now(): Date;
}

export function defaultContext(): CliContext {
  return {
    stdout: { write: (s) => void process.stdout.write(s) },
    stderr: { write: (s) => void process.stderr.write(s) },
    now: () => new Date(),
  };
}

/** Exit codes: 0 ok, 1 the check/operation failed, 2 bad input (files, arguments). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export class CliExit extends Error {
  constructor(
    public readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

export function println(w: CliWriter, line = ''): void {
  w.write(line + '\n');
}

/** Reads a UTF-8 file; `zh` / `en` name what it is, for the error message. */
export function readTextFile(file: string, zh: string, en: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new CliExit(EXIT_BAD_INPUT, `无法读取${zh}文件 / Cannot read ${en} file: ${file} (${reason})`);
  }
}

/**
 * Writes a file that must not be readable by others (private keys).
 * Refuses to overwrite unless `force`.
 */
export function writeSecretFile(file: string, content: string, force: boolean): void {
  writeNewFile(file, content, force, 0o600);
  // writeFileSync's mode only applies to newly created files; enforce it.
  fs.chmodSync(file, 0o600);
}

export function writeNewFile(file: string, content: string, force: boolean, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, content, { mode, flag: force ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliExit(EXIT_BAD_INPUT, `文件已存在，未覆盖（可用 --force）/ File exists, not overwritten (use --force): ${file}`);
    }
    throw e;
  }
}
