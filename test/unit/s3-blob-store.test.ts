import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config';
import { createBlobStore } from '../../src/shared/blobs';
import { PART_SIZE, S3BlobStore } from '../../src/shared/blobs/s3-blob-store';
import { PayloadTooLarge } from '../../src/shared/errors';
import { behavesAsBlobStore, chunked, readAll, sha256 } from '../support/blob-store-contract';
import { startS3Server, type TestS3Server } from '../support/s3-server';

/** What is in the bucket: objects, and multipart uploads neither completed nor aborted. */
async function storedIn(server: TestS3Server, prefix = ''): Promise<string[]> {
  const keys = (await server.listKeys()).map((k) => (k.startsWith(prefix) ? k.slice(prefix.length) : `(outside the prefix) ${k}`));
  return [...keys, ...server.openUploads().map((id) => `(open multipart upload) ${id}`)];
}

describe('blobs: the S3 blob store (against s3rver)', function () {
  describe('the blob store contract', function () {
    let server: TestS3Server;
    let store: S3BlobStore;
    // 20 MiB: three parts of 8 MiB at most, so the multipart path is the one checked
    behavesAsBlobStore(
      async () => {
        server = await startS3Server();
        store = new S3BlobStore(server.options('gz/'));
        return {
          store,
          stored: () => storedIn(server, 'gz/'),
          dispose: async () => {
            store.close();
            await server.close();
          },
        };
      },
      { bodyBytes: 20 * 1024 * 1024 + 17 },
    );
  });

  describe('multipart uploads, the key prefix and the service going down', function () {
    let server: TestS3Server;
    let store: S3BlobStore;

    beforeEach(async function () {
      server = await startS3Server();
      store = new S3BlobStore(server.options());
    });
    afterEach(async function () {
      store.close();
      await server.close();
    });

    it('when a body passes maxBytes after parts were sent, then the multipart upload is aborted and nothing is left', async function () {
      const body = crypto.randomBytes(PART_SIZE + 2 * 1024 * 1024);
      await assert.rejects(store.put('bids/big.cms', chunked(body), { maxBytes: PART_SIZE + 1024 * 1024 }), (err) => PayloadTooLarge.is(err));
      assert.equal(server.aborts(), 1, 'AbortMultipartUpload was sent');
      assert.deepEqual(await storedIn(server), []);
      assert.equal(await store.stat('bids/big.cms'), null);
    });

    it('when the source fails after parts were sent, then its error surfaces, the upload is aborted and nothing is left', async function () {
      async function* cut() {
        yield* chunked(crypto.randomBytes(PART_SIZE + 1024 * 1024)) as AsyncIterable<Buffer>;
        throw new Error('client disconnected');
      }
      await assert.rejects(store.put('bids/cut.cms', Readable.from(cut())), /client disconnected/);
      assert.equal(server.aborts(), 1, 'AbortMultipartUpload was sent');
      assert.deepEqual(await storedIn(server), []);
    });

    it('when a put over an existing blob fails, then the blob stays as it was', async function () {
      await store.put('bids/b.cms', Buffer.from('the first, whole'));
      async function* cut() {
        yield* chunked(crypto.randomBytes(PART_SIZE + 1024)) as AsyncIterable<Buffer>;
        throw new Error('client disconnected');
      }
      await assert.rejects(store.put('bids/b.cms', Readable.from(cut())), /client disconnected/);
      assert.equal((await readAll(await store.get('bids/b.cms'))).toString(), 'the first, whole');
      assert.deepEqual(await storedIn(server), ['bids/b.cms']);
    });

    it('when a key prefix is set, then every object key carries it and only it', async function () {
      const prefixed = new S3BlobStore(server.options('gz/tenant-1/'));
      try {
        const res = await prefixed.put('receipts/r.pdf', Buffer.from('receipt'));
        assert.deepEqual(res, { key: 'receipts/r.pdf', size: 7, sha256: sha256('receipt') });
        assert.deepEqual(await server.listKeys(), ['gz/tenant-1/receipts/r.pdf']);
        assert.equal(await store.stat('receipts/r.pdf'), null, 'the same key without the prefix is another object');
        assert.deepEqual(await prefixed.stat('receipts/r.pdf'), { size: 7 });
      } finally {
        prefixed.close();
      }
    });

    it('when the service is down, then ping says why (no secret in it), and a put fails leaving the caller an error', async function () {
      assert.equal(await store.ping(), 'ok');
      await server.stop();
      const down = await store.ping();
      assert.notEqual(down, 'ok');
      assert.match(down, /ECONNREFUSED/);
      assert.doesNotMatch(down, /S3RVER/, 'the credentials are not in the message');
      await assert.rejects(store.put('bids/x.cms', Buffer.from('x')), /ECONNREFUSED/);
    });

    it('when the bucket does not exist, then ping says so', async function () {
      const other = new S3BlobStore({ ...server.options(), bucket: 'gz-missing' });
      try {
        assert.match(await other.ping(), /HTTP 404/);
      } finally {
        other.close();
      }
    });
  });

  describe('configuration', function () {
    const s3 = { BLOB_STORE: 's3', S3_BUCKET: 'gz-bids', S3_ENDPOINT: 'http://minio.internal:9000', S3_FORCE_PATH_STYLE: 'true' } as const;

    it('when BLOB_STORE=s3 is configured, then createBlobStore makes an S3 store on that bucket and prefix', function () {
      const config = loadConfig({ ...s3, S3_ACCESS_KEY_ID: 'AKID', S3_SECRET_ACCESS_KEY: 'a-secret', S3_KEY_PREFIX: 'gz/' });
      assert.equal(config.blobStore, 's3');
      assert.deepEqual(config.s3, {
        endpoint: 'http://minio.internal:9000',
        region: 'us-east-1',
        bucket: 'gz-bids',
        accessKeyId: 'AKID',
        secretAccessKey: 'a-secret',
        forcePathStyle: true,
        keyPrefix: 'gz/',
      });
      const store = createBlobStore(config);
      assert.ok(store instanceof S3BlobStore);
      assert.equal(store.bucket, 'gz-bids');
      assert.equal(store.objectKey('bids/t/b.cms'), 'gz/bids/t/b.cms');
      assert.doesNotMatch(inspect(store, { depth: 8 }), /a-secret/, 'printing the store (as a log line might) shows no secret');
      store.close();
    });

    it('when BLOB_STORE is unset, then the local store is used', function () {
      assert.equal(loadConfig({ BLOB_STORE: '' }).blobStore, 'local');
      assert.ok(!(createBlobStore(loadConfig({ BLOB_STORE: '' })) instanceof S3BlobStore));
    });

    it('when the S3 settings are incomplete or invalid, then a ConfigError names the key, never the secret', function () {
      const refused = (overrides: Parameters<typeof loadConfig>[0], key: string) =>
        assert.throws(
          () => loadConfig(overrides),
          (err: unknown) => err instanceof ConfigError && err.message.includes(key) && !err.message.includes('a-secret'),
          key,
        );
      refused({ ...s3, S3_BUCKET: '' }, 'S3_BUCKET');
      refused({ ...s3, S3_BUCKET: 'Not_A_Bucket' }, 'S3_BUCKET');
      refused({ ...s3, S3_SECRET_ACCESS_KEY: 'a-secret' }, 'S3_ACCESS_KEY_ID');
      refused({ ...s3, S3_ACCESS_KEY_ID: 'AKID', S3_SECRET_ACCESS_KEY: 'a-secret', S3_KEY_PREFIX: 'gz' }, 'S3_KEY_PREFIX');
      refused({ ...s3, S3_KEY_PREFIX: '../gz/' }, 'S3_KEY_PREFIX');
      refused({ ...s3, S3_ENDPOINT: 'not a url' }, 'S3_ENDPOINT');
      refused({ ...s3, BLOB_STORE: 'gcs' }, 'BLOB_STORE');
    });
  });
});
