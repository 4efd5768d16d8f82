/**
 * Blobs as files under one directory. A put streams into a temp file in the target's own directory while hashing,
 * fsyncs it, then renames it into place: rename within a directory is atomic, so a reader sees the whole blob or none,
 * and an interrupted or over-size upload leaves nothing behind.
 *
 * A file made elsewhere on the same file system can become a blob without being copied: makeTempDir gives a private
 * directory under the root that no key can reach, and adoptFile moves a finished file from there into place, durably.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PayloadTooLarge } from '../errors';
import { ByteMeter, OverMaxBytes } from './byte-meter';
import { SyncedFileWriter } from './synced-file-writer';
import { BlobKeyInvalid, BlobNotFound } from './blobs.errors';
import type { BlobStore, PutResult } from './index';

const KEY_PATTERN = /^[a-z0-9][a-z0-9/_.-]{0,200}$/;

/**
 * Scratch directories live here, under the root: on the store's own file system (so adoptFile is a rename), and out of
 * every key's reach, since no key segment may start with '.'.
 */
export const SCRATCH_DIR = '.scratch';

/**
 * Refuses anything that could leave the store's directory or collide with a temp file: only the pattern's characters,
 * no empty segment (`a//b`, trailing `/`), no `.` or `..` segment, no segment starting with `.` (temp files do).
 */
export function validateBlobKey(key: string): void {
  const ok =
    typeof key === 'string' &&
    KEY_PATTERN.test(key) &&
    key.split('/').every((seg) => seg.length > 0 && !seg.startsWith('.'));
  if (!ok) throw BlobKeyInvalid({ key: String(key).slice(0, 256) });
}

export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private pathOf(key: string): string {
    validateBlobKey(key);
    const full = path.resolve(this.root, key);
    // Belt and braces: the pattern already excludes every way out of the root.
    if (!full.startsWith(this.root + path.sep)) throw BlobKeyInvalid({ key });
    return full;
  }

  async put(key: string, body: NodeJS.ReadableStream | Buffer, opts: { maxBytes?: number } = {}): Promise<PutResult> {
    const target = this.pathOf(key);
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    if (Buffer.isBuffer(body) && body.length > maxBytes) throw PayloadTooLarge(undefined, { maxBytes });
    const dir = path.dirname(target);
    await fsp.mkdir(dir, { recursive: true });
    const temp = path.join(dir, `.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
    const meter = new ByteMeter(maxBytes);
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    try {
      // Opened here, not by createWriteStream, so the temp file exists before any byte flows and the cleanup below
      // cannot run before it is created. The writer syncs as it goes, fsyncs at the end and closes the handle.
      const fh = await fsp.open(temp, 'wx');
      await pipeline(source, meter, new SyncedFileWriter(fh));
      await fsp.rename(temp, target);
    } catch (err) {
      await fsp.rm(temp, { force: true });
      if (err instanceof OverMaxBytes) throw PayloadTooLarge(undefined, { maxBytes });
      throw err;
    }
    await syncDir(dir);
    return { key, size: meter.bytes, sha256: meter.sha256() };
  }

  /**
   * A new private (0700) directory under SCRATCH_DIR, for files that adoptFile will turn into blobs. The caller
   * removes it when done; removeStaleTempDirs clears what a crash left behind.
   */
  async makeTempDir(prefix: string): Promise<string> {
    if (!/^[a-z0-9-]{1,32}$/.test(prefix)) throw new RangeError(`invalid temp directory prefix ${JSON.stringify(prefix)}`);
    const base = path.join(this.root, SCRATCH_DIR);
    await fsp.mkdir(base, { recursive: true, mode: 0o700 });
    return fsp.mkdtemp(path.join(base, prefix));
  }

  /** Removes the scratch directories with this prefix last modified more than olderThanMs ago (best effort). */
  async removeStaleTempDirs(prefix: string, olderThanMs: number): Promise<void> {
    const base = path.join(this.root, SCRATCH_DIR);
    let names: string[];
    try {
      names = await fsp.readdir(base);
    } catch {
      return;
    }
    const cutoff = Date.now() - olderThanMs;
    for (const name of names.filter((n) => n.startsWith(prefix))) {
      const dir = path.join(base, name);
      const st = await fsp.lstat(dir).catch(() => null);
      if (st?.isDirectory() && st.mtimeMs < cutoff) await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * Makes the regular file at `filePath` the blob `key` by moving it, not copying it: the file is fsynced, renamed
   * into place (directories created as needed) and the directory fsynced — as durable as put, and as atomic: a reader
   * sees the whole blob or the one it replaces. The file should be on the store's file system (one in a makeTempDir
   * directory is); if it is not, it is copied in with put and then removed. Replaces an existing blob, as put does.
   */
  async adoptFile(key: string, filePath: string): Promise<{ key: string; size: number }> {
    const target = this.pathOf(key);
    const fh = await fsp.open(filePath, fs.constants.O_RDWR | (fs.constants.O_NOFOLLOW ?? 0));
    let size: number;
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`not a regular file: ${filePath}`);
      size = st.size;
      await fh.sync();
    } finally {
      await fh.close();
    }
    const dir = path.dirname(target);
    await fsp.mkdir(dir, { recursive: true });
    try {
      await fsp.rename(filePath, target);
    } catch (err) {
      if ((err as { code?: string } | null)?.code !== 'EXDEV') throw err;
      const put = await this.put(key, fs.createReadStream(filePath, { highWaterMark: 1 << 20 }));
      await fsp.rm(filePath, { force: true });
      return { key, size: put.size };
    }
    await syncDir(dir);
    return { key, size };
  }

  async get(key: string): Promise<NodeJS.ReadableStream> {
    const file = this.pathOf(key);
    try {
      // Opening first turns a missing blob into BlobNotFound here rather than an error event on the stream.
      const fh = await fsp.open(file, 'r');
      return fh.createReadStream();
    } catch (err) {
      if (isNotFound(err)) throw BlobNotFound({ key });
      throw err;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const st = await fsp.stat(this.pathOf(key));
      return st.isFile() ? { size: st.size } : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.pathOf(key), { force: true });
  }

  async ping(): Promise<'ok' | string> {
    try {
      await fsp.mkdir(this.root, { recursive: true });
      await fsp.access(this.root, fs.constants.W_OK);
      return 'ok';
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Makes the rename durable. Not every platform can fsync a directory; there it is skipped. */
async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // best effort
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
