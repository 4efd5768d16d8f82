/**
 * The text of a decrypted bid package, for the similarity rule. The package (a ZIP in the blob store, verified
 * against its manifest when it was opened) is copied to a temporary file — ZIP needs random access — and its text-like
 * entries are streamed out one at a time and decoded as UTF-8 as they inflate: a document is never held whole unless
 * the caller asks for it (verification of a candidate pair). Other files are compared by their manifest SHA-256 only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Entry, ZipFile } from 'yauzl';
import { MANIFEST_NAME } from '../../../crypto/package/manifest';
import { openEntryStream, openZip } from '../../../crypto/package/zipread';
import type { BlobStore } from '../../shared/blobs';

/** File types read as text (UTF-8); a document of any other type is compared by its hash. */
export const TEXT_EXTENSIONS = ['.txt', '.md', '.csv', '.json', '.xml', '.html', '.htm'] as const;

export function isTextLike(p: string): boolean {
  const lower = p.toLowerCase();
  return TEXT_EXTENSIONS.some((e) => lower.endsWith(e));
}

export class BidPackageText {
  private constructor(
    private readonly dir: string,
    private readonly zipPath: string,
  ) {}

  /** Copies the package out of the blob store; close() removes the copy. */
  static async open(blobs: BlobStore, key: string): Promise<BidPackageText> {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gz-similar-'));
    const zipPath = path.join(dir, 'bid.zip');
    try {
      await pipeline(await blobs.get(key), fs.createWriteStream(zipPath, { flags: 'wx', mode: 0o600 }));
    } catch (e) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw e;
    }
    return new BidPackageText(dir, zipPath);
  }

  /**
   * Streams each text-like entry no larger than maxBytes to `read`, in the package's order, as decoded chunks.
   * `read` must consume the chunks before returning.
   */
  async eachText(maxBytes: number, read: (entryPath: string, chunks: AsyncIterable<string>) => Promise<void>): Promise<void> {
    await this.withZip(async (zip) => {
      for await (const entry of entries(zip)) {
        const name = entry.fileNameRaw.toString('utf8');
        if (name.endsWith('/') || name === MANIFEST_NAME || !isTextLike(name) || entry.uncompressedSize > maxBytes) continue;
        await read(name, decoded(await openEntryStream(zip, entry)));
      }
    });
  }

  /** One entry's whole text, or null when there is no such entry or it is larger than maxBytes. */
  async text(entryPath: string, maxBytes: number): Promise<string | null> {
    let out: string | null = null;
    await this.withZip(async (zip) => {
      for await (const entry of entries(zip)) {
        if (entry.fileNameRaw.toString('utf8') !== entryPath || entry.uncompressedSize > maxBytes) continue;
        const parts: string[] = [];
        for await (const s of decoded(await openEntryStream(zip, entry))) parts.push(s);
        out = parts.join('');
      }
    });
    return out;
  }

  async close(): Promise<void> {
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }

  private async withZip(use: (zip: ZipFile) => Promise<void>): Promise<void> {
    const zip = await openZip(this.zipPath);
    try {
      await use(zip);
    } finally {
      zip.close();
    }
  }
}

/** The zip's entries one at a time (yauzl's lazyEntries: the next is read only when asked for). */
async function* entries(zip: ZipFile): AsyncGenerator<Entry> {
  for (;;) {
    const entry = await new Promise<Entry | null>((resolve, reject) => {
      const onEntry = (e: Entry) => done(e);
      const onEnd = () => done(null);
      const onError = (err: Error) => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        reject(err);
      };
      const done = (e: Entry | null) => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
        resolve(e);
      };
      zip.once('entry', onEntry);
      zip.once('end', onEnd);
      zip.once('error', onError);
      zip.readEntry();
    });
    if (!entry) return;
    yield entry;
  }
}

/** UTF-8 decoding across chunk boundaries; invalid bytes become U+FFFD (a GBK file reads as noise, not an error). */
async function* decoded(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of stream) yield decoder.decode(chunk as Buffer, { stream: true });
  const tail = decoder.decode();
  if (tail) yield tail;
}
