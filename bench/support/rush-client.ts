/**
 * The bidders of the deadline rush, in a process of their own (spawned by bench/deadline-rush.bench.ts with an IPC
 * channel), so the server's process does none of the clients' work.
 *
 * 1. Seals one envelope per bidder of the world file (crypto/envelope encryptStream to the bidder's and the tender's
 *    opening certificate, signed with the bidder's key) into RUSH_WORK_DIR, then tells the parent `sealed`.
 * 2. On `go` (with the deadline as epoch ms) uploads them all at once over loopback with node:http, one connection
 *    per request and no keep-alive (`agent: false`): every bidder is another machine on the internet, and a
 *    connection destroyed on purpose must not poison a pool shared with others.
 *    Roles, by index: every 20th bidder is LATE (5%): it starts its upload 2.5 s before the deadline and paces its
 *    bytes so the last one leaves 1.5 s after it; of the others every 10th is DROPPED (10%): it sends a first chunk,
 *    loses its connection halfway through the second, asks the upload's offset and PATCHes the rest, as bidtool
 *    resumes; the rest send the whole envelope in one PATCH (the server's single-pass path).
 * 3. Answers `done` with one record per bid: role, times (epoch ms), HTTP status, error code, the receipt's fields.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encryptStream } from '../../crypto/envelope';
import { signDigest } from '../../crypto/signature';
import { seededRandom } from '../../src/shared/seeded-random';
import { parseTimeStampResponse } from '../../crypto/timestamp';
import { MiB, pseudoRandomSource } from './data';
import type { RushWorld } from './rush-server';

export type RushRole = 'normal' | 'dropped' | 'late';

export interface SealedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface RushBidResult {
  index: number;
  role: RushRole;
  uploadId: string | null;
  size: number;
  /** The client's SHA-256 of the envelope it sent. */
  sha256: string;
  /** Epoch ms (performance.timeOrigin + now): first body byte handed to a request, last one flushed, answer parsed. */
  firstByteMs: number;
  lastByteMs: number;
  answerMs: number;
  status: number;
  code: string | null;
  bidId: string | null;
  /** From the answer: the bid's recorded digest, the time stamp's digest and genTime. */
  answerSha256: string | null;
  stampedSha256: string | null;
  genTime: string | null;
  /** DROPPED: the offset the server gave after the cut. */
  resumedFrom: number | null;
  error: string | null;
}

export type ClientMessage =
  | { type: 'sealed'; files: SealedFile[] }
  | { type: 'done'; results: RushBidResult[] }
  | { type: 'failed'; error: string };
export type ParentMessage = { type: 'go'; deadlineEpochMs: number };

const LATE_START_BEFORE_MS = 2_500;
const LATE_END_AFTER_MS = 1_500;
const epochNow = () => performance.timeOrigin + performance.now();
const sleepUntil = (epochMs: number) => new Promise((r) => setTimeout(r, Math.max(0, epochMs - epochNow())));

export function roleOf(index: number): RushRole {
  if (index % 20 === 19) return 'late';
  if (index % 10 === 4) return 'dropped';
  return 'normal';
}

function send(msg: ClientMessage): void {
  process.send!(msg);
}

async function seal(world: RushWorld, index: number, size: number, dir: string): Promise<SealedFile> {
  const bidder = world.bidders[index]!;
  const file = path.join(dir, `bid-${String(index).padStart(4, '0')}.cms`);
  const out = fs.createWriteStream(file, { highWaterMark: MiB });
  const sealed = await encryptStream(pseudoRandomSource(size), out, {
    recipients: [bidder.encryptionCertificatePem, world.openingCertificatePem],
    size,
  });
  if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
  return { path: file, size: sealed.length, sha256: sealed.sha256 };
}

interface Answer {
  status: number;
  body: string;
  firstByteMs: number;
  lastByteMs: number;
  answerMs: number;
}

/**
 * One PATCH of bytes [start, end) of `file` at Upload-Offset `start`. `cutAfter`: destroy the connection after that
 * many body bytes (rejects). `paceUntilMs`: spread the bytes evenly until that epoch instant (1 MiB at a time).
 */
function patch(
  port: number,
  token: string,
  uploadId: string,
  file: string,
  start: number,
  end: number,
  opts: { cutAfter?: number; paceUntilMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let firstByteMs = 0;
    let lastByteMs = 0;
    let sent = 0;
    let settled = false;
    const done = (err: Error | null, answer?: Answer) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PATCH',
      path: `/api/v1/bid-uploads/${uploadId}`,
      agent: false,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(end - start),
        'Upload-Offset': String(start),
      },
    });
    req.on('error', (err) => done(err));
    req.on('finish', () => {
      lastByteMs = epochNow();
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', (err) => done(err));
      res.on('end', () => {
        const answerMs = epochNow();
        done(null, { status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), firstByteMs, lastByteMs: lastByteMs || answerMs, answerMs });
      });
    });
    const total = end - start;
    const t0 = epochNow();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (firstByteMs === 0) firstByteMs = epochNow();
        if (opts.cutAfter !== undefined && sent + chunk.length >= opts.cutAfter) {
          const head = chunk.subarray(0, opts.cutAfter - sent);
          sent += head.length;
          req.write(head, () => req.destroy(new Error('connection cut by the benchmark')));
          cb();
          return;
        }
        sent += chunk.length;
        if (opts.paceUntilMs === undefined) {
          cb(null, chunk);
          return;
        }
        // the instant this chunk's last byte is due on an even spread from t0 to paceUntilMs
        const due = t0 + ((opts.paceUntilMs - t0) * sent) / total;
        setTimeout(() => cb(null, chunk), Math.max(0, due - epochNow()));
      },
    });
    pipeline(fs.createReadStream(file, { start, end: end - 1, highWaterMark: MiB }), meter, req).catch(() => undefined);
  });
}

async function api(port: number, token: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${urlPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text.slice(0, 300) };
  }
  return { status: res.status, json };
}

async function upload(world: RushWorld, index: number, sealed: SealedFile, signature: Buffer, deadlineEpochMs: number, startAtMs: number): Promise<RushBidResult> {
  const role = roleOf(index);
  const bidder = world.bidders[index]!;
  const result: RushBidResult = {
    index, role, uploadId: null, size: sealed.size, sha256: sealed.sha256, firstByteMs: 0, lastByteMs: 0, answerMs: 0, status: 0, code: null,
    bidId: null, answerSha256: null, stampedSha256: null, genTime: null, resumedFrom: null, error: null,
  };
  const finish = (a: Answer) => {
    result.firstByteMs ||= a.firstByteMs;
    result.lastByteMs = a.lastByteMs;
    result.answerMs = a.answerMs;
    result.status = a.status;
    let parsed: any = null;
    try {
      parsed = JSON.parse(a.body);
    } catch {
      result.error = `not JSON: ${a.body.slice(0, 200)}`;
    }
    if (a.status !== 200) {
      result.code = parsed?.code ?? parsed?.error?.code ?? null;
      return;
    }
    const sub = parsed?.submission;
    if (!parsed?.complete || !sub) {
      result.error = `answer without a receipt: ${a.body.slice(0, 200)}`;
      return;
    }
    result.bidId = sub.bid.id;
    result.answerSha256 = sub.bid.envelopeSha256;
    result.genTime = sub.receipt.genTime;
    result.stampedSha256 = parseTimeStampResponse(Buffer.from(sub.receipt.token, 'base64')).info.sha256Hex;
  };

  try {
    await sleepUntil(role === 'late' ? deadlineEpochMs - LATE_START_BEFORE_MS : startAtMs);
    const started = await api(world.port, bidder.token, 'POST', `/tenders/${world.tenderId}/sections/${world.sectionId}/bid-uploads`, {
      size: sealed.size,
      sha256: sealed.sha256,
      signature: signature.toString('base64'),
    });
    if (started.status !== 201) {
      // refused at the start (a late bidder whose start arrived after the deadline): nothing was sent
      result.status = started.status;
      result.code = started.json?.code ?? started.json?.error?.code ?? null;
      result.lastByteMs = result.answerMs = epochNow();
      return result;
    }
    const uploadId = started.json.uploadId as string;
    result.uploadId = uploadId;
    const { port } = world;
    if (role === 'normal') {
      finish(await patch(port, bidder.token, uploadId, sealed.path, 0, sealed.size));
    } else if (role === 'late') {
      finish(await patch(port, bidder.token, uploadId, sealed.path, 0, sealed.size, { paceUntilMs: deadlineEpochMs + LATE_END_AFTER_MS }));
    } else {
      // a first chunk, as bidtool sends them (8 MiB, or a third of a small envelope)
      const first = Math.min(8 * MiB, Math.floor(sealed.size / 3));
      const a1 = await patch(port, bidder.token, uploadId, sealed.path, 0, first);
      result.firstByteMs = a1.firstByteMs;
      if (a1.status !== 200) return (finish(a1), result);
      // the second request loses its connection halfway
      const cutAfter = Math.floor((sealed.size - first) / 2);
      await patch(port, bidder.token, uploadId, sealed.path, first, sealed.size, { cutAfter }).then(
        () => {
          throw new Error('the cut request was answered');
        },
        () => undefined,
      );
      const progress = await api(port, bidder.token, 'GET', `/bid-uploads/${uploadId}`);
      if (progress.status !== 200) throw new Error(`asking the offset answered HTTP ${progress.status}`);
      result.resumedFrom = progress.json.offset as number;
      finish(await patch(port, bidder.token, uploadId, sealed.path, result.resumedFrom, sealed.size));
    }
  } catch (err) {
    result.error = (err as Error).message;
    result.lastByteMs ||= epochNow();
    result.answerMs ||= epochNow();
  }
  return result;
}

async function main(): Promise<void> {
  const world = JSON.parse(fs.readFileSync(process.env.RUSH_WORLD_FILE!, 'utf8')) as RushWorld;
  const dir = process.env.RUSH_WORK_DIR!;
  const size = Number(process.env.RUSH_SIZE_BYTES);
  const n = world.bidders.length;

  // sealing is outside the timed part; two at a time keeps both cores busy (AES-GCM and the writes)
  const files: SealedFile[] = new Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < n) {
        const i = next++;
        files[i] = await seal(world, i, size, dir);
        if ((i + 1) % 50 === 0) process.stderr.write(`[rush-client] sealed ${i + 1}/${n} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
    }),
  );
  const signatures = files.map((f, i) =>
    signDigest({
      sha256Hex: f.sha256,
      certificatePem: world.bidders[i]!.signingCertificatePem,
      privateKeyPem: world.bidders[i]!.signingKeyPem,
      signingTime: new Date(world.platformTime),
    }),
  );
  // the envelopes are read back during the rush: fsynced now, so no write-back of them competes with the server's
  for (const f of files) {
    const fh = await fsp.open(f.path, 'r+');
    await fh.sync();
    await fh.close();
  }
  const go = new Promise<ParentMessage>((resolve) => process.once('message', (m) => resolve(m as ParentMessage)));
  send({ type: 'sealed', files });
  const { deadlineEpochMs } = await go;
  // Bidders arrive at seeded random instants over the first RUSH_SPREAD_SECONDS of the last minute, as on a deadline
  // morning (0: all at the same instant, a burst no real deadline sees, worth measuring on its own).
  const spreadMs = Number(process.env.RUSH_SPREAD_SECONDS ?? 0) * 1000;
  const random = seededRandom(20261126);
  const rushStart = epochNow();
  const results = await Promise.all(files.map((f, i) => upload(world, i, f, signatures[i]!, deadlineEpochMs, rushStart + random() * spreadMs)));
  send({ type: 'done', results });
  process.disconnect?.();
}

main().catch((err) => {
  try {
    send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  } finally {
    process.exitCode = 1;
  }
});

