import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createBlobStore, BlobKeyInvalid, BlobNotFound, type BlobStore } from '../../src/shared/blobs';
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

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-blobs-'));
    store = createBlobStore({ blobDir: dir });
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
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
});
