/**
 * What every BlobStore must do, as mocha cases: run inside a describe with a way to make a fresh, empty store. The
 * local store (test/unit/blobs.test.ts) and the S3 store (test/unit/s3-blob-store.test.ts) both pass it.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobKeyInvalid, BlobNotFound, type BlobStore } from '../../src/shared/blobs';
import { PayloadTooLarge } from '../../src/shared/errors';

export interface BlobStoreSubject {
  store: BlobStore;
  /** Everything the store holds, in key order: blobs, and whatever a failed put could leave (temp files, open uploads). */
  stored(): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

export const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** `body` in 64 KiB chunks, as a request arrives. */
export function chunked(body: Buffer, size = 65536): Readable {
  return Readable.from(Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size)));
}

export const INVALID_KEYS = ['../etc/passwd', 'bids/../../x', 'a/./b', 'a//b', 'a/', '/abs', '.hidden', 'bids/.x.tmp', 'Bids/UPPER', 'a\\b', 'a b', '', 'x'.repeat(202), 'a/..', '..'];

/** `bodyBytes`: size of the round-tripped body (big enough to take the store's large-body path). */
export function behavesAsBlobStore(make: () => Promise<BlobStoreSubject>, opts: { bodyBytes: number }): void {
  let s: BlobStoreSubject;
  beforeEach(async function () {
    s = await make();
  });
  afterEach(async function () {
    await s.dispose();
  });

  it(`when a stream of ${(opts.bodyBytes / 1048576).toFixed(1)} MiB is put and read back, then the bytes, size and sha256 match`, async function () {
    const body = crypto.randomBytes(opts.bodyBytes);
    const res = await s.store.put('bids/t-1/s-1/bid-9.p7m', chunked(body));

    assert.deepEqual(res, { key: 'bids/t-1/s-1/bid-9.p7m', size: body.length, sha256: sha256(body) });
    assert.ok((await readAll(await s.store.get('bids/t-1/s-1/bid-9.p7m'))).equals(body), 'the same bytes come back');
    assert.deepEqual(await s.store.stat('bids/t-1/s-1/bid-9.p7m'), { size: body.length });
    assert.deepEqual(await s.stored(), ['bids/t-1/s-1/bid-9.p7m']);
  });

  it('when a Buffer is put over an existing key, then the new content replaces it whole', async function () {
    await s.store.put('receipts/r1.pdf', Buffer.from('first'));
    const res = await s.store.put('receipts/r1.pdf', Buffer.from('second version'));
    assert.equal(res.sha256, sha256('second version'));
    assert.equal((await readAll(await s.store.get('receipts/r1.pdf'))).toString(), 'second version');
    assert.deepEqual(await s.stored(), ['receipts/r1.pdf']);
  });

  it('when a key tries to leave the store or is malformed, then it is refused with BLOB_KEY_INVALID', async function () {
    for (const key of INVALID_KEYS) {
      await assert.rejects(s.store.put(key, Buffer.from('x')), (err) => BlobKeyInvalid.is(err), `put ${JSON.stringify(key)}`);
      await assert.rejects(s.store.get(key), (err) => BlobKeyInvalid.is(err), `get ${JSON.stringify(key)}`);
      await assert.rejects(s.store.stat(key), (err) => BlobKeyInvalid.is(err), `stat ${JSON.stringify(key)}`);
      await assert.rejects(s.store.delete(key), (err) => BlobKeyInvalid.is(err), `delete ${JSON.stringify(key)}`);
    }
    assert.deepEqual(await s.stored(), []);
  });

  it('when a body exceeds maxBytes, then PAYLOAD_TOO_LARGE is raised and nothing is left', async function () {
    const body = crypto.randomBytes(100_000);
    const chunks = [body.subarray(0, 40_000), body.subarray(40_000, 80_000), body.subarray(80_000)];
    await assert.rejects(s.store.put('bids/big.p7m', Readable.from(chunks), { maxBytes: 99_999 }), (err) => PayloadTooLarge.is(err));
    await assert.rejects(s.store.put('bids/big.p7m', body, { maxBytes: 99_999 }), (err) => PayloadTooLarge.is(err));
    assert.deepEqual(await s.stored(), []);
    assert.equal(await s.store.stat('bids/big.p7m'), null);

    const ok = await s.store.put('bids/big.p7m', Readable.from(chunks), { maxBytes: 100_000 });
    assert.equal(ok.size, 100_000);
  });

  it('when the upload stream errors midway, then the error surfaces and nothing is left', async function () {
    async function* interrupted() {
      yield crypto.randomBytes(70_000);
      yield crypto.randomBytes(70_000);
      throw new Error('client disconnected');
    }
    await assert.rejects(s.store.put('bids/cut.p7m', Readable.from(interrupted())), /client disconnected/);
    assert.deepEqual(await s.stored(), []);
    assert.equal(await s.store.stat('bids/cut.p7m'), null);
  });

  it('when a blob is missing or deleted, then get says BLOB_NOT_FOUND and stat says null', async function () {
    await assert.rejects(s.store.get('bids/none.p7m'), (err) => BlobNotFound.is(err));
    await s.store.put('bids/gone.p7m', Buffer.from('x'));
    await s.store.delete('bids/gone.p7m');
    await s.store.delete('bids/gone.p7m'); // deleting a missing key is not an error (as in S3)
    assert.equal(await s.store.stat('bids/gone.p7m'), null);
    assert.deepEqual(await s.stored(), []);
    assert.equal(await s.store.ping(), 'ok');
  });
}
