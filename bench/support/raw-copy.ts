/**
 * The physical baseline of the upload benchmarks: a file copied through SHA-256 into a new file exactly as
 * LocalBlobStore.put writes a blob (temp file opened 'wx', SyncedFileWriter — writeback as it goes, fsync at the end —
 * then rename), with no HTTP, no parsing and no database: what the disk and the hash allow.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SyncedFileWriter } from '../../src/shared/blobs/synced-file-writer';

/** fsyncs a file or a directory (after a rename, the directory entry must be on disk too). */
export async function fsyncPath(file: string): Promise<void> {
  const fh = await fsp.open(file, fs.statSync(file).isDirectory() ? 'r' : 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Copies `source` to `target` the way the blob store writes; answers the SHA-256 of the bytes copied. */
export async function copyAsBlobStoreWrites(source: string, target: string): Promise<string> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const hash = crypto.createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const fh = await fsp.open(temp, 'wx');
  await pipeline(fs.createReadStream(source), hasher, new SyncedFileWriter(fh));
  await fsp.rename(temp, target);
  return hash.digest('hex');
}
