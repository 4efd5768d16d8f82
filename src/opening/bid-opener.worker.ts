/**
 * The CPU-heavy half of opening a bid — AES-256-GCM decryption of the envelope into a temporary zip, verifying the
 * package within its limits (every document inflated, counted and hashed against the manifest, nothing extracted) and
 * checking its manifest — as a function (openSealedPackage) and, when this module is the script of a worker thread
 * started by BidOpener, as that worker's message loop: one job at a time.
 *
 * Protocol (see BidOpener): the parent posts an OpenJobMessage whose `key` is a transferred 32-byte ArrayBuffer (the
 * content key: memory only, zeroed here once used, never logged); the worker answers with an OpenJobReply carrying
 * either the outcome (a bidder fault comes back as a code, as in the main thread) or an unexpected error's message
 * (the parent rejects, so the job retries). The plaintext zip stays in the job's directory for the parent to store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { EnvelopeError, decryptStream } from '../../crypto/envelope';
import { PackageError, verifyBid } from '../../crypto/package';
import type { ManifestSummary } from './bid-opener';

/** workerData that marks a thread as a bid-opener worker (so importing this module elsewhere starts nothing). */
export const BID_OPENER_WORKER = 'gz-bid-opener-worker:v1';

/** Read and write in 1 MiB chunks: fewer, larger GCM updates and syscalls than the 64 KiB stream default. */
const CHUNK = 1 << 20;

export type OpenFailureCode = 'TAG_MISMATCH' | 'MANIFEST_MISMATCH' | 'PACKAGE_INVALID' | `ENVELOPE_${string}`;

export type PackageOutcome = { ok: true; manifest: ManifestSummary } | { ok: false; code: OpenFailureCode };

/** What the opened package must name. */
export interface Expected {
  tenderId: string;
  sectionId: string;
  creditCode: string;
}

/** The plaintext zip's name inside a job directory. */
export const ZIP_NAME = 'bid.zip';

/**
 * Decrypts `input` with `contentKey` into `<dir>/bid.zip`, verifies the package (verifyBid: the checks of unpackBid,
 * without writing the documents out) and checks its manifest.
 * Bidder faults (EnvelopeError, PackageError, a manifest for another tender, section or bidder) come back as a
 * code; anything else throws. `dir` must exist; the caller removes it. `contentKey` is not modified.
 */
export async function openSealedPackage(input: NodeJS.ReadableStream, contentKey: Buffer, dir: string, expected: Expected): Promise<PackageOutcome> {
  try {
    const zipPath = path.join(dir, ZIP_NAME);
    await decryptStream(input, fs.createWriteStream(zipPath, { mode: 0o600, highWaterMark: CHUNK }), { contentKey });
    const manifest = await verifyBid(zipPath);
    if (manifest.tenderId !== expected.tenderId || manifest.sectionId !== expected.sectionId || manifest.bidder.creditCode !== expected.creditCode) {
      return { ok: false, code: 'MANIFEST_MISMATCH' };
    }
    const { form, documents, tool, machineFingerprint, author, contact, createdAt } = manifest;
    return { ok: true, manifest: { form, documents, tool, machineFingerprint, author, ...(contact ? { contact } : {}), createdAt } };
  } catch (err) {
    if (err instanceof EnvelopeError) return { ok: false, code: err.code === 'TAG_MISMATCH' ? 'TAG_MISMATCH' : `ENVELOPE_${err.code}` };
    if (err instanceof PackageError) return { ok: false, code: 'PACKAGE_INVALID' };
    throw err;
  }
}

export interface OpenJobMessage extends Expected {
  id: number;
  /** The envelope file (a LocalBlobStore blob), read here. */
  envelopePath: string;
  /** An existing, empty directory for the plaintext zip; the parent stores the zip and removes the directory. */
  dir: string;
  /** The 32-byte content key, transferred (detached in the parent). */
  key: ArrayBuffer;
}

export type OpenJobReply =
  | { id: number; outcome: PackageOutcome }
  | { id: number; error: { name: string; message: string; stack?: string; code?: string } };

async function handle(msg: OpenJobMessage): Promise<OpenJobReply> {
  const key = Buffer.from(msg.key); // a view over the transferred memory, not a copy
  try {
    const input = fs.createReadStream(msg.envelopePath, { highWaterMark: CHUNK });
    const outcome = await openSealedPackage(input, key, msg.dir, msg);
    return { id: msg.id, outcome };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    return { id: msg.id, error: { name: e.name, message: e.message, stack: e.stack, ...(typeof code === 'string' ? { code } : {}) } };
  } finally {
    key.fill(0);
  }
}

if (parentPort && workerData === BID_OPENER_WORKER) {
  const port = parentPort;
  port.on('message', (msg: OpenJobMessage) => {
    void handle(msg).then((reply) => port.postMessage(reply));
  });
}
