/**
 * Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, OSS, COS, …), for several API instances and
 * workers sharing one store.
 *
 * A put streams the body through a ByteMeter (SHA-256, size, maxBytes) into a multipart Upload: parts of PART_SIZE,
 * QUEUE_SIZE of them in flight at once, so one put holds about (QUEUE_SIZE + 1) × PART_SIZE = 24 MiB of the body in
 * memory (the parts being sent plus the one being filled; briefly up to one part more while a part's chunks are
 * joined), whatever the blob's size; a body that fits in one part is sent with a single PutObject. The service's
 * key needs PutObject, GetObject, DeleteObject and AbortMultipartUpload on the prefix, and ListBucket (HeadBucket). A body over maxBytes, a source that fails or a refused part aborts the
 * upload (AbortMultipartUpload): no object is made, and an existing object under the key is left as it was, since S3
 * replaces an object only when an upload completes. If the process dies mid-upload the abort never happens: the
 * bucket needs a lifecycle rule that aborts incomplete multipart uploads (e.g. after one day) so their parts go.
 *
 * Resumable bid uploads need nothing more: every chunk a bidder sends is its own blob (uploads/<id>/<offset>-…) and
 * the upload's state is in the database, so whichever instance takes the next chunk finds the earlier ones in the
 * bucket; the chunk that completes the bid streams the parts, in order, into the bid's object. Nothing is appended
 * to and nothing needs local disk.
 *
 * Keys are validated as by the local store (one pattern for both), then prefixed with keyPrefix.
 */
import { Readable, pipeline } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PayloadTooLarge } from '../errors';
import { BlobNotFound } from './blobs.errors';
import { ByteMeter, OverMaxBytes } from './byte-meter';
import type { BlobStore, PutResult } from './index';
import { validateBlobKey } from './local-blob-store';

/** Size of every part but the last (S3 allows 5 MiB to 5 GiB; 8 MiB × 10,000 parts allows 78 GiB blobs). */
export const PART_SIZE = 8 * 1024 * 1024;
/** Parts sent at once by one put. */
export const QUEUE_SIZE = 2;
/** How long connecting to the service may take before the attempt counts as failed (then retried by the SDK). */
const CONNECT_TIMEOUT_MS = 5000;
/** The longest a ping waits, retries included: a health check must answer. */
const PING_TIMEOUT_MS = 5000;

export interface S3BlobStoreOptions {
  /** Unset: AWS S3 for the region. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both or neither; neither: the SDK's default credential chain (environment, instance or task role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Prepended to every key: empty, or segments each ending with '/'. */
  keyPrefix: string;
}

export class S3BlobStore implements BlobStore {
  /** The client holds the credentials; the store keeps no copy of the secret. */
  private readonly client: S3Client;
  readonly bucket: string;
  readonly keyPrefix: string;

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    this.keyPrefix = opts.keyPrefix;
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials:
        opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
      // Checksums only where S3 requires them: many S3-compatible services refuse the CRC headers and trailers newer
      // SDKs add by default. The stored bytes are checked by the SHA-256 computed here, and the parts are signed.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
    });
  }

  /** The object key of a blob key (validated first). */
  objectKey(key: string): string {
    validateBlobKey(key);
    return this.keyPrefix + key;
  }

  async put(key: string, body: NodeJS.ReadableStream | Buffer, opts: { maxBytes?: number } = {}): Promise<PutResult> {
    const objectKey = this.objectKey(key);
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    if (Buffer.isBuffer(body) && body.length > maxBytes) throw PayloadTooLarge(undefined, { maxBytes });
    const meter = new ByteMeter(maxBytes);
    // pipeline, not pipe: an error on either side destroys the other, so a failing source fails the upload's read
    // and an over-size body or a failed upload stops reading the source (e.g. the bidder's request)
    pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, meter, () => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: meter },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // the abort is done below, so that the error that caused it is the one thrown even if the abort fails
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (err) {
      meter.destroy();
      await this.abortMultipart(objectKey, upload.uploadId, err);
      if (err instanceof OverMaxBytes) throw PayloadTooLarge(undefined, { maxBytes });
      throw err;
    }
    return { key, size: meter.bytes, sha256: meter.sha256() };
  }

  /** Drops the parts of a failed multipart upload; an abort that fails is attached to the error as its cause. */
  private async abortMultipart(objectKey: string, uploadId: string | undefined, err: unknown): Promise<void> {
    if (!uploadId) return;
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }));
    } catch (abortErr) {
      if (err instanceof Error && err.cause === undefined) err.cause = abortErr;
    }
  }

  async get(key: string): Promise<NodeJS.ReadableStream> {
    const objectKey = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw BlobNotFound({ key });
      throw err;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const objectKey = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async ping(): Promise<'ok' | string> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      return 'ok';
    } catch (err) {
      return describeS3Error(err);
    }
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

/** Name, HTTP status and message of a failed call (HeadBucket answers without a body, so its message says little). */
function describeS3Error(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const status = statusOf(err);
  return `${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message}`;
}
