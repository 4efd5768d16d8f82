/**
 * A real S3-protocol server for the tests: s3rver (@20minutes/s3rver) in this process, on a free loopback port,
 * keeping its bucket in a temporary directory. No real S3 is reachable here.
 *
 * s3rver does not implement AbortMultipartUpload (it answers 405), so this wrapper answers that one request itself
 * the way S3 does — 204 and the upload's parts gone, NoSuchUpload (404) for an unknown upload — on s3rver's own
 * files, and counts the aborts. ListMultipartUploads is not implemented either: openUploads() reads s3rver's directory
 * of uploads in progress instead.
 *
 * Signatures: s3rver checks those of object requests (put, parts, get, head, delete). For bucket requests (HeadBucket,
 * ListObjects) it computes the canonical URI as /bucket where this SDK signs /bucket/, and would refuse them all; the
 * wrapper passes those on without their Authorization header (s3rver serves them anonymously), and checks no
 * signature on the aborts it answers.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3BlobStoreOptions } from '../../src/shared/blobs/s3-blob-store';

// s3rver is CommonJS and ships no types
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as new (opts: Record<string, unknown>) => S3rverApp;

interface S3rverApp {
  callback(): http.RequestListener;
  configureBuckets(): Promise<unknown>;
  logger: { close(): void };
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
}

/** s3rver's default credentials. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** The store's options for this server (path style, s3rver's credentials). */
  options(keyPrefix?: string): S3BlobStoreOptions;
  /** Every object key in the bucket (all prefixes). */
  listKeys(): Promise<string[]>;
  /** Multipart uploads begun and neither completed nor aborted. */
  openUploads(): string[];
  /** AbortMultipartUpload requests answered so far. */
  aborts(): number;
  /** Stops answering (the data stays), as a service that went down. */
  stop(): Promise<void>;
  /** Stops and removes the data. */
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'gz-test'): Promise<TestS3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-s3-'));
  const s3rver = new S3rver({ silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  await s3rver.configureBuckets();
  const uploadsDir = s3rver.store.getResourcePath(bucket, undefined, 'uploads');
  const forward = s3rver.callback();
  let aborts = 0;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3.test');
    const uploadId = url.searchParams.get('uploadId');
    if (/^\/[^/]+\/?$/.test(url.pathname)) delete req.headers.authorization;
    if (req.method !== 'DELETE' || uploadId === null) return forward(req, res);
    // AbortMultipartUpload: DELETE /<bucket>/<key>?uploadId=<id>
    const [, reqBucket, ...keyParts] = url.pathname.split('/');
    const key = keyParts.map(decodeURIComponent).join('/');
    const uploadDir = path.join(uploadsDir, path.basename(uploadId));
    let knownKey: string | null = null;
    try {
      knownKey = fs.readFileSync(path.join(uploadDir, 'key'), 'utf8');
    } catch {
      // unknown upload
    }
    req.resume();
    if (reqBucket !== bucket || knownKey !== key) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
      return;
    }
    fs.rmSync(uploadDir, { recursive: true, force: true });
    aborts += 1;
    res.writeHead(204);
    res.end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const options = (keyPrefix = ''): S3BlobStoreOptions => ({
    endpoint,
    region: 'us-east-1',
    bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    forcePathStyle: true,
    keyPrefix,
  });
  const lister = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    lister.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    s3rver.logger.close();
  };

  return {
    endpoint,
    bucket,
    options,
    async listKeys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await lister.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        for (const o of page.Contents ?? []) keys.push(o.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    openUploads() {
      return fs.existsSync(uploadsDir) ? fs.readdirSync(uploadsDir) : [];
    },
    aborts: () => aborts,
    stop,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
