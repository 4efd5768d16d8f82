import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createBlobStore, BlobKeyInvalid, BlobNotFound, type BlobStore } from '../../src/shared/blobs';
import { LocalBlobStore, SCRATCH_DIR, validateBlobKey } from '../../src/shared/blobs/local-blob-store';
import { PayloadTooLarge } from '../../src/shared/errors';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Every file under dir, temp files included. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)));
}

describe('blobs: the local blob store', function () {
  let dir: string;
  let store: BlobStore;

  // the store in a folder of a folder of the test's own, so that nothing escaping it can be confused with another's file
  beforeEach(function () {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gz-blobs-')), 'store');
    fs.mkdirSync(dir);
    store = createBlobStore({ blobDir: dir });
  });
  afterEach(function () {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('when a stream is put and read back, then the bytes, size and sha256 match', async function () {
    const body = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
    const res = await store.put('bids/t-1/s-1/bid-9.p7m', Readable.from(chunks));

    assert.deepEqual(res, {
      key: 'bids/t-1/s-1/bid-9.p7m',
      size: body.length,
      sha256: crypto.createHash('sha256').update(body).digest('hex'),
    });
    assert.deepEqual(await readAll(await store.get('bids/t-1/s-1/bid-9.p7m')), body);
    assert.deepEqual(await store.stat('bids/t-1/s-1/bid-9.p7m'), { size: body.length });
    assert.deepEqual(filesUnder(dir), [path.join('bids', 't-1', 's-1', 'bid-9.p7m')]);
  });

  it('when a Buffer is put over an existing key, then the new content replaces it whole', async function () {
    await store.put('receipts/r1.pdf', Buffer.from('first'));
    const res = await store.put('receipts/r1.pdf', Buffer.from('second version'));
    assert.equal(res.sha256, crypto.createHash('sha256').update('second version').digest('hex'));
    assert.equal((await readAll(await store.get('receipts/r1.pdf'))).toString(), 'second version');
  });

  it('when a key tries to leave the store or is malformed, then it is refused with BLOB_KEY_INVALID', async function () {
    const bad = ['../etc/passwd', 'bids/../../x', 'a/./b', 'a//b', 'a/', '/abs', '.hidden', 'bids/.x.tmp', 'Bids/UPPER', 'a\\b', 'a b', '', 'x'.repeat(202), 'a/..', '..'];
    for (const key of bad) {
      await assert.rejects(store.put(key, Buffer.from('x')), (err) => BlobKeyInvalid.is(err), `put ${JSON.stringify(key)}`);
      await assert.rejects(store.get(key), (err) => BlobKeyInvalid.is(err), `get ${JSON.stringify(key)}`);
      await assert.rejects(store.stat(key), (err) => BlobKeyInvalid.is(err), `stat ${JSON.stringify(key)}`);
      await assert.rejects(store.delete(key), (err) => BlobKeyInvalid.is(err), `delete ${JSON.stringify(key)}`);
    }
    assert.deepEqual(filesUnder(dir), []);
    assert.equal(fs.existsSync(path.join(path.dirname(dir), 'x')), false);
  });

  it('when a body exceeds maxBytes, then PAYLOAD_TOO_LARGE is raised and no file is left', async function () {
    const body = crypto.randomBytes(100_000);
    const chunks = [body.subarray(0, 40_000), body.subarray(40_000, 80_000), body.subarray(80_000)];
    await assert.rejects(store.put('bids/big.p7m', Readable.from(chunks), { maxBytes: 99_999 }), (err) => PayloadTooLarge.is(err));
    await assert.rejects(store.put('bids/big.p7m', body, { maxBytes: 99_999 }), (err) => PayloadTooLarge.is(err));
    assert.deepEqual(filesUnder(dir), []);
    assert.equal(await store.stat('bids/big.p7m'), null);

    const ok = await store.put('bids/big.p7m', Readable.from(chunks), { maxBytes: 100_000 });
    assert.equal(ok.size, 100_000);
  });

  it('when the upload stream errors midway, then the error surfaces and no file is left', async function () {
    async function* interrupted() {
      yield crypto.randomBytes(70_000);
      yield crypto.randomBytes(70_000);
      throw new Error('client disconnected');
    }
    await assert.rejects(store.put('bids/cut.p7m', Readable.from(interrupted())), /client disconnected/);
    assert.deepEqual(filesUnder(dir), []);
    assert.equal(await store.stat('bids/cut.p7m'), null);
  });

  it('when a blob is missing or deleted, then get says BLOB_NOT_FOUND and stat says null', async function () {
    await assert.rejects(store.get('bids/none.p7m'), (err) => BlobNotFound.is(err));
    await store.put('bids/gone.p7m', Buffer.from('x'));
    await store.delete('bids/gone.p7m');
    await store.delete('bids/gone.p7m'); // deleting a missing key is not an error (as in S3)
    assert.equal(await store.stat('bids/gone.p7m'), null);
    assert.equal(await store.ping(), 'ok');
  });

  describe('adopting a file (a move, not a copy)', function () {
    let local: LocalBlobStore;

    beforeEach(function () {
      local = new LocalBlobStore(dir);
    });

    it('when a file made in a temp directory is adopted, then it is the blob (same inode), and nothing is left behind', async function () {
      const tmp = await local.makeTempDir('job-');
      assert.equal(path.dirname(tmp), path.join(local.root, SCRATCH_DIR));
      assert.equal(fs.statSync(tmp).mode & 0o777, 0o700);
      const body = crypto.randomBytes(2 * 1024 * 1024 + 3);
      const file = path.join(tmp, 'bid.zip');
      fs.writeFileSync(file, body, { mode: 0o600 });
      const ino = fs.statSync(file).ino;

      assert.deepEqual(await local.adoptFile('opened/t-1/bid-1.zip', file), { key: 'opened/t-1/bid-1.zip', size: body.length });
      assert.equal(fs.existsSync(file), false);
      assert.equal(fs.statSync(path.join(dir, 'opened', 't-1', 'bid-1.zip')).ino, ino);
      assert.deepEqual(await readAll(await local.get('opened/t-1/bid-1.zip')), body);
      assert.deepEqual(await local.stat('opened/t-1/bid-1.zip'), { size: body.length });

      // adopting over an existing blob replaces it whole, as put does
      fs.writeFileSync(file, 'second');
      await local.adoptFile('opened/t-1/bid-1.zip', file);
      assert.equal((await readAll(await local.get('opened/t-1/bid-1.zip'))).toString(), 'second');
      fs.rmdirSync(tmp);
      assert.deepEqual(filesUnder(dir), [path.join('opened', 't-1', 'bid-1.zip')]);
    });

    it('when the key is invalid or the path is not a regular file, then adoptFile refuses and moves nothing', async function () {
      const tmp = await local.makeTempDir('job-');
      const file = path.join(tmp, 'bid.zip');
      fs.writeFileSync(file, 'x');
      await assert.rejects(local.adoptFile('../escape.zip', file), (err) => BlobKeyInvalid.is(err));
      await assert.rejects(local.adoptFile('.scratch/x.zip', file), (err) => BlobKeyInvalid.is(err));
      fs.symlinkSync(file, path.join(tmp, 'link.zip'));
      await assert.rejects(local.adoptFile('opened/link.zip', path.join(tmp, 'link.zip')));
      await assert.rejects(local.adoptFile('opened/dir.zip', tmp));
      await assert.rejects(local.adoptFile('opened/none.zip', path.join(tmp, 'none.zip')), { code: 'ENOENT' });
      assert.equal(fs.readFileSync(file, 'utf8'), 'x');
      assert.equal(fs.existsSync(path.join(dir, 'opened')), false);
    });

    it('when temp directories are made, then no key can reach them, and stale ones are cleared', async function () {
      assert.throws(() => validateBlobKey(`${SCRATCH_DIR}/job-x`), (err) => BlobKeyInvalid.is(err));
      await assert.rejects(local.makeTempDir('../x'), RangeError);
      const stale = await local.makeTempDir('job-');
      const fresh = await local.makeTempDir('job-');
      const other = await local.makeTempDir('other-');
      fs.writeFileSync(path.join(stale, 'bid.zip'), 'left by a crash');
      const old = new Date(Date.now() - 2 * 86_400_000);
      for (const d of [stale, other]) fs.utimesSync(d, old, old);
      await local.removeStaleTempDirs('job-', 86_400_000);
      assert.equal(fs.existsSync(stale), false);
      assert.equal(fs.existsSync(fresh), true);
      assert.equal(fs.existsSync(other), true, 'another prefix is not touched');
      await new LocalBlobStore(path.join(dir, 'empty')).removeStaleTempDirs('job-', 0); // no scratch directory yet
    });
  });
});
