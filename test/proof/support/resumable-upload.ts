/**
 * What the bidder's tool does with a sealed bid on a bad line, through the proxy: start an upload session, send the
 * envelope in chunks with Upload-Offset, and after any failure (a dropped connection, an instance gone, a 502) ask
 * the server how far it got and go on from there. A failure after the server recorded the bid is seen on the next
 * status call (complete, with the bid's id), so the bid is never sent twice.
 */
import http from 'node:http';
import type { SealedBid } from '../../support/factories';

export interface UploadOutcome {
  uploadId: string;
  bidId: string;
  /** Requests that failed on the way and were resumed from the server's offset. */
  resumes: number;
  /** The receipt, when the completing request's answer arrived (not when it was lost and the status said complete). */
  receipt: { serialHex: string; auditSeq: number; token: string } | null;
}

export interface UploadPlan {
  chunkBytes: number;
  /** Cut this many bytes into the first chunk: the line drops with the request half sent. */
  dropAfterBytes?: number;
  /** Called once the given byte offset has been stored (the rush uses it to time a process kill). */
  onProgress?: (offset: number) => void;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function request(base: string, method: string, path: string, token: string, opts: { json?: unknown; bytes?: Buffer; offset?: number; cutAfter?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Authorization: `Bearer ${token}` };
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = 'application/json';
    } else if (opts.bytes) {
      payload = opts.bytes;
      headers['Content-Type'] = 'application/offset+octet-stream';
      headers['Upload-Offset'] = String(opts.offset ?? 0);
    }
    if (payload) headers['Content-Length'] = payload.length;
    const req = http.request(`${base}/api/v1${path}`, { method, headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('answer cut off')));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    if (payload && opts.cutAfter !== undefined) {
      // the line drops: half the chunk goes out, then the connection is gone
      req.write(payload.subarray(0, opts.cutAfter), () => setImmediate(() => req.destroy(new Error('line dropped'))));
      return;
    }
    req.end(payload);
  });
}

const MAX_FAILURES = 200;

export async function uploadResumable(
  base: string,
  token: () => string,
  target: { tenderId: string; sectionId: string },
  sealed: SealedBid,
  plan: UploadPlan,
): Promise<UploadOutcome> {
  let failures = 0;
  let resumes = 0;
  const failed = async (what: string, detail: unknown) => {
    if (++failures > MAX_FAILURES) throw new Error(`upload gave up after ${MAX_FAILURES} failures; last: ${what} ${JSON.stringify(detail)}`);
    // a short pause before trying again, as a client behind a balancer does (not waiting for platform time)
    await new Promise((r) => setTimeout(r, 50));
  };

  let uploadId: string | undefined;
  while (!uploadId) {
    try {
      const r = await request(base, 'POST', `/tenders/${target.tenderId}/sections/${target.sectionId}/bid-uploads`, token(), {
        json: { size: sealed.envelope.length, sha256: sealed.sha256, signature: sealed.signature },
      });
      if (r.status === 201) uploadId = r.body.uploadId as string;
      else if (r.status >= 500) await failed('start', r.body);
      else throw new Error(`upload refused at start: ${r.status} ${JSON.stringify(r.body)}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('upload refused')) throw err;
      await failed('start', String(err));
    }
  }

  let dropPending = plan.dropAfterBytes !== undefined;
  for (;;) {
    let status: Reply;
    try {
      status = await request(base, 'GET', `/bid-uploads/${uploadId}`, token());
    } catch (err) {
      await failed('status', String(err));
      continue;
    }
    if (status.status !== 200) {
      if (status.status >= 500) {
        await failed('status', status.body);
        continue;
      }
      throw new Error(`upload status refused: ${status.status} ${JSON.stringify(status.body)}`);
    }
    if (status.body.complete) return { uploadId, bidId: status.body.bidId as string, resumes, receipt: null };
    if (status.body.status !== 'open') throw new Error(`upload ended ${String(status.body.status)}: ${String(status.body.failureCode)}`);
    const offset = status.body.offset as number;
    plan.onProgress?.(offset);
    const end = Math.min(offset + plan.chunkBytes, sealed.envelope.length);
    const cutAfter = dropPending ? Math.min(plan.dropAfterBytes!, end - offset - 1) : undefined;
    dropPending = false;
    try {
      const r = await request(base, 'PATCH', `/bid-uploads/${uploadId}`, token(), { bytes: sealed.envelope.subarray(offset, end), offset, cutAfter });
      if (r.status === 200 && r.body.complete) {
        const submission = r.body.submission as { bid: { id: string }; receipt: UploadOutcome['receipt'] };
        return { uploadId, bidId: submission.bid.id, resumes, receipt: submission.receipt };
      }
      if (r.status === 200 || r.status === 204) continue;
      // another attempt's bytes arrived first, or the instance died: the status says where to go on from
      if (r.status === 409 || r.status >= 500) {
        resumes += 1;
        await failed('chunk', r.body);
        continue;
      }
      throw new Error(`chunk refused: ${r.status} ${JSON.stringify(r.body)}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('chunk refused')) throw err;
      resumes += 1;
      await failed('chunk', String(err));
    }
  }
}
