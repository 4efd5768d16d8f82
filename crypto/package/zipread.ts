/**
 * Zip-reading plumbing shared by unpackBid, readManifest and packBid's
 * self-check: the limits, opening with yauzl, and turning yauzl's and zlib's
 * plain errors into PackageError codes.
 */
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { Readable } from 'node:stream';
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

export function openZip(zipPath: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      zipPath,
      // decodeStrings: false — names come raw and are judged here (yauzl would
      // silently turn '\' into '/' and prefer a Unicode-path extra field).
      { lazyEntries: true, validateEntrySizes: true, decodeStrings: false, autoClose: false },
      (err, zip) => {
        if (err) return reject(mapZipError(err));
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

export function openEntryStream(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(mapZipError(err)) : resolve(stream)));
  });
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
