/**
 * Zip-reading plumbing shared by unpackBid, readManifest and packBid's
 * self-check: the limits, opening with yauzl, and turning yauzl's and zlib's
 * plain errors into PackageError codes.
 */
import fs from 'node:fs';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { PackageError } from './errors';

export interface UnpackLimits {
  /** Sum of all entries' decompressed bytes. */
  maxTotalBytes: number;
  /** Number of entries (manifest and directory entries included). */
  maxFiles: number;
  /** Decompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Decompressed / compressed bytes of one entry, checked once it passes RATIO_CHECK_MIN_BYTES. */
  maxCompressionRatio: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const DEFAULT_UNPACK_LIMITS: Readonly<UnpackLimits> = Object.freeze({
  maxTotalBytes: 4 * GiB,
  maxFiles: 10_000,
  maxEntryBytes: 2 * GiB,
  maxCompressionRatio: 200,
});

/**
 * Below this many decompressed bytes an entry's ratio is not judged: small
 * repetitive files (a short text, an empty spreadsheet) legitimately compress
 * far better than 200:1, and 1 MiB cannot hurt.
 */
export const RATIO_CHECK_MIN_BYTES = 1 * MiB;

/**
 * Names of file entries whose declared sizes exceed the ratio limit. packBid
 * uses it to store such entries uncompressed: a package it makes must never be
 * one unpackBid refuses (an unopenable bid is lost to its bidder, EB 31).
 */
export async function highRatioEntries(zipPath: string, limits?: Partial<UnpackLimits>): Promise<Set<string>> {
  const lim = resolveLimits(limits);
  const zip = await openZip(zipPath);
  try {
    const names = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: Entry) => {
        if (ratioExceeded(entry.uncompressedSize, entry.compressedSize, lim)) names.add(entry.fileNameRaw.toString('utf8'));
        zip.readEntry();
      });
      zip.once('end', resolve);
      zip.once('error', (e) => reject(mapZipError(e)));
      zip.readEntry();
    });
    return names;
  } finally {
    zip.close();
  }
}

export function resolveLimits(partial: Partial<UnpackLimits> | undefined): UnpackLimits {
  const lim = { ...DEFAULT_UNPACK_LIMITS, ...partial };
  for (const [k, v] of Object.entries(lim)) {
    if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`unpack limit ${k} must be a positive number`);
  }
  return lim;
}

/** Entry data is read in chunks of this size (yauzl's own file reader reads 8–16 KiB at a time). */
const READ_CHUNK = 1 * MiB;

/**
 * Reads the zip for yauzl. Small reads (records, headers) go through one file handle opened here; each range of entry
 * data is its own fs.ReadStream on the path, with 1 MiB reads, which closes its own descriptor when it ends or is
 * destroyed. yauzl ref-counts the reader (the zip itself, every stream, every header read) and calls close() when the
 * count reaches zero: the handle is closed then, once; a read after that fails instead of touching a closed (or
 * reused) descriptor.
 */
class ZipFileReader extends yauzl.RandomAccessReader {
  private closed = false;

  constructor(
    private readonly zipPath: string,
    private readonly fh: fs.promises.FileHandle,
  ) {
    super();
    // close() reports its own failure; an 'error' event nobody listens to would crash the process.
    this.on('error', () => {});
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // end is exclusive for yauzl, inclusive for fs.createReadStream.
    return fs.createReadStream(this.zipPath, { start, end: end - 1, highWaterMark: READ_CHUNK });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    if (this.closed) return void setImmediate(callback, new Error('the zip file is closed'));
    this.fh.read(buffer, offset, length, position).then(
      ({ bytesRead }) => callback(null, bytesRead),
      (err: Error) => callback(err),
    );
  }

  override close(callback: (err: Error | null) => void): void {
    if (this.closed) return void setImmediate(callback, null);
    this.closed = true;
    // FileHandle.close waits for reads still in flight on the handle.
    this.fh.close().then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }
}

/**
 * Opens a zip for reading with yauzl. zip.close() releases everything: the file handle is closed at once, or as soon
 * as the last entry stream still open ends or is destroyed.
 */
export async function openZip(zipPath: string): Promise<ZipFile> {
  const fh = await fs.promises.open(zipPath, 'r');
  let size: number;
  try {
    size = (await fh.stat()).size;
  } catch (e) {
    await fh.close();
    throw e;
  }
  const reader = new ZipFileReader(zipPath, fh);
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      reader,
      size,
      // decodeStrings: false — names come raw and are judged here (yauzl would
      // silently turn '\' into '/' and prefer a Unicode-path extra field).
      { lazyEntries: true, validateEntrySizes: true, decodeStrings: false, autoClose: false },
      (err, zip) => {
        if (err) {
          // yauzl keeps its reference to a reader it could not open: release the file here.
          reader.close(() => reject(mapZipError(err)));
          return;
        }
        // Errors after our listeners are gone (closing the file) must not crash the process.
        zip.on('error', () => {});
        resolve(zip);
      },
    );
  });
}

export function ratioExceeded(bytes: number, compressed: number, lim: UnpackLimits): boolean {
  return bytes > RATIO_CHECK_MIN_BYTES && bytes > lim.maxCompressionRatio * Math.max(compressed, 1);
}

export function ratioMessage(name: string, bytes: number, compressed: number, lim: UnpackLimits): string {
  const ratio = Math.round(bytes / Math.max(compressed, 1));
  return `压缩比异常（疑似压缩炸弹）/ Suspicious compression ratio (zip bomb?): ${quote(name)} ${ratio}:1 > ${lim.maxCompressionRatio}:1`;
}

/** Smallest output chunk of the inflater (zlib's default): small entries do not each get a 1 MiB buffer. */
const MIN_INFLATE_CHUNK = 16 * 1024;

/**
 * The decompressed bytes of one entry. yauzl supplies the entry's raw bytes (exactly compressedSize of them, read in
 * READ_CHUNK pieces); a deflated entry is inflated here rather than by yauzl, whose inflater hands out 16 KiB chunks —
 * thousands of callbacks and allocations per 50 MB, as much time as inflating and hashing the bytes. As with yauzl's
 * own validateEntrySizes, an entry that inflates to more or fewer bytes than it declares is an error.
 */
export function openEntryStream(zip: ZipFile, entry: Entry): Promise<Readable> {
  // Both are refused from the central directory already; here so that raw bytes are never taken for content.
  if (entry.isEncrypted()) return Promise.reject(mapZipError(new Error('entry is encrypted')));
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return Promise.reject(mapZipError(new Error(`unsupported compression method: ${entry.compressionMethod}`)));
  }
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, { decodeFileData: false }, (err, raw) => {
      if (err) return reject(mapZipError(err));
      // Stored: yauzl has checked that the two sizes agree, and counts the bytes it reads.
      if (entry.compressionMethod === 0) return resolve(raw);
      const inflate = zlib.createInflateRaw({ chunkSize: Math.min(READ_CHUNK, Math.max(MIN_INFLATE_CHUNK, entry.uncompressedSize)) });
      // An error anywhere destroys all three with it, so the consumer sees it on the last; the consumer destroying
      // the last destroys the others (and so the file stream).
      resolve(pipeline(raw, inflate, new SizeCheck(entry.uncompressedSize), () => {}));
    });
  });
}

/** Fails once more bytes than expected have passed, or at the end if fewer have (yauzl's messages, for mapZipError). */
class SizeCheck extends Transform {
  private bytes = 0;

  constructor(private readonly expected: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected) return cb(new Error(`too many bytes in the stream. expected ${this.expected}. got at least ${this.bytes}`));
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.bytes < this.expected) return cb(new Error(`not enough bytes in the stream. expected ${this.expected}. got only ${this.bytes}`));
    cb();
  }
}

export function quote(name: string): string {
  // JSON escapes control characters, so a hostile name cannot garble a terminal or a log line.
  return JSON.stringify(name);
}

function isFsError(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** yauzl and zlib report a broken zip with plain Errors; give them a PackageError code. */
export function mapZipError(e: unknown, entryName?: string): unknown {
  if (e instanceof PackageError || isFsError(e) || !(e instanceof Error)) return e;
  // Programming errors are not the package's fault.
  if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) return e;
  const msg = entryName === undefined ? e.message : `${quote(entryName)}: ${e.message}`;
  if (/encrypt/i.test(e.message)) return new PackageError('ENCRYPTED_ENTRY', `投标包内有加密条目 / Encrypted entry in the package: ${msg}`);
  if (/too many bytes/.test(e.message)) {
    return new PackageError('TOO_LARGE', `文件解压后超出声明的大小 / Entry expands beyond its declared size: ${msg}`);
  }
  if (/end of central directory record signature not found/.test(e.message)) {
    return new PackageError('NOT_A_ZIP', `不是 ZIP 文件 / Not a ZIP file: ${msg}`);
  }
  return new PackageError('NOT_A_ZIP', `ZIP 文件已损坏 / Corrupt ZIP file: ${msg}`);
}
