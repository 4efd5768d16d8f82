import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBlobStore, BlobKeyInvalid } from '../../src/shared/blobs';
import { LocalBlobStore, SCRATCH_DIR, validateBlobKey } from '../../src/shared/blobs/local-blob-store';
import { behavesAsBlobStore, INVALID_KEYS, readAll } from '../support/blob-store-contract';

/** Every file under dir, temp files included, as keys ('/'-separated). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)).split(path.sep).join('/'))
    .sort();
}

/** A store in a folder of a folder of the test's own, so that nothing escaping it can be confused with another's file. */
function makeStoreDir(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gz-blobs-')), 'store');
  fs.mkdirSync(dir);
  return dir;
}

describe('blobs: the local blob store', function () {
  describe('the blob store contract', function () {
    behavesAsBlobStore(
      async () => {
        const dir = makeStoreDir();
        return {
          store: createBlobStore({ blobDir: dir }),
          stored: async () => filesUnder(dir),
          dispose: async () => fs.rmSync(path.dirname(dir), { recursive: true, force: true }),
        };
      },
      { bodyBytes: 3 * 1024 * 1024 + 17 },
    );
  });

  let dir: string;

  beforeEach(function () {
    dir = makeStoreDir();
  });
  afterEach(function () {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('when a key tries to leave the store, then nothing is written outside its directory', async function () {
    const store = createBlobStore({ blobDir: dir });
    for (const key of INVALID_KEYS) await assert.rejects(store.put(key, Buffer.from('x')), (err) => BlobKeyInvalid.is(err));
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['store']);
    assert.deepEqual(filesUnder(dir), []);
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
      assert.deepEqual(filesUnder(dir), ['opened/t-1/bid-1.zip']);
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
