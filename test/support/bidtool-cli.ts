/**
 * For the bidtool tests: the CLI run in-process with its output captured and a clock of the test's choosing, the
 * test app listening on a loopback port for the CLI to talk to over HTTP, and a key directory as
 * `bidtool enrol` + `bidtool login` leave it.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runBidtool } from '../../crypto/cli/bidtool';
import type { BidCliContext, UploadHooks } from '../../crypto/cli/commands/bid';
import type { CliWriter } from '../../crypto/cli/context';
import type { TestApp } from './app';
import type { Member } from './factories';

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

export interface RunCliOptions {
  /** The CLI's clock. */
  now: () => Date;
  /** Upload seams; left off the context when not given. */
  hooks?: UploadHooks;
  /** Declared on the captured stderr when given; otherwise the progress display goes by process.stderr. */
  stderrIsTTY?: boolean;
}

/** Runs bidtool in-process and returns its exit code and what it wrote to stdout and stderr. */
export async function runCli(args: string[], opts: RunCliOptions): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const stderr: CliWriter & { isTTY?: boolean } = { write: (s) => void err.push(s) };
  if (opts.stderrIsTTY !== undefined) stderr.isTTY = opts.stderrIsTTY;
  const ctx: BidCliContext = {
    stdout: { write: (s) => void out.push(s) },
    stderr,
    now: opts.now,
  };
  if (opts.hooks !== undefined) ctx.uploadHooks = opts.hooks;
  const code = await runBidtool(args, ctx);
  return { code, out: out.join(''), err: err.join('') };
}

/** Starts the test app on 127.0.0.1 and an ephemeral port. */
export async function listen(t: TestApp): Promise<{ server: Server; url: string }> {
  const server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Stops a server from listen(), dropping the connections still open. */
export async function stopListening(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A key directory laid out as `bidtool enrol` + `bidtool login` leave it: keys (0600), certificates, ca.pem, token. */
export function writeKeyDir(dir: string, m: Member, caPem: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'signing.key.pem'), m.signingKeys.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'encryption.key.pem'), m.encryptionKeys.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'signing.cert.pem'), m.signingCertPem);
  fs.writeFileSync(path.join(dir, 'encryption.cert.pem'), m.encryptionCertPem);
  fs.writeFileSync(path.join(dir, 'ca.pem'), caPem);
  fs.writeFileSync(path.join(dir, 'token'), m.token + '\n', { mode: 0o600 });
  return dir;
}
