/**
 * Making a bid package: the documents, streamed into a zip and hashed on the
 * way, then manifest.json last (the hashes are only known once every document
 * has been read). Written to a temporary file and renamed into place, so
 * `outPath` is either the old file or a complete, self-checked package.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import yazl from 'yazl';
import { PackageError } from './errors';
import { BIDTOOL_VERSION, loadOrCreateToolSerial, machineFingerprint } from './machine';
import { MANIFEST_NAME, validateManifest, type Manifest, type ManifestDocument } from './manifest';
import { entryPathProblem, fileDirectoryConflict, pathKey } from './paths';
import { readManifest } from './unpack';
import { DEFAULT_UNPACK_LIMITS, highRatioEntries } from './zipread';

/** What the caller states; packBid adds documents, formatVersion, createdAt, machineFingerprint and (if absent) tool. */
export type PackManifestInput = Omit<Manifest, 'documents' | 'formatVersion' | 'createdAt' | 'machineFingerprint' | 'tool'> & {
  tool?: Manifest['tool'];
};

export interface PackFile {
  /** File on disk. */
  sourcePath: string;
  /** Path inside the zip, forward slashes. */
  path: string;
}

export interface PackOptions {
  outPath: string;
  manifest: PackManifestInput;
  files: PackFile[];
  /** createdAt and the entries' modification time; default: the current time. */
  now?: Date;
  /**
   * 机器码; default this machine's (machineFingerprint()). Only for packing bids of several bidders on one machine, as
   * the platform's own demo and tests do: the bidder's tool never sets it.
   */
  machineFingerprint?: string;
}

const ENTRY_MODE = 0o100644;

/** How much of a document is deflated to judge whether deflating it is worth it. */
const SAMPLE_BYTES = 1024 * 1024;
/** Smaller documents are deflated without asking: inflating them costs next to nothing. */
const SAMPLE_MIN_BYTES = 64 * 1024;
/** Deflate must save at least this share of the sample, or the document is stored as it is. */
const MIN_DEFLATE_SAVING = 0.03;

const deflateRaw = promisify(zlib.deflateRaw);

/**
 * Packs the documents and returns the manifest written. Without `manifest.tool`,
 * the tool is this bidtool with the installation serial from ~/.bidtool/serial.
 * Refuses (PackageError) what unpackBid would refuse with its default limits.
 */
export async function packBid(opts: PackOptions): Promise<Manifest> {
  const now = opts.now ?? new Date();
  const { tool, ...stated } = opts.manifest;
  // Validate what the caller stated before reading a byte of the documents.
  const draft = validateManifest({
    formatVersion: 1,
    ...stated,
    documents: [],
    tool: tool ?? { name: 'bidtool', version: BIDTOOL_VERSION, serial: loadOrCreateToolSerial() },
    machineFingerprint: opts.machineFingerprint ?? machineFingerprint(),
    createdAt: now.toISOString(),
  });
  await checkFiles(opts.files);

  const outPath = path.resolve(opts.outPath);
  await fs.promises.mkdir(path.dirname(outPath), { recursive: true });
  const tmpPath = path.join(path.dirname(outPath), `.${path.basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const stored = await incompressibleDocuments(opts.files);
    let manifest = await writeZip(tmpPath, draft, opts.files, now, stored);
    // A document that compresses better than the unpack ratio limit (a blank
    // scanned page saved as BMP…) would make the package look like a zip bomb:
    // pack again with such documents stored uncompressed.
    const bombs = await highRatioEntries(tmpPath);
    if (bombs.size > 0) {
      await fs.promises.rm(tmpPath, { force: true });
      manifest = await writeZip(tmpPath, draft, opts.files, now, new Set([...stored, ...bombs]));
    }
    // Self-check with the reader's rules (names, limits, ratios, listing) before the package replaces anything.
    await readManifest(tmpPath);
    await fs.promises.rename(tmpPath, outPath);
    return manifest;
  } catch (e) {
    await fs.promises.rm(tmpPath, { force: true });
    throw e;
  }
}

/** Writes the zip to `file` (fsynced) and returns the manifest in it. */
async function writeZip(file: string, draft: Manifest, files: PackFile[], now: Date, stored: Set<string>): Promise<Manifest> {
  const zip = new yazl.ZipFile();
  let fail!: (e: unknown) => void;
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  zip.on('error', fail);

  const documents: (ManifestDocument | undefined)[] = files.map(() => undefined);
  const totals = { bytes: 0 };
  files.forEach((f, i) => {
    const options = { mtime: now, mode: ENTRY_MODE, compress: !stored.has(f.path) };
    // Lazy: yazl asks for each stream in turn, so only one file is open at a time.
    zip.addReadStreamLazy(f.path, options, (cb) => {
      const source = fs.createReadStream(f.sourcePath);
      const hasher = new HashingCounter(f.path, totals, (size, sha256) => {
        documents[i] = { path: f.path, size, sha256 };
      });
      // yazl listens for no errors on the streams it is given.
      source.on('error', fail);
      hasher.on('error', fail);
      source.pipe(hasher);
      cb(null, hasher);
    });
  });
  let manifest: Manifest | undefined;
  zip.addReadStreamLazy(MANIFEST_NAME, { mtime: now, mode: ENTRY_MODE }, (cb) => {
    try {
      // yazl has finished every document by now (it pumps entries in order).
      if (documents.some((d) => d === undefined)) throw new Error('internal: a document was not hashed before the manifest');
      manifest = validateManifest({ ...draft, documents });
      cb(null, Readable.from([Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')]));
    } catch (e) {
      fail(e);
    }
  });
  zip.end();

  const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o644 });
  try {
    await Promise.race([pipeline(zip.outputStream, out), failure]);
  } catch (e) {
    out.destroy();
    throw e;
  }
  if (!manifest) throw new Error('internal: the manifest was not written');
  const fh = await fs.promises.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return manifest;
}

/**
 * The documents not worth deflating: those whose first SAMPLE_BYTES deflate by less than MIN_DEFLATE_SAVING (PDFs of
 * scans, JPEGs, archives, already-encrypted data). They are stored as they are: deflate would only wrap them in
 * stored blocks, which every opening of the bid then has to inflate for nothing. Readers handle both methods, so
 * packages from versions that deflated everything open as before.
 */
async function incompressibleDocuments(files: PackFile[]): Promise<Set<string>> {
  const stored = new Set<string>();
  const buf = Buffer.allocUnsafe(SAMPLE_BYTES);
  for (const f of files) {
    const fh = await fs.promises.open(f.sourcePath, 'r');
    let n: number;
    try {
      n = (await fh.read(buf, 0, SAMPLE_BYTES, 0)).bytesRead;
    } finally {
      await fh.close();
    }
    if (n < SAMPLE_MIN_BYTES) continue;
    const deflated = await deflateRaw(buf.subarray(0, n));
    if (deflated.length > n * (1 - MIN_DEFLATE_SAVING)) stored.add(f.path);
  }
  return stored;
}

async function checkFiles(files: PackFile[]): Promise<void> {
  const lim = DEFAULT_UNPACK_LIMITS;
  if (files.length + 1 > lim.maxFiles) {
    throw new PackageError('TOO_MANY_FILES', `文件过多 / Too many documents: ${files.length} (at most ${lim.maxFiles - 1})`);
  }
  const keys = new Set<string>([pathKey(MANIFEST_NAME)]);
  let total = 0;
  for (const f of files) {
    const problem = entryPathProblem(f.path);
    if (problem) throw new PackageError('PATH_TRAVERSAL', `文件在投标包内的路径无效 / Invalid path inside the package ${JSON.stringify(f.path)}: ${problem}`);
    const key = pathKey(f.path);
    if (keys.has(key)) {
      throw new PackageError(
        'DUPLICATE_ENTRY',
        key === pathKey(MANIFEST_NAME)
          ? `${MANIFEST_NAME} 为保留名称 / ${MANIFEST_NAME} is a reserved name: ${JSON.stringify(f.path)}`
          : `投标包内路径重复（不区分大小写）/ Duplicate path in the package (case-insensitive): ${JSON.stringify(f.path)}`,
      );
    }
    keys.add(key);
    const st = await fs.promises.stat(f.sourcePath);
    if (!st.isFile()) throw new Error(`不是普通文件 / Not a regular file: ${f.sourcePath}`);
    if (st.size > lim.maxEntryBytes) {
      throw new PackageError('TOO_LARGE', `文件过大 / File larger than ${lim.maxEntryBytes} bytes: ${f.sourcePath}`);
    }
    total += st.size;
    if (total > lim.maxTotalBytes) throw new PackageError('TOO_LARGE', `文件总大小超过 ${lim.maxTotalBytes} 字节 / Documents total more than ${lim.maxTotalBytes} bytes`);
  }
  keys.delete(pathKey(MANIFEST_NAME));
  const conflict = fileDirectoryConflict(keys);
  if (conflict) {
    throw new PackageError('DUPLICATE_ENTRY', `同一路径既是文件又是目录 / A path is both a file and a directory: ${JSON.stringify(conflict[0])}`);
  }
}

/** Passes bytes through, counting and hashing them; reports when the stream ends. */
class HashingCounter extends Transform {
  private bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly name: string,
    private readonly totals: { bytes: number },
    private readonly onDone: (size: number, sha256: string) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.totals.bytes += chunk.length;
    // The file may have grown since it was checked.
    if (this.bytes > DEFAULT_UNPACK_LIMITS.maxEntryBytes || this.totals.bytes > DEFAULT_UNPACK_LIMITS.maxTotalBytes) {
      return cb(new PackageError('TOO_LARGE', `文件过大 / File too large: ${JSON.stringify(this.name)}`));
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.onDone(this.bytes, this.hash.digest('hex'));
    cb();
  }
}
