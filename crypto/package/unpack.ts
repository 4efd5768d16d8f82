/**
 * Reading a bid package. The package comes from a bidder and is untrusted: a
 * hostile zip may try to write outside the output directory, expand to fill
 * the disk, or smuggle in files the manifest (and so the bidder's signature
 * over the sealed envelope) does not account for.
 *
 * Order of work, so that a bad package writes nothing:
 *   1. central directory: names, types, duplicates, encryption, declared sizes and ratios;
 *   2. local headers agree with the central directory;
 *   3. manifest.json read (size-capped) and validated; entries and manifest match one to one;
 *   4. only then extract, counting the ACTUAL decompressed bytes and hashing as they stream.
 * Any failure in step 4 removes everything written. verifyBid runs the same four
 * steps but throws the extracted bytes away once counted and hashed: it proves a
 * package without writing anything.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Entry, ZipFile } from 'yauzl';
import { PackageError } from './errors';
import { MANIFEST_NAME, validateManifest, type Manifest, type ManifestDocument } from './manifest';
import { entryPathProblem, fileDirectoryConflict, pathKey } from './paths';
import {
  mapZipError,
  openEntryStream,
  openZip,
  quote,
  ratioExceeded,
  ratioMessage,
  resolveLimits,
  type UnpackLimits,
} from './zipread';

/** manifest.json is read into memory: cap it (10 000 documents take ~2 MB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

const GP_ENCRYPTED = 0x0001;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

interface ScannedEntry {
  entry: Entry;
  /** Decoded name, without the trailing '/' of a directory entry. */
  name: string;
}

interface Scan {
  /** File entries, manifest included, in central-directory order. */
  files: ScannedEntry[];
  manifestEntry: ScannedEntry;
  manifestBytes: Buffer;
  manifest: Manifest;
}

/**
 * Extracts a bid package into `outDir` (which must be empty or not exist) and
 * returns its validated manifest. Throws PackageError for anything wrong with
 * the package; on any error, removes what it wrote (and `outDir` if it made it).
 */
export async function unpackBid(zipPath: string, outDir: string, limits?: Partial<UnpackLimits>): Promise<Manifest> {
  const lim = resolveLimits(limits);
  const zip = await openZip(zipPath);
  try {
    const scan = await scanPackage(zip, lim);
    const root = path.resolve(outDir);
    const createdRoot = await prepareOutDir(root);
    const sink = new DirectorySink(root);
    try {
      await extract(zip, scan, lim, sink);
    } catch (e) {
      await removeWritten(root, sink.written, createdRoot);
      throw e;
    }
    return scan.manifest;
  } finally {
    zip.close();
  }
}

/**
 * Proves a bid package without extracting it: the same checks as unpackBid, in
 * the same order — structure, limits, ratios, manifest one to one with the
 * entries — then every document is decompressed and its ACTUAL bytes counted,
 * limited and hashed against the manifest exactly as unpackBid does, but
 * discarded instead of written. Returns the validated manifest; throws the
 * PackageError unpackBid would throw. Writes nothing anywhere.
 */
export async function verifyBid(zipPath: string, limits?: Partial<UnpackLimits>): Promise<Manifest> {
  const lim = resolveLimits(limits);
  const zip = await openZip(zipPath);
  try {
    const scan = await scanPackage(zip, lim);
    await extract(zip, scan, lim, DISCARD_SINK);
    return scan.manifest;
  } finally {
    zip.close();
  }
}

/**
 * The validated manifest of a package, without extracting anything. Runs the
 * same structural checks as unpackBid (steps 1–3 above) but does not hash the
 * documents: only unpackBid and verifyBid prove their content.
 */
export async function readManifest(zipPath: string, limits?: Partial<UnpackLimits>): Promise<Manifest> {
  const lim = resolveLimits(limits);
  const zip = await openZip(zipPath);
  try {
    return (await scanPackage(zip, lim)).manifest;
  } finally {
    zip.close();
  }
}

// ---------------------------------------------------------------------------
// Steps 1–3

async function scanPackage(zip: ZipFile, lim: UnpackLimits): Promise<Scan> {
  if (zip.entryCount > lim.maxFiles) {
    throw new PackageError('TOO_MANY_FILES', `投标包文件过多 / Too many entries in the package: ${zip.entryCount} > ${lim.maxFiles}`);
  }
  const files = await readCentralDirectory(zip, lim);

  const manifestEntry = files.find((f) => f.name === MANIFEST_NAME);
  if (!manifestEntry) {
    throw new PackageError('MANIFEST_MISSING', `投标包缺少 ${MANIFEST_NAME} / The package has no ${MANIFEST_NAME}`);
  }

  for (const f of files) await checkLocalHeader(zip, f);

  const manifestBytes = await readManifestBytes(zip, manifestEntry.entry);
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(manifestBytes));
  } catch {
    throw new PackageError('MANIFEST_INVALID', `${MANIFEST_NAME} 不是有效的 UTF-8 JSON / ${MANIFEST_NAME} is not valid UTF-8 JSON`);
  }
  const manifest = validateManifest(parsed);

  const listed = new Map(manifest.documents.map((d) => [d.path, d]));
  for (const f of files) {
    if (f === manifestEntry) continue;
    const doc = listed.get(f.name);
    if (!doc) {
      throw new PackageError('UNLISTED_FILE', `投标包含清单未列出的文件 / The package holds a file its manifest does not list: ${quote(f.name)}`);
    }
    if (f.entry.uncompressedSize !== doc.size) {
      throw new PackageError(
        'HASH_MISMATCH',
        `文件大小与清单不符 / File size differs from the manifest: ${quote(f.name)} (${f.entry.uncompressedSize} ≠ ${doc.size})`,
      );
    }
  }
  const present = new Set(files.map((f) => f.name));
  for (const d of manifest.documents) {
    if (!present.has(d.path)) {
      throw new PackageError('MISSING_FILE', `清单列出的文件不在投标包中 / A file the manifest lists is missing: ${quote(d.path)}`);
    }
  }
  return { files, manifestEntry, manifestBytes, manifest };
}

/** Reads every central-directory record, checking each as it comes; nothing is decompressed. */
function readCentralDirectory(zip: ZipFile, lim: UnpackLimits): Promise<ScannedEntry[]> {
  return new Promise((resolve, reject) => {
    const files: ScannedEntry[] = [];
    const keys = new Set<string>();
    let count = 0;
    let declaredTotal = 0;

    const done = (err: unknown, value?: ScannedEntry[]) => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
      if (err) reject(err);
      else resolve(value!);
    };
    const onError = (err: Error) => done(mapZipError(err));
    const onEnd = () => {
      const conflict = fileDirectoryConflict(files.map((f) => pathKey(f.name)));
      if (conflict) {
        return done(
          new PackageError('DUPLICATE_ENTRY', `同一路径既是文件又是目录 / A path is both a file and a directory: ${quote(conflict[0])}`),
        );
      }
      done(null, files);
    };
    const onEntry = (entry: Entry) => {
      try {
        count += 1;
        if (count > lim.maxFiles) {
          throw new PackageError('TOO_MANY_FILES', `投标包文件过多 / Too many entries in the package: more than ${lim.maxFiles}`);
        }
        const scanned = checkEntry(entry, keys, lim);
        if (scanned) {
          declaredTotal += entry.uncompressedSize;
          if (declaredTotal > lim.maxTotalBytes) {
            throw new PackageError('TOO_LARGE', `投标包解压后过大 / The package expands to more than ${lim.maxTotalBytes} bytes`);
          }
          files.push(scanned);
        }
      } catch (e) {
        return done(e);
      }
      zip.readEntry();
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** Checks one central-directory record; returns the file entry, or null for a (harmless) directory entry. */
function checkEntry(entry: Entry, keys: Set<string>, lim: UnpackLimits): ScannedEntry | null {
  let raw: string;
  try {
    raw = UTF8.decode(entry.fileNameRaw);
  } catch {
    throw new PackageError('PATH_TRAVERSAL', `条目名称不是有效的 UTF-8 / Entry name is not valid UTF-8: ${entry.fileNameRaw.toString('hex')}`);
  }
  if (entry.generalPurposeBitFlag & GP_ENCRYPTED) {
    throw new PackageError('ENCRYPTED_ENTRY', `投标包内的文件不得加密 / Encrypted entry in the package: ${quote(raw)}`);
  }
  const isDirectory = raw.endsWith('/');
  const name = isDirectory ? raw.slice(0, -1) : raw;
  const problem = entryPathProblem(name);
  if (problem) throw new PackageError('PATH_TRAVERSAL', `不安全的条目路径 / Unsafe entry path ${quote(raw)}: ${problem}`);

  // Unix file type in the high 16 bits of the external attributes. A symlink
  // would let a later entry write through it; refuse it whatever the "made by" host.
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) {
    throw new PackageError('PATH_TRAVERSAL', `投标包内不得有符号链接 / Symbolic link in the package: ${quote(raw)}`);
  }
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
    throw new PackageError('PATH_TRAVERSAL', `投标包内有特殊文件 / Special file (device, FIFO…) in the package: ${quote(raw)}`);
  }
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new PackageError('NOT_A_ZIP', `不支持的压缩方法 / Unsupported compression method ${entry.compressionMethod}: ${quote(raw)}`);
  }

  const key = pathKey(name);
  if (keys.has(key)) {
    throw new PackageError('DUPLICATE_ENTRY', `投标包内有重复条目（不区分大小写）/ Duplicate entry (case-insensitive): ${quote(raw)}`);
  }
  keys.add(key);

  if (isDirectory) {
    if (entry.uncompressedSize !== 0) throw new PackageError('NOT_A_ZIP', `目录条目带有数据 / Directory entry with data: ${quote(raw)}`);
    return null;
  }
  // Declared sizes are only a first filter; extraction counts the real bytes.
  if (entry.uncompressedSize > lim.maxEntryBytes) {
    throw new PackageError('TOO_LARGE', `文件解压后过大 / Entry expands to more than ${lim.maxEntryBytes} bytes: ${quote(raw)}`);
  }
  if (ratioExceeded(entry.uncompressedSize, entry.compressedSize, lim)) {
    throw new PackageError('SUSPICIOUS_RATIO', ratioMessage(raw, entry.uncompressedSize, entry.compressedSize, lim));
  }
  return { entry, name };
}

/**
 * Other unzip tools read the local header's name, not the central directory's:
 * a package whose two disagree would show different files to different readers.
 */
function checkLocalHeader(zip: ZipFile, f: ScannedEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    zip.readLocalFileHeader(f.entry, {}, (err, header) => {
      if (err) return reject(mapZipError(err));
      if (!header.fileName.equals(f.entry.fileNameRaw)) {
        return reject(new PackageError('NOT_A_ZIP', `本地文件头与中央目录的名称不一致 / Local header name differs from the central directory: ${quote(f.name)}`));
      }
      if (header.generalPurposeBitFlag & GP_ENCRYPTED) {
        return reject(new PackageError('ENCRYPTED_ENTRY', `投标包内的文件不得加密 / Encrypted entry in the package: ${quote(f.name)}`));
      }
      if (header.compressionMethod !== f.entry.compressionMethod) {
        return reject(new PackageError('NOT_A_ZIP', `本地文件头与中央目录的压缩方法不一致 / Local header compression differs: ${quote(f.name)}`));
      }
      resolve();
    });
  });
}

async function readManifestBytes(zip: ZipFile, entry: Entry): Promise<Buffer> {
  const tooLarge = () => new PackageError('MANIFEST_INVALID', `${MANIFEST_NAME} 过大 / ${MANIFEST_NAME} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  if (entry.uncompressedSize > MAX_MANIFEST_BYTES) throw tooLarge();
  const stream = await openEntryStream(zip, entry);
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > MAX_MANIFEST_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (e) {
    stream.destroy();
    throw mapZipError(e);
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------
// Step 4

async function prepareOutDir(root: string): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await fs.promises.mkdir(root, { recursive: true });
    return true;
  }
  if (!st.isDirectory()) throw new Error(`输出路径不是目录 / Output path is not a directory: ${root}`);
  // Empty, so everything in it afterwards is ours: no pre-existing symlink to
  // write through, and a failure can clean up without touching anyone's files.
  if ((await fs.promises.readdir(root)).length > 0) {
    throw new Error(`输出目录不为空 / Output directory is not empty: ${root}`);
  }
  return false;
}

/** Where step 4 puts what it has checked. */
interface ExtractSink {
  /** The manifest's bytes, read and validated in step 3. */
  manifest(name: string, bytes: Buffer): Promise<void>;
  /** Called before a document's bytes are read (e.g. to make its directory). */
  prepare(name: string): Promise<void>;
  /** Where a document's bytes go once counted and hashed; called just before they flow. */
  open(name: string): Writable;
}

/** Writes each entry under root; remembers the top-level names it wrote, for removeWritten. */
class DirectorySink implements ExtractSink {
  readonly written = new Set<string>();

  constructor(private readonly root: string) {}

  async manifest(name: string, bytes: Buffer): Promise<void> {
    await this.prepare(name);
    await fs.promises.writeFile(targetPath(this.root, name), bytes, { flag: 'wx' });
  }

  async prepare(name: string): Promise<void> {
    const target = targetPath(this.root, name);
    this.written.add(name.split('/')[0]);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
  }

  open(name: string): Writable {
    return fs.createWriteStream(targetPath(this.root, name), { flags: 'wx' });
  }
}

/** Keeps nothing: verifyBid only needs the bytes counted and hashed. */
const DISCARD_SINK: ExtractSink = {
  manifest: async () => {},
  prepare: async () => {},
  open: () =>
    new Writable({
      write: (_chunk, _encoding, cb) => cb(),
      writev: (_chunks, cb) => cb(),
    }),
};

async function extract(zip: ZipFile, scan: Scan, lim: UnpackLimits, sink: ExtractSink): Promise<void> {
  const listed = new Map(scan.manifest.documents.map((d) => [d.path, d]));
  const totals = { bytes: 0 };
  for (const f of scan.files) {
    if (f === scan.manifestEntry) {
      await sink.manifest(f.name, scan.manifestBytes);
      totals.bytes += scan.manifestBytes.length;
      continue;
    }
    await sink.prepare(f.name);
    const doc = listed.get(f.name)!;
    const guard = new EntryGuard(f.name, doc, f.entry.compressedSize, lim, totals);
    const source = await openEntryStream(zip, f.entry);
    try {
      await pipeline(source, guard, sink.open(f.name));
    } catch (e) {
      source.destroy(); // already done by pipeline, unless the sink could not be opened
      throw mapZipError(e, f.name);
    }
    if (guard.bytes !== doc.size || guard.digest !== doc.sha256) {
      throw new PackageError('HASH_MISMATCH', `文件内容与清单的 SHA-256 不符（被篡改？）/ File content does not match its SHA-256 in the manifest (tampered?): ${quote(f.name)}`);
    }
  }
}

/** Joins an already-checked entry path under root, and checks once more that it stays there. */
function targetPath(root: string, name: string): string {
  const target = path.resolve(root, ...name.split('/'));
  const rel = path.relative(root, target);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new PackageError('PATH_TRAVERSAL', `条目路径越出输出目录 / Entry path escapes the output directory: ${quote(name)}`);
  }
  return target;
}

/** Counts, limits and hashes the real decompressed bytes of one entry as they pass. */
class EntryGuard extends Transform {
  bytes = 0;
  digest = '';
  private readonly hash = createHash('sha256');

  constructor(
    private readonly name: string,
    private readonly doc: ManifestDocument,
    private readonly compressedSize: number,
    private readonly lim: UnpackLimits,
    private readonly totals: { bytes: number },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.totals.bytes += chunk.length;
    if (this.bytes > this.doc.size || this.bytes > this.lim.maxEntryBytes) {
      return cb(new PackageError('TOO_LARGE', `文件解压后超出声明的大小 / Entry expands beyond its declared size: ${quote(this.name)}`));
    }
    if (this.totals.bytes > this.lim.maxTotalBytes) {
      return cb(new PackageError('TOO_LARGE', `投标包解压后过大 / The package expands to more than ${this.lim.maxTotalBytes} bytes`));
    }
    if (ratioExceeded(this.bytes, this.compressedSize, this.lim)) {
      return cb(new PackageError('SUSPICIOUS_RATIO', ratioMessage(this.name, this.bytes, this.compressedSize, this.lim)));
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    cb();
  }
}

async function removeWritten(root: string, written: Set<string>, createdRoot: boolean): Promise<void> {
  for (const top of written) {
    await fs.promises.rm(path.join(root, top), { recursive: true, force: true }).catch(() => {});
  }
  if (createdRoot) await fs.promises.rmdir(root).catch(() => {});
}
