/**
 * Opens one sealed bid with its content key: decrypts the envelope (AES-256-GCM) into a temporary file, checks the
 * tag, verifies the package within its limits (every document inflated and hashed against the manifest, nothing
 * extracted) and checks that its manifest names this tender, section and bidder; the plaintext package is then kept
 * in the blob store for evaluation. With a LocalBlobStore the temporary file is made in the store's own scratch space
 * and moved into place (fsync + rename, no copy); any other store gets it with put. Failures that are the bidder's
 * own come back as a code; anything else throws (the job retries it).
 *
 * The CPU-heavy part (decrypt + verify + manifest check, see bid-opener.worker.ts) runs on a small pool of worker
 * threads, so many large bids open in parallel without blocking the event loop: at most
 * min(os.availableParallelism(), 4) workers, started lazily, each with one bid at a time, the rest queued. The
 * worker reads the envelope straight from its file when the blob store is a LocalBlobStore; with any other store
 * the envelope is streamed and decrypted in this thread, as before. The content key goes to the worker in a
 * transferred buffer (memory only; zeroed there after use). Idle workers are unref()'d (they never keep the process
 * alive) and stop after IDLE_MS; close() terminates them.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Manifest } from '../../crypto/package';
import { BlobKeyInvalid, BlobNotFound, type BlobStore } from '../shared/blobs';
import { LocalBlobStore, validateBlobKey } from '../shared/blobs/local-blob-store';
import type { Bid } from '../bids/bids.repository';
import {
  BID_OPENER_WORKER,
  ZIP_NAME,
  openSealedPackage,
  type OpenFailureCode,
  type OpenJobMessage,
  type OpenJobReply,
  type PackageOutcome,
} from './bid-opener.worker';

export type OpenResult = { ok: true; plaintextBlobKey: string; manifest: ManifestSummary } | { ok: false; code: OpenFailureCode };

/** What the opening keeps of a manifest: the bid form and the document list (names, sizes, digests). */
export type ManifestSummary = Pick<Manifest, 'form' | 'documents' | 'tool' | 'machineFingerprint' | 'author' | 'contact' | 'createdAt'>;

/** The most workers a pool starts, whatever the machine. */
export const MAX_OPENER_WORKERS = 4;
/** An idle worker stops after this long (a new one starts with the next bid). */
const IDLE_MS = 60_000;
/** Prefix of a job's temporary directory. */
const TEMP_PREFIX = 'gz-open-';
/** A job directory older than this in the blob store's scratch space was left by a crash: removed at first use. */
const STALE_TEMP_MS = 24 * 3_600_000;

export interface BidOpenerOptions {
  /** Worker threads at most; default min(os.availableParallelism(), 4). 0 decrypts in this thread. */
  workers?: number;
}

export class BidOpener {
  private readonly pool: OpenerPool | null;
  private staleSwept = false;

  constructor(
    private readonly blobs: BlobStore,
    opts: BidOpenerOptions = {},
  ) {
    const size = opts.workers ?? Math.min(os.availableParallelism(), MAX_OPENER_WORKERS);
    this.pool = size > 0 ? new OpenerPool(size) : null;
  }

  async open(bid: Bid, contentKey: Buffer, bidder: { creditCode: string }): Promise<OpenResult> {
    const expected = { tenderId: bid.tenderId, sectionId: bid.sectionId, creditCode: bidder.creditCode };
    const envelopePath = this.pool ? this.localPath(bid.blobKey) : null;
    // a missing blob is an error (retried), as blobs.get makes it in the fallback
    if (envelopePath !== null && (await this.blobs.stat(bid.blobKey)) === null) throw BlobNotFound({ key: bid.blobKey });
    const local = this.blobs instanceof LocalBlobStore ? this.blobs : null;
    if (local && !this.staleSwept) {
      this.staleSwept = true;
      await local.removeStaleTempDirs(TEMP_PREFIX, STALE_TEMP_MS);
    }
    // in the store's scratch space when local, so that the plaintext zip can be moved into place rather than copied
    const dir = local ? await local.makeTempDir(TEMP_PREFIX) : await fs.promises.mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX));
    try {
      const outcome: PackageOutcome =
        envelopePath !== null
          ? await this.pool!.run({ envelopePath, dir, ...expected }, contentKey)
          : await openSealedPackage(await this.blobs.get(bid.blobKey), contentKey, dir, expected);
      if (!outcome.ok) return outcome;
      const plaintextBlobKey = `opened/${bid.tenderId}/${bid.id}.zip`;
      const zipPath = path.join(dir, ZIP_NAME);
      if (local) await local.adoptFile(plaintextBlobKey, zipPath);
      else await this.blobs.put(plaintextBlobKey, fs.createReadStream(zipPath, { highWaterMark: 1 << 20 }));
      return { ok: true, plaintextBlobKey, manifest: outcome.manifest };
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }

  /** Terminates the workers; safe to call when none was ever started, and more than once. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** The blob's file when the store is local (the worker reads it itself), else null. */
  private localPath(key: string): string | null {
    if (!(this.blobs instanceof LocalBlobStore)) return null;
    // as LocalBlobStore resolves a key: the pattern, then the path must stay under the root
    validateBlobKey(key);
    const root = this.blobs.root;
    const full = path.resolve(root, key);
    if (!full.startsWith(root + path.sep)) throw BlobKeyInvalid({ key });
    return full;
  }
}

type JobInput = Omit<OpenJobMessage, 'id' | 'key'>;

interface Job {
  input: JobInput;
  /** The key in its own (transferable) memory; detached once posted, zeroed if the job never leaves the queue. */
  key: ArrayBuffer;
  resolve(outcome: PackageOutcome): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job: (Job & { id: number }) | null;
  idleTimer: NodeJS.Timeout | null;
}

/** A lazily started pool of bid-opener workers, one job per worker at a time, FIFO queue for the rest. */
class OpenerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {}

  run(input: JobInput, contentKey: Buffer): Promise<PackageOutcome> {
    if (this.closed) return Promise.reject(new Error('the bid opener is closed'));
    const key = new ArrayBuffer(contentKey.length);
    new Uint8Array(key).set(contentKey);
    return new Promise<PackageOutcome>((resolve, reject) => {
      this.queue.push({ input, key, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      new Uint8Array(job.key).fill(0);
      job.reject(new Error('the bid opener is closed'));
    }
    const slots = [...this.slots];
    this.slots.clear();
    await Promise.all(
      slots.map(async (slot) => {
        if (slot.idleTimer) clearTimeout(slot.idleTimer);
        const job = slot.job;
        slot.job = null;
        job?.reject(new Error('the bid opener is closed'));
        await slot.worker.terminate();
      }),
    );
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = [...this.slots].find((s) => s.job === null);
      if (!slot) {
        if (this.slots.size >= this.size) return;
        slot = this.start();
      }
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    const id = this.nextId++;
    slot.job = { ...job, id };
    slot.worker.ref(); // a bid being opened keeps the process alive, an idle worker does not
    const msg: OpenJobMessage = { id, ...job.input, key: job.key };
    slot.worker.postMessage(msg, [job.key]); // transferred: this thread's copy is detached
  }

  private start(): Slot {
    const worker = new Worker(workerBootstrap(), { eval: true, execArgv: [], workerData: BID_OPENER_WORKER });
    worker.unref();
    const slot: Slot = { worker, job: null, idleTimer: null };
    this.slots.add(slot);
    worker.on('message', (reply: OpenJobReply) => {
      const job = slot.job;
      if (!job || reply.id !== job.id) return;
      slot.job = null;
      worker.unref();
      if ('outcome' in reply) job.resolve(reply.outcome);
      else job.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack, code: reply.error.code }));
      if (this.slots.has(slot)) {
        slot.idleTimer = setTimeout(() => this.retire(slot), IDLE_MS);
        slot.idleTimer.unref();
      }
      this.pump();
    });
    // an uncaught error ends the worker: 'exit' follows and fails its job
    worker.on('error', (err) => {
      const job = slot.job;
      slot.job = null;
      job?.reject(err);
    });
    worker.on('exit', (code) => {
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      this.slots.delete(slot);
      const job = slot.job;
      slot.job = null;
      job?.reject(new Error(`a bid-opener worker exited (code ${code})`));
      this.pump(); // a queued bid gets a new worker
    });
    return slot;
  }

  private retire(slot: Slot): void {
    if (slot.job !== null || !this.slots.has(slot)) return;
    this.slots.delete(slot);
    void slot.worker.terminate();
  }
}

/**
 * The worker's entry: registers tsx in the worker, then loads bid-opener.worker.ts. On Node 20 a worker started
 * directly on the .ts file with `execArgv: ['--import', 'tsx']` fails (ERR_UNKNOWN_FILE_EXTENSION: the hooks that
 * --import registers are not applied to the worker's own entry module), so tsx's API registers them from a small
 * evaluated script instead. execArgv is emptied so the parent's own `--import tsx` is not registered twice.
 */
function workerBootstrap(): string {
  const script = new URL('./bid-opener.worker.ts', import.meta.url).href;
  const tsxApi = tsxEsmApiUrl();
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); });`;
}

/**
 * The URL of tsx's ESM API (its `import` export of "./esm/api"). import.meta.resolve is missing when tsx runs this
 * module as CommonJS (as under mocha), so the package's exports map is read instead.
 */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, unknown> };
  const entry = pkg.exports?.['./esm/api'] as { import?: { default?: string } | string } | undefined;
  const target = typeof entry?.import === 'string' ? entry.import : entry?.import?.default;
  if (!target) throw new Error('cannot find the ESM API of tsx (tsx/esm/api) to start the bid-opener worker');
  return pathToFileURL(path.join(path.dirname(pkgFile), target)).href;
}
