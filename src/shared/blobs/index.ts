/**
 * Blob storage for encrypted bids and generated documents. Never holds a whole blob in memory: bodies stream in and out.
 *
 * The interface is shaped so an S3-compatible object store can implement it:
 * - put    = PutObject (or a multipart upload for large bodies, streaming parts while hashing; reject and
 *            AbortMultipartUpload when maxBytes is passed), returning the size and SHA-256 computed on the way;
 * - get    = GetObject, returning the response body stream;
 * - stat   = HeadObject (ContentLength; null on 404);
 * - delete = DeleteObject (deleting a missing key is not an error, as in S3);
 * - ping   = HeadBucket.
 * Keys are object keys: a strict pattern (see local-blob-store) that maps safely onto both a file path and an S3 key.
 */
import type { Config } from '../../config';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';

export interface PutResult {
  key: string;
  size: number;
  /** Lower-case hex SHA-256 of the stored bytes. */
  sha256: string;
}

export interface BlobStore {
  /** Stores the whole body under `key`, or nothing at all (an error midway or a body over maxBytes leaves no blob). */
  put(key: string, body: NodeJS.ReadableStream | Buffer, opts?: { maxBytes?: number }): Promise<PutResult>;
  /** A stream of the blob; BlobNotFound when there is none. */
  get(key: string): Promise<NodeJS.ReadableStream>;
  stat(key: string): Promise<{ size: number } | null>;
  delete(key: string): Promise<void>;
  ping(): Promise<'ok' | string>;
}

/** BLOB_STORE picks: the local directory (the default, and what a config without blobStore means) or the S3 bucket. */
export function createBlobStore(config: Pick<Config, 'blobDir'> & Partial<Pick<Config, 'blobStore' | 's3'>>): BlobStore {
  if (config.blobStore === 's3') {
    const s3 = config.s3;
    // loadConfig refuses BLOB_STORE=s3 without a bucket; this guards a config built by hand
    if (!s3?.bucket) throw new Error('BLOB_STORE=s3 needs S3_BUCKET');
    return new S3BlobStore({ ...s3, bucket: s3.bucket });
  }
  return new LocalBlobStore(config.blobDir);
}

export { BlobKeyInvalid, BlobNotFound } from './blobs.errors';
