import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { runBidtool } from '../../crypto/cli/bidtool';
import type { CliContext } from '../../crypto/cli/context';
import {
  fingerprintOf,
  isValidCreditCode,
  isValidIdNumber,
  loadOrCreateToolSerial,
  machineFingerprint,
  MANIFEST_NAME,
  packBid,
  PackageError,
  readManifest,
  unpackBid,
  validateManifest,
  verifyBid,
  type Manifest,
  type PackageErrorCode,
  type PackManifestInput,
} from '../../crypto/package';

// GB 11643's own example number, and a credit code with a correct GB 32100 check character.
const ID_NUMBER = '11010519491231002X';
const CREDIT_CODE = '91110000600037341L';
const TOOL = { name: 'bidtool' as const, version: '0.1.0', serial: 'BT-TEST-0001' };

function stated(overrides: Partial<PackManifestInput> = {}): PackManifestInput {
  return {
    tenderId: 'tender-001',
    sectionId: 'section-01',
    tenderCode: 'SXGGZY-2025-0001',
    bidder: { name: '陕西某某建设集团有限公司', creditCode: CREDIT_CODE },
    form: {
      totalPriceFen: 1_234_567_890,
      durationDays: 180,
      quality: '合格',
      projectManager: { name: '张三', idNumber: ID_NUMBER },
      validityDays: 90,
    },
    author: '李四',
    tool: TOOL,
    ...overrides,
  };
}

/** A complete manifest for hand-made zips. */
function manifestFor(documents: Manifest['documents'], overrides: Partial<Manifest> = {}): Manifest {
  return {
    formatVersion: 1,
    ...(stated() as Omit<Manifest, 'formatVersion' | 'documents' | 'tool' | 'machineFingerprint' | 'createdAt'>),
    documents,
    tool: TOOL,
    machineFingerprint: 'a'.repeat(64),
    createdAt: '2025-03-01T00:00:00.000Z',
    ...overrides,
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function doc(p: string, data: Buffer): Manifest['documents'][number] {
  return { path: p, size: data.length, sha256: sha256(data) };
}

function json(m: unknown): Buffer {
  return Buffer.from(JSON.stringify(m, null, 2));
}

/** Builds a zip with yazl (which itself refuses '..' and absolute names). */
async function yazlZip(file: string, entries: Array<{ name: string; data: Buffer | Readable; compressionLevel?: number }>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const options = { compressionLevel: e.compressionLevel ?? 6 };
    if (Buffer.isBuffer(e.data)) zip.addBuffer(e.data, e.name, options);
    else zip.addReadStream(e.data, e.name, options);
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(fs.createWriteStream(file)).on('close', resolve).on('error', reject);
  });
}

interface RawEntry {
  name: string | Buffer;
  data: Buffer;
  method?: 0 | 8;
  flags?: number;
  /** Unix mode in the high 16 bits; default a regular 0644 file. */
  externalAttrs?: number;
  /** A different name in the local header. */
  localName?: string;
}

/** Writes a zip byte by byte, for what no zip library will produce. */
function rawZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
    const localName = e.localName === undefined ? name : Buffer.from(e.localName, 'utf8');
    const method = e.method ?? 0;
    const body = method === 8 ? zlib.deflateRawSync(e.data) : e.data;
    const crc = zlib.crc32(e.data);
    const flags = (e.flags ?? 0) | 0x0800; // UTF-8 names
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(localName.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(0x031e, 4); // made by Unix
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(e.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(e.externalAttrs ?? 0o100644 * 0x10000, 38);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, localName, body);
    central.push(cd, name);
    offset += local.length + localName.length + body.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, eocd]);
}

/** Rewrites the uncompressed size the central directory declares for `name` (a lying header). */
function patchDeclaredSize(zip: Buffer, name: string, size: number): void {
  const eocd = zip.length - 22;
  assert.equal(zip.readUInt32LE(eocd), 0x06054b50);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < zip.readUInt16LE(eocd + 10); i++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50);
    const n = zip.readUInt16LE(p + 28);
    if (zip.subarray(p + 46, p + 46 + n).toString('utf8') === name) {
      zip.writeUInt32LE(size, p + 24);
      return;
    }
    p += 46 + n + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  assert.fail(`no entry ${name}`);
}

/** 1 GiB of zeros, streamed: never more than 1 MiB in memory. */
function zeros(bytes: number): Readable {
  const chunk = Buffer.alloc(1 << 20);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

async function rejectsWith(p: Promise<unknown>, code: PackageErrorCode): Promise<PackageError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PackageError, `expected PackageError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/**
 * Runs fn while spying on every node:fs call that could create or change a file or directory; returns the paths
 * they were called with (fn's own error is rethrown after the spies are gone).
 */
async function fsWritesDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const writes: string[] = [];
  const restore: Array<() => void> = [];
  const spy = (target: Record<string, unknown>, name: string, isWrite: (args: unknown[]) => boolean = () => true) => {
    const original = target[name] as (...args: unknown[]) => unknown;
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (isWrite(args)) writes.push(`${name} ${String(args[0])}`);
      return original.apply(this, args);
    };
    restore.push(() => void (target[name] = original));
  };
  const writeFlags = (args: unknown[]) => typeof args[1] === 'number' || (typeof args[1] === 'string' && /[wa+]/.test(args[1]));
  const sync = fs as unknown as Record<string, unknown>;
  const promises = fs.promises as unknown as Record<string, unknown>;
  for (const name of ['createWriteStream', 'writeFile', 'appendFile', 'mkdir', 'mkdtemp', 'rename', 'copyFile', 'symlink', 'link', 'truncate']) {
    spy(sync, name);
    spy(promises, name);
  }
  for (const name of ['writeFileSync', 'mkdirSync', 'renameSync', 'copyFileSync']) spy(sync, name);
  spy(sync, 'open', writeFlags);
  spy(sync, 'openSync', writeFlags);
  spy(promises, 'open', writeFlags);
  try {
    await fn();
  } finally {
    for (const r of restore.reverse()) r();
  }
  return writes;
}

/** Open file descriptors of this process (Linux), once those still closing have closed (up to 2 s). */
async function settledFdCount(atMost: number): Promise<number> {
  const count = () => fs.readdirSync('/proc/self/fd').length;
  for (let i = 0; i < 100 && count() > atMost; i++) await new Promise((r) => setTimeout(r, 20));
  return count();
}

/** Each entry's compression method (0 stored, 8 deflated), by name, from the central directory. */
async function compressionMethods(zipPath: string): Promise<Map<string, number>> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, decodeStrings: true });
  const methods = new Map<string, number>();
  try {
    for await (const entry of zip.eachEntry()) methods.set(entry.fileName, entry.compressionMethod);
  } finally {
    zip.close();
  }
  return methods;
}

function listTree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
}

describe('bid package (投标文件包)', function () {
  let tmp: string;
  let n = 0;
  /** A fresh path under tmp. */
  const fresh = (name: string) => path.join(tmp, `${++n}-${name}`);

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bid-package-test-'));
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('identifiers and manifest validation', function () {
    it('when an ID number has a correct GB 11643 check character, then it is valid; otherwise not', function () {
      assert.equal(isValidIdNumber(ID_NUMBER), true);
      assert.equal(isValidIdNumber('110105194912310021'), false); // wrong check character
      assert.equal(isValidIdNumber('11010519491231002x'), false); // lowercase x
      assert.equal(isValidIdNumber('11010519490230002X'), false); // 30 February
      assert.equal(isValidIdNumber('1101051949123100'), false);
      assert.equal(isValidCreditCode(CREDIT_CODE), true);
      assert.equal(isValidCreditCode('91110000600037341M'), false);
    });

    it('when the manifest is well formed, then validateManifest returns it', function () {
      const m = manifestFor([doc('a.txt', Buffer.from('a'))]);
      assert.deepEqual(validateManifest(JSON.parse(JSON.stringify(m))), m);
    });

    it('when the project manager ID number has a wrong check digit, then MANIFEST_INVALID without echoing the number', function () {
      const m = manifestFor([]);
      m.form.projectManager.idNumber = '110105194912310021';
      assert.throws(
        () => validateManifest(m),
        (e: unknown) =>
          e instanceof PackageError &&
          e.code === 'MANIFEST_INVALID' &&
          e.message.includes('form.projectManager.idNumber') &&
          !e.message.includes('110105194912310021'),
      );
    });

    it('when the price is not a positive integer of fen, a key is unknown or a path is unsafe, then MANIFEST_INVALID', function () {
      const bad: unknown[] = [
        { ...manifestFor([]), form: { ...manifestFor([]).form, totalPriceFen: 12.5 } },
        { ...manifestFor([]), form: { ...manifestFor([]).form, totalPriceFen: 0 } },
        { ...manifestFor([]), extra: true },
        { ...manifestFor([]), formatVersion: 2 },
        manifestFor([doc('../a.txt', Buffer.from('a'))]),
        manifestFor([doc('a.txt', Buffer.from('a')), doc('A.TXT', Buffer.from('b'))]),
        { ...manifestFor([]), bidder: { name: 'x', creditCode: '91110000600037341M' } },
        'not an object',
      ];
      for (const m of bad) {
        assert.throws(() => validateManifest(m), (e: unknown) => e instanceof PackageError && e.code === 'MANIFEST_INVALID', JSON.stringify(m));
      }
    });
  });

  describe('machine code and tool serial', function () {
    it('when computed twice, then the machine fingerprint is the same 64-hex value; the MAC order does not matter', function () {
      assert.match(machineFingerprint(), /^[0-9a-f]{64}$/);
      assert.equal(machineFingerprint(), machineFingerprint());
      const facts = { hostname: 'pc-01', macs: ['aa:bb:cc:00:00:01', 'aa:bb:cc:00:00:02'], cpuModel: 'CPU', platform: 'win32' };
      assert.equal(fingerprintOf(facts), fingerprintOf({ ...facts, macs: [...facts.macs].reverse() }));
      assert.notEqual(fingerprintOf(facts), fingerprintOf({ ...facts, hostname: 'pc-02' }));
    });

    it('when the serial file is missing, then one is created and read back the same afterwards', function () {
      const file = path.join(fresh('home'), '.bidtool', 'serial');
      const first = loadOrCreateToolSerial(file);
      assert.match(first, /^BT-[0-9A-F]{8}(-[0-9A-F]{8}){3}$/);
      assert.equal(loadOrCreateToolSerial(file), first);
      fs.writeFileSync(file, '\n');
      assert.throws(() => loadOrCreateToolSerial(file), /Tool serial file/);
    });
  });

  describe('pack → unpack', function () {
    let src: string;
    let files: Array<{ sourcePath: string; path: string }>;
    let contents: Map<string, Buffer>;

    before(function () {
      src = fresh('src');
      contents = new Map([
        ['投标函.txt', Buffer.from('致：招标人\n我方愿意按招标文件的要求承担本项目的施工。\n', 'utf8')],
        ['技术标/施工组织设计/第一章 总体部署.txt', Buffer.from('施工组织设计'.repeat(5000), 'utf8')],
        ['商务标/已标价工程量清单.xlsx', randomBytes(300_000)],
        ['资格审查/空白页.txt', Buffer.alloc(0)],
        // 3 MiB of zeros compresses ~1000:1 — packBid must store it uncompressed so the package still unpacks.
        ['资格审查/扫描件.bmp', Buffer.alloc(3 * 1024 * 1024)],
      ]);
      files = [];
      for (const [p, data] of contents) {
        const sourcePath = path.join(src, ...p.split('/'));
        fs.mkdirSync(path.dirname(sourcePath), { recursive: true });
        fs.writeFileSync(sourcePath, data);
        files.push({ sourcePath, path: p });
      }
    });

    it('when packed and unpacked, then every file, hash and bid-form field round-trips', async function () {
      const zipPath = fresh('bid.zip');
      const now = new Date('2025-03-01T02:03:04.000Z');
      const packed = await packBid({ outPath: zipPath, manifest: stated(), files, now });

      assert.equal(packed.formatVersion, 1);
      assert.equal(packed.createdAt, now.toISOString());
      assert.deepEqual(packed.tool, TOOL);
      assert.equal(packed.machineFingerprint, machineFingerprint());
      assert.deepEqual(
        packed.documents,
        [...contents].map(([p, data]) => doc(p, data)),
      );
      // Nothing but the package is left next to it (no temporary file).
      assert.deepEqual(fs.readdirSync(path.dirname(zipPath)).filter((f) => f.includes('bid.zip')), [path.basename(zipPath)]);

      const out = fresh('out');
      const unpacked = await unpackBid(zipPath, out);
      assert.deepEqual(unpacked, packed);
      assert.equal(unpacked.form.totalPriceFen, 1_234_567_890);
      assert.deepEqual(unpacked.form, stated().form);
      assert.deepEqual(unpacked.bidder, stated().bidder);
      assert.equal(unpacked.tenderCode, 'SXGGZY-2025-0001');
      for (const [p, data] of contents) {
        assert.ok(fs.readFileSync(path.join(out, ...p.split('/'))).equals(data), p);
      }
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, MANIFEST_NAME), 'utf8')), packed);
      const expected = [MANIFEST_NAME, ...contents.keys()].flatMap((p) => {
        const segs = p.split('/');
        return segs.map((_, i) => segs.slice(0, i + 1).join('/'));
      });
      assert.deepEqual(listTree(out), [...new Set(expected)].sort());

      assert.deepEqual(await readManifest(zipPath), packed);
    });

    it('when a document does not compress, then it is stored as it is; the others are deflated; both unpack', async function () {
      const zipPath = fresh('stored.zip');
      await packBid({ outPath: zipPath, manifest: stated(), files });
      assert.deepEqual(
        Object.fromEntries(await compressionMethods(zipPath)),
        {
          '投标函.txt': 8, // too small to judge: deflated
          '技术标/施工组织设计/第一章 总体部署.txt': 8,
          '商务标/已标价工程量清单.xlsx': 0, // random bytes
          '资格审查/空白页.txt': 8,
          '资格审查/扫描件.bmp': 0, // beyond the ratio limit
          [MANIFEST_NAME]: 8,
        },
      );
      const out = fresh('out');
      await unpackBid(zipPath, out);
      assert.ok(fs.readFileSync(path.join(out, '商务标', '已标价工程量清单.xlsx')).equals(contents.get('商务标/已标价工程量清单.xlsx')!));
      // a package as earlier versions made them (everything deflated but what exceeds the ratio limit) still opens
      const old = fresh('old.zip');
      const m = await readManifest(zipPath);
      await yazlZip(old, [
        ...[...contents].map(([name, data]) => ({ name, data, compressionLevel: name.endsWith('.bmp') ? 0 : 6 })),
        { name: MANIFEST_NAME, data: json(m) },
      ]);
      assert.equal((await compressionMethods(old)).get('商务标/已标价工程量清单.xlsx'), 8);
      assert.deepEqual(await verifyBid(old), m);
    });

    it('when the ID number is invalid, then packBid refuses with MANIFEST_INVALID and writes nothing', async function () {
      const dir = fresh('refused');
      const s = stated();
      s.form = { ...s.form, projectManager: { name: '张三', idNumber: '110105194912310021' } };
      await rejectsWith(packBid({ outPath: path.join(dir, 'bid.zip'), manifest: s, files }), 'MANIFEST_INVALID');
      assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], []);
    });

    it('when in-package paths are unsafe, duplicated (ignoring case) or reserved, then packBid refuses', async function () {
      const one = files[0].sourcePath;
      const outPath = path.join(fresh('refused'), 'bid.zip');
      await rejectsWith(packBid({ outPath, manifest: stated(), files: [{ sourcePath: one, path: '../投标函.txt' }] }), 'PATH_TRAVERSAL');
      await rejectsWith(packBid({ outPath, manifest: stated(), files: [{ sourcePath: one, path: 'a\\b.txt' }] }), 'PATH_TRAVERSAL');
      await rejectsWith(
        packBid({ outPath, manifest: stated(), files: [{ sourcePath: one, path: 'A.txt' }, { sourcePath: one, path: 'a.TXT' }] }),
        'DUPLICATE_ENTRY',
      );
      await rejectsWith(packBid({ outPath, manifest: stated(), files: [{ sourcePath: one, path: 'Manifest.json' }] }), 'DUPLICATE_ENTRY');
      assert.equal(fs.existsSync(outPath), false);
    });
  });

  describe('hostile packages', function () {
    const good = Buffer.from('正常文件 / a normal file');

    /** Writes bytes to a fresh .zip path. */
    function zipFile(bytes: Buffer): string {
      const p = fresh('hostile.zip');
      fs.writeFileSync(p, bytes);
      return p;
    }

    /** An empty, existing output directory inside its own parent (to see anything escaping). */
    function emptyOut(): { parent: string; out: string } {
      const parent = fresh('parent');
      const out = path.join(parent, 'out');
      fs.mkdirSync(out, { recursive: true });
      return { parent, out };
    }

    async function refused(zipPath: string, code: PackageErrorCode): Promise<void> {
      const { parent, out } = emptyOut();
      await rejectsWith(unpackBid(zipPath, out), code);
      assert.deepEqual(fs.readdirSync(out), [], 'outDir must be left empty');
      assert.deepEqual(fs.readdirSync(parent), ['out'], 'nothing may be written beside outDir');
    }

    for (const name of ['../evil.txt', '/etc/x', 'a\\..\\b', 'C:/evil.txt', 'a/./b.txt', 'dir//b.txt', 'a\u0000b.txt', '报价\u202Efdp.exe']) {
      it(`when an entry is named ${JSON.stringify(name)}, then PATH_TRAVERSAL and nothing is written`, async function () {
        const m = manifestFor([doc('ok.txt', good)]);
        await refused(
          zipFile(rawZip([{ name: 'ok.txt', data: good }, { name, data: good }, { name: MANIFEST_NAME, data: json(m) }])),
          'PATH_TRAVERSAL',
        );
      });
    }

    it('when an entry is a symbolic link (Unix mode in the external attributes), then PATH_TRAVERSAL', async function () {
      const m = manifestFor([doc('link', Buffer.from('/etc/passwd'))]);
      await refused(
        zipFile(rawZip([{ name: 'link', data: Buffer.from('/etc/passwd'), externalAttrs: 0o120777 * 0x10000 }, { name: MANIFEST_NAME, data: json(m) }])),
        'PATH_TRAVERSAL',
      );
    });

    it('when the zip holds a file the manifest does not list, then UNLISTED_FILE and nothing is written', async function () {
      const p = fresh('unlisted.zip');
      await yazlZip(p, [
        { name: 'ok.txt', data: good },
        { name: '附件/夹带.txt', data: Buffer.from('extra') },
        { name: MANIFEST_NAME, data: json(manifestFor([doc('ok.txt', good)])) },
      ]);
      await refused(p, 'UNLISTED_FILE');
    });

    it('when a file the manifest lists is missing, then MISSING_FILE', async function () {
      const p = fresh('missing.zip');
      await yazlZip(p, [
        { name: 'ok.txt', data: good },
        { name: MANIFEST_NAME, data: json(manifestFor([doc('ok.txt', good), doc('报价.pdf', Buffer.from('pdf'))])) },
      ]);
      await refused(p, 'MISSING_FILE');
    });

    it('when a file was altered after packing (same size), then HASH_MISMATCH and what was extracted is removed', async function () {
      const original = Buffer.from('投标总价：壹仟贰佰万元');
      const tampered = Buffer.from('投标总价：玖佰玖拾万元');
      assert.equal(tampered.length, original.length);
      const p = fresh('tampered.zip');
      await yazlZip(p, [
        { name: 'a/first.txt', data: good },
        { name: '报价/报价单.txt', data: tampered },
        { name: MANIFEST_NAME, data: json(manifestFor([doc('a/first.txt', good), doc('报价/报价单.txt', original)])) },
      ]);
      await refused(p, 'HASH_MISMATCH');
    });

    it('when two entries have the same name, or names differing only in case, then DUPLICATE_ENTRY', async function () {
      const m = json(manifestFor([doc('a.txt', good)]));
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good }, { name: 'a.txt', data: good }, { name: MANIFEST_NAME, data: m }])), 'DUPLICATE_ENTRY');
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good }, { name: 'A.txt', data: good }, { name: MANIFEST_NAME, data: m }])), 'DUPLICATE_ENTRY');
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good }, { name: MANIFEST_NAME, data: m }, { name: MANIFEST_NAME, data: m }])), 'DUPLICATE_ENTRY');
    });

    it('when an entry is encrypted, then ENCRYPTED_ENTRY', async function () {
      const m = json(manifestFor([doc('a.txt', good)]));
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good, method: 8, flags: 0x1 }, { name: MANIFEST_NAME, data: m }])), 'ENCRYPTED_ENTRY');
    });

    it('when the local header names a different file than the central directory, then NOT_A_ZIP', async function () {
      const m = json(manifestFor([doc('a.txt', good)]));
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good, localName: '../a.txt' }, { name: MANIFEST_NAME, data: m }])), 'NOT_A_ZIP');
    });

    it('when the file is not a zip (or is empty), then NOT_A_ZIP', async function () {
      await refused(zipFile(Buffer.from('%PDF-1.7\n这不是 zip 文件\n'.repeat(20))), 'NOT_A_ZIP');
      await refused(zipFile(Buffer.alloc(0)), 'NOT_A_ZIP');
    });

    it('when there is no manifest.json, or it is not JSON, then MANIFEST_MISSING / MANIFEST_INVALID', async function () {
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good }])), 'MANIFEST_MISSING');
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good }, { name: MANIFEST_NAME, data: Buffer.from('{not json') }])), 'MANIFEST_INVALID');
    });

    it('when the manifest inside has an invalid ID number check digit, then MANIFEST_INVALID', async function () {
      const m = manifestFor([doc('a.txt', good)]);
      m.form.projectManager.idNumber = '110105194912310021';
      await refused(zipFile(rawZip([{ name: 'a.txt', data: good }, { name: MANIFEST_NAME, data: json(m) }])), 'MANIFEST_INVALID');
    });

    it('when the limits are lower than the package, then TOO_MANY_FILES / TOO_LARGE', async function () {
      const m = json(manifestFor([doc('a.txt', good), doc('b.txt', good)]));
      const p = zipFile(rawZip([{ name: 'a.txt', data: good }, { name: 'b.txt', data: good }, { name: MANIFEST_NAME, data: m }]));
      await rejectsWith(unpackBid(p, fresh('out'), { maxFiles: 2 }), 'TOO_MANY_FILES');
      await rejectsWith(unpackBid(p, fresh('out'), { maxEntryBytes: good.length - 1 }), 'TOO_LARGE');
      await rejectsWith(unpackBid(p, fresh('out'), { maxTotalBytes: good.length + 1 }), 'TOO_LARGE');
      const out = fresh('out');
      await unpackBid(p, out);
      assert.deepEqual(listTree(out), ['a.txt', 'b.txt', MANIFEST_NAME]);
    });

    it('when the output directory is not empty, then unpack refuses and touches nothing', async function () {
      const out = fresh('busy');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'mine.txt'), 'mine');
      const p = fresh('ok.zip');
      await yazlZip(p, [{ name: 'a.txt', data: good }, { name: MANIFEST_NAME, data: json(manifestFor([doc('a.txt', good)])) }]);
      await assert.rejects(unpackBid(p, out), /not empty/);
      assert.deepEqual(fs.readdirSync(out), ['mine.txt']);
    });

    describe('zip bombs', function () {
      const GiB = 1024 ** 3;
      let bomb: Buffer;

      before(async function () {
        // 1 GiB of zeros deflates to ~1 MiB; streamed through yazl, never held in memory.
        const p = fresh('bomb-src.zip');
        await yazlZip(p, [
          { name: 'zeros.bin', data: zeros(GiB), compressionLevel: 9 },
          { name: MANIFEST_NAME, data: json(manifestFor([{ path: 'zeros.bin', size: GiB, sha256: 'b'.repeat(64) }])) },
        ]);
        bomb = fs.readFileSync(p);
        assert.ok(bomb.length < 2 * 1024 * 1024, `bomb is ${bomb.length} bytes`);
      });

      it('when an entry declares 1 GiB from ~1 MiB, then SUSPICIOUS_RATIO at once and outDir stays empty', async function () {
        const started = Date.now();
        await refused(zipFile(bomb), 'SUSPICIOUS_RATIO');
        assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
      });

      it('when the header lies about the size, then the real bytes are counted, extraction stops early and is removed', async function () {
        // Central directory and manifest both say 1000 bytes; the data inflates to 64 MiB.
        const m = json(manifestFor([{ path: 'zeros.bin', size: 1000, sha256: 'b'.repeat(64) }]));
        const q = fresh('lying.zip');
        await yazlZip(q, [
          { name: 'zeros.bin', data: zeros(64 * 1024 * 1024), compressionLevel: 9 },
          { name: MANIFEST_NAME, data: m },
        ]);
        const bytes = fs.readFileSync(q);
        patchDeclaredSize(bytes, 'zeros.bin', 1000);
        fs.writeFileSync(q, bytes);
        const started = Date.now();
        await refused(q, 'TOO_LARGE');
        assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);

        // An output directory that did not exist is not left behind.
        const missing = path.join(fresh('parent'), 'not-yet');
        await rejectsWith(unpackBid(q, missing), 'TOO_LARGE');
        assert.equal(fs.existsSync(missing), false);
      });
    });
  });

  describe('verifyBid (checks everything unpackBid checks, writes nothing)', function () {
    const good = Buffer.from('正常文件 / a normal file');
    let dir: string;

    before(function () {
      dir = fresh('verify');
      fs.mkdirSync(dir);
    });

    /** A fresh .zip path in dir. */
    const zipPath = (name: string) => path.join(dir, `${++n}-${name}`);

    /** verifyBid refuses with `code`, and nothing appears beside the zip or anywhere else through node:fs. */
    async function refused(p: string, code: PackageErrorCode): Promise<PackageError> {
      const listing = fs.readdirSync(dir).sort();
      let caught: PackageError | undefined;
      const writes = await fsWritesDuring(async () => {
        caught = await rejectsWith(verifyBid(p), code);
      });
      assert.deepEqual(writes, [], 'verifyBid must write nothing');
      assert.deepEqual(fs.readdirSync(dir).sort(), listing);
      return caught!;
    }

    it('when a package is intact, then verifyBid returns its manifest (as unpackBid does) and writes nothing', async function () {
      const src = fresh('verify-src');
      const contents = new Map([
        ['投标函.txt', Buffer.from('致：招标人\n', 'utf8')],
        ['技术标/施工组织设计.txt', Buffer.from('施工组织设计'.repeat(50_000), 'utf8')],
        ['商务标/报价.bin', randomBytes(3 * 1024 * 1024)],
        ['资格审查/扫描件.bmp', Buffer.alloc(2 * 1024 * 1024)],
        ['资格审查/空白页.txt', Buffer.alloc(0)],
      ]);
      const files = [...contents].map(([p, data]) => {
        const sourcePath = path.join(src, ...p.split('/'));
        fs.mkdirSync(path.dirname(sourcePath), { recursive: true });
        fs.writeFileSync(sourcePath, data);
        return { sourcePath, path: p };
      });
      const p = zipPath('intact.zip');
      const packed = await packBid({ outPath: p, manifest: stated(), files });
      const listing = fs.readdirSync(dir).sort();

      let verified: Manifest | undefined;
      const writes = await fsWritesDuring(async () => {
        verified = await verifyBid(p);
      });
      assert.deepEqual(verified, packed);
      assert.deepEqual(writes, []);
      assert.deepEqual(fs.readdirSync(dir).sort(), listing);
      assert.deepEqual(await unpackBid(p, fresh('out')), verified);
    });

    it('when a file was altered after packing (same size), then HASH_MISMATCH', async function () {
      const original = Buffer.from('投标总价：壹仟贰佰万元');
      const tampered = Buffer.from('投标总价：玖佰玖拾万元');
      const p = zipPath('tampered.zip');
      await yazlZip(p, [
        { name: 'a/first.txt', data: good },
        { name: '报价/报价单.txt', data: tampered },
        { name: MANIFEST_NAME, data: json(manifestFor([doc('a/first.txt', good), doc('报价/报价单.txt', original)])) },
      ]);
      const e = await refused(p, 'HASH_MISMATCH');
      assert.match(e.message, /报价单/);
      // stored (not deflated) the same way
      const q = zipPath('tampered-stored.zip');
      fs.writeFileSync(q, rawZip([{ name: 'a.txt', data: tampered }, { name: MANIFEST_NAME, data: json(manifestFor([doc('a.txt', original)])) }]));
      await refused(q, 'HASH_MISMATCH');
    });

    it('when the header lies about the size, then the real bytes are counted and TOO_LARGE stops it early', async function () {
      // Central directory and manifest both say 1000 bytes; the data inflates to 64 MiB.
      const m = json(manifestFor([{ path: 'zeros.bin', size: 1000, sha256: 'b'.repeat(64) }]));
      const p = zipPath('lying.zip');
      await yazlZip(p, [
        { name: 'zeros.bin', data: zeros(64 * 1024 * 1024), compressionLevel: 9 },
        { name: MANIFEST_NAME, data: m },
      ]);
      const bytes = fs.readFileSync(p);
      patchDeclaredSize(bytes, 'zeros.bin', 1000);
      fs.writeFileSync(p, bytes);
      const started = Date.now();
      await refused(p, 'TOO_LARGE');
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    });

    it('when a deflated entry inflates to fewer bytes than it declares, then NOT_A_ZIP, from verifyBid and unpackBid alike', async function () {
      const data = Buffer.from('第一章 总体部署\n'.repeat(100));
      const declared = { path: 'a.txt', size: data.length + 1000, sha256: sha256(data) };
      const p = zipPath('short.zip');
      await yazlZip(p, [{ name: 'a.txt', data }, { name: MANIFEST_NAME, data: json(manifestFor([declared])) }]);
      const bytes = fs.readFileSync(p);
      patchDeclaredSize(bytes, 'a.txt', declared.size);
      fs.writeFileSync(p, bytes);
      assert.match((await refused(p, 'NOT_A_ZIP')).message, /not enough bytes/);
      await rejectsWith(unpackBid(p, fresh('out')), 'NOT_A_ZIP');
    });

    it('when an entry declares a ratio beyond the limit (zip bomb), then SUSPICIOUS_RATIO before inflating anything', async function () {
      const size = 64 * 1024 * 1024;
      const p = zipPath('bomb.zip');
      await yazlZip(p, [
        { name: 'zeros.bin', data: zeros(size), compressionLevel: 9 },
        { name: MANIFEST_NAME, data: json(manifestFor([{ path: 'zeros.bin', size, sha256: 'b'.repeat(64) }])) },
      ]);
      const started = Date.now();
      await refused(p, 'SUSPICIOUS_RATIO');
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    });

    it('when the zip holds a file the manifest does not list, or misses one it lists, then UNLISTED_FILE / MISSING_FILE', async function () {
      const p = zipPath('unlisted.zip');
      await yazlZip(p, [
        { name: 'ok.txt', data: good },
        { name: '附件/夹带.txt', data: Buffer.from('extra') },
        { name: MANIFEST_NAME, data: json(manifestFor([doc('ok.txt', good)])) },
      ]);
      await refused(p, 'UNLISTED_FILE');
      const q = zipPath('missing.zip');
      await yazlZip(q, [{ name: 'ok.txt', data: good }, { name: MANIFEST_NAME, data: json(manifestFor([doc('ok.txt', good), doc('b.txt', good)])) }]);
      await refused(q, 'MISSING_FILE');
    });

    it('when paths are unsafe, the file is not a zip or the limits are lower than the package, then the codes unpackBid gives', async function () {
      const m = json(manifestFor([doc('ok.txt', good)]));
      const traversal = zipPath('traversal.zip');
      fs.writeFileSync(traversal, rawZip([{ name: 'ok.txt', data: good }, { name: '../evil.txt', data: good }, { name: MANIFEST_NAME, data: m }]));
      await refused(traversal, 'PATH_TRAVERSAL');
      const notZip = zipPath('not.zip');
      fs.writeFileSync(notZip, '%PDF-1.7\n');
      await refused(notZip, 'NOT_A_ZIP');
      const local = zipPath('local.zip');
      fs.writeFileSync(local, rawZip([{ name: 'ok.txt', data: good, localName: '../ok.txt' }, { name: MANIFEST_NAME, data: m }]));
      await refused(local, 'NOT_A_ZIP');
      const two = json(manifestFor([doc('a.txt', good), doc('b.txt', good)]));
      const p = zipPath('two.zip');
      fs.writeFileSync(p, rawZip([{ name: 'a.txt', data: good }, { name: 'b.txt', data: good }, { name: MANIFEST_NAME, data: two }]));
      await rejectsWith(verifyBid(p, { maxFiles: 2 }), 'TOO_MANY_FILES');
      await rejectsWith(verifyBid(p, { maxEntryBytes: good.length - 1 }), 'TOO_LARGE');
      await rejectsWith(verifyBid(p, { maxTotalBytes: good.length + 1 }), 'TOO_LARGE');
      assert.equal((await verifyBid(p)).documents.length, 2);
    });

    it('when packages are opened many times, passing or failing, then no file descriptor is left open', async function () {
      if (!fs.existsSync('/proc/self/fd')) this.skip();
      const ok = zipPath('fd-ok.zip');
      await yazlZip(ok, [
        { name: 'a.txt', data: good },
        { name: 'b.bin', data: randomBytes(3 * 1024 * 1024) },
        { name: MANIFEST_NAME, data: json(manifestFor([doc('a.txt', good), doc('b.bin', Buffer.alloc(3 * 1024 * 1024))])) },
      ]);
      const okManifest = json(manifestFor([doc('a.txt', good)]));
      const intact = zipPath('fd-intact.zip');
      await yazlZip(intact, [{ name: 'a.txt', data: good }, { name: MANIFEST_NAME, data: okManifest }]);
      const lying = zipPath('fd-lying.zip');
      await yazlZip(lying, [
        { name: 'a.txt', data: zeros(8 * 1024 * 1024) },
        { name: MANIFEST_NAME, data: json(manifestFor([{ path: 'a.txt', size: 1000, sha256: 'b'.repeat(64) }])) },
      ]);
      const bytes = fs.readFileSync(lying);
      patchDeclaredSize(bytes, 'a.txt', 1000);
      fs.writeFileSync(lying, bytes);
      const notZip = zipPath('fd-not.zip');
      fs.writeFileSync(notZip, 'not a zip');

      const before = await settledFdCount(Infinity);
      for (let i = 0; i < 40; i++) {
        await rejectsWith(verifyBid(ok), 'HASH_MISMATCH'); // fails after streaming a whole entry
        await rejectsWith(verifyBid(lying), 'TOO_LARGE'); // fails mid-stream
        await rejectsWith(verifyBid(notZip), 'NOT_A_ZIP'); // fails while opening
        await verifyBid(intact);
        await readManifest(intact);
      }
      await rejectsWith(unpackBid(lying, fresh('out')), 'TOO_LARGE');
      await unpackBid(intact, fresh('out'));
      await assert.rejects(verifyBid(path.join(dir, 'no-such.zip')), { code: 'ENOENT' });
      const after = await settledFdCount(before);
      assert.ok(after <= before, `${after - before} file descriptors left open`);
    });
  });

  describe('bidtool pack / unpack', function () {
    async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
      const out: string[] = [];
      const err: string[] = [];
      const ctx: CliContext = {
        stdout: { write: (s) => void out.push(s) },
        stderr: { write: (s) => void err.push(s) },
        now: () => new Date('2025-03-01T02:00:00Z'),
      };
      const code = await runBidtool(args, ctx);
      return { code, out: out.join(''), err: err.join('') };
    }

    const formArgs = [
      '--tender', 'tender-001', '--section', 'section-01',
      '--bidder-name', '陕西某某建设集团有限公司', '--credit-code', CREDIT_CODE,
      '--price-fen', '1234567890', '--duration-days', '180', '--quality', '合格',
      '--pm-name', '张三', '--validity-days', '90', '--author', '李四', '--tool-serial', 'BT-CLI-TEST-1',
    ];

    it('when packing a directory plus a file, then prints the price in yuan and the documents; unpack verifies them', async function () {
      const dir = fresh('标书');
      fs.mkdirSync(path.join(dir, '技术标'), { recursive: true });
      fs.writeFileSync(path.join(dir, '技术标', '施工方案.txt'), '施工方案\n'.repeat(300));
      fs.writeFileSync(path.join(dir, '投标函.txt'), '投标函');
      const extra = path.join(fresh('extra'), '授权委托书.txt');
      fs.mkdirSync(path.dirname(extra));
      fs.writeFileSync(extra, '授权委托书');
      const zipPath = fresh('cli-bid.zip');

      const packed = await run(['pack', ...formArgs, '--pm-id', ID_NUMBER.toLowerCase(), '--out', zipPath, '--dir', dir, extra]);
      assert.equal(packed.code, 0, packed.err);
      assert.match(packed.out, /投标总价 \/ Total price: 12,345,678\.90 元/);
      assert.match(packed.out, /技术标\/施工方案\.txt {2}3\.8 KB \(3,900 字节 \/ bytes\)/);
      assert.match(packed.out, /投标函\.txt {2}9 字节 \/ bytes/);
      assert.match(packed.out, /授权委托书\.txt/);
      assert.match(packed.out, /110105\*{8}002X/);
      assert.ok(!packed.out.includes(ID_NUMBER), 'the full ID number is not printed');
      assert.match(packed.out, /BT-CLI-TEST-1/);

      const m = await readManifest(zipPath);
      assert.deepEqual(m.documents.map((d) => d.path), ['技术标/施工方案.txt', '投标函.txt', '授权委托书.txt']);
      assert.equal(m.form.projectManager.idNumber, ID_NUMBER);
      assert.equal(m.createdAt, '2025-03-01T02:00:00.000Z');

      const again = await run(['pack', ...formArgs, '--pm-id', ID_NUMBER, '--out', zipPath, extra]);
      assert.equal(again.code, 2);
      assert.match(again.err, /--force/);

      const out = fresh('cli-out');
      const unpacked = await run(['unpack', '--in', zipPath, '--out', out]);
      assert.equal(unpacked.code, 0, unpacked.err);
      assert.match(unpacked.out, /校验通过/);
      assert.match(unpacked.out, /12,345,678\.90 元/);
      assert.equal(fs.readFileSync(path.join(out, '技术标', '施工方案.txt'), 'utf8'), '施工方案\n'.repeat(300));
    });

    it('when the ID number is wrong or no document is given, then pack exits 2 and writes nothing', async function () {
      const doc1 = path.join(fresh('d'), 'a.txt');
      fs.mkdirSync(path.dirname(doc1));
      fs.writeFileSync(doc1, 'a');
      const zipPath = fresh('bad.zip');
      const r = await run(['pack', ...formArgs, '--pm-id', '110105194912310021', '--out', zipPath, doc1]);
      assert.equal(r.code, 2);
      assert.match(r.err, /MANIFEST_INVALID/);
      assert.equal(fs.existsSync(zipPath), false);
      assert.equal((await run(['pack', ...formArgs, '--pm-id', ID_NUMBER, '--out', zipPath])).code, 2);
      const price = await run(['pack', ...formArgs.map((a) => (a === '1234567890' ? '12.5' : a)), '--pm-id', ID_NUMBER, '--out', zipPath, doc1]);
      assert.equal(price.code, 2);
      assert.match(price.err, /--price-fen/);
    });

    it('when a contact person is given, then the manifest names them; a name without a phone, or a bad phone, exits 2', async function () {
      const doc1 = path.join(fresh('c'), 'a.txt');
      fs.mkdirSync(path.dirname(doc1));
      fs.writeFileSync(doc1, 'a');
      const zipPath = fresh('contact.zip');
      const packed = await run(['pack', ...formArgs, '--pm-id', ID_NUMBER, '--contact-name', '赵敏', '--contact-phone', '029-8888 1234', '--out', zipPath, doc1]);
      assert.equal(packed.code, 0, packed.err);
      assert.match(packed.out, /联系人 \/ Contact: 赵敏，029-8888 1234/);
      assert.deepEqual((await readManifest(zipPath)).contact, { name: '赵敏', phone: '029-8888 1234' });
      const alone = await run(['pack', ...formArgs, '--pm-id', ID_NUMBER, '--contact-name', '赵敏', '--out', fresh('c1.zip'), doc1]);
      assert.equal(alone.code, 2);
      assert.match(alone.err, /--contact-phone/);
      const bad = await run(['pack', ...formArgs, '--pm-id', ID_NUMBER, '--contact-name', '赵敏', '--contact-phone', 'call me', '--out', fresh('c2.zip'), doc1]);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /MANIFEST_INVALID/);
    });

    it('when unpacking a tampered package, then exits 1 naming HASH_MISMATCH', async function () {
      const good = Buffer.from('ok');
      const p = fresh('cli-tampered.zip');
      await yazlZip(p, [{ name: 'a.txt', data: Buffer.from('no') }, { name: MANIFEST_NAME, data: json(manifestFor([doc('a.txt', good)])) }]);
      const out = fresh('cli-out');
      const r = await run(['unpack', '--in', p, '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.err, /HASH_MISMATCH/);
      assert.equal(fs.existsSync(out), false);
    });
  });
});
