/**
 * A bidder's resumable upload as the bidder's tool makes it, for the store-fault proofs: ranged chunks, and after
 * any failed request the server's stored offset is asked and the upload goes on from there. When every byte is
 * stored but no bid was made (the store went away while the last chunk was being checked), an empty chunk at the
 * end asks the platform to finish the upload from the parts it holds.
 */
import type { TestApp } from '../../support/app';
import { bearer, type Member, type SealedBid } from '../../support/factories';
import { pollUntil } from '../../support/poll';

export interface UploadOutcome {
  uploadId: string;
  bidId: string;
  receiptSerial: string;
  /** Requests that failed (5xx) and were followed by a resume from the stored offset. */
  interruptions: number;
  /** The stored offsets the upload resumed from after an interruption. */
  resumedFrom: number[];
  /** Whether the bid came back by asking after it (the answer carrying it was lost). */
  recovered: boolean;
}

const RESUME_TIMEOUT_MS = 30_000;

export async function uploadResumably(
  t: TestApp,
  member: Member,
  tenderId: string,
  sectionId: string,
  sealed: SealedBid,
  opts: { chunkBytes: number; onChunk?: () => void },
): Promise<UploadOutcome> {
  const size = sealed.envelope.length;
  const start = await retrying(() =>
    t.http
      .post(`/api/v1/tenders/${tenderId}/sections/${sectionId}/bid-uploads`)
      .set(bearer(member.token))
      .send({ size, sha256: sealed.sha256, signature: sealed.signature }),
  );
  if (start.status !== 201) throw new Error(`upload refused: ${start.status} ${JSON.stringify(start.body)}`);
  const uploadId: string = start.body.uploadId;
  let offset = 0;
  let interruptions = 0;
  const resumedFrom: number[] = [];
  const stored = () =>
    retrying(() => t.http.get(`/api/v1/bid-uploads/${uploadId}`).set(bearer(member.token))).then((res) => {
      if (res.status !== 200) throw new Error(`upload status ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as { offset: number; complete: boolean; status: string; bidId: string | null; failureCode: string | null };
    });
  for (let requests = 0; requests < 1000; requests++) {
    const end = Math.min(size, offset + opts.chunkBytes);
    const res = await t.http
      .patch(`/api/v1/bid-uploads/${uploadId}`)
      .set(bearer(member.token))
      .set('Upload-Offset', String(offset))
      .set('Content-Type', 'application/offset+octet-stream')
      .send(sealed.envelope.subarray(offset, end));
    if (res.status === 200) {
      opts.onChunk?.();
      offset = res.body.offset;
      if (res.body.complete) {
        return { uploadId, bidId: res.body.submission.bid.id, receiptSerial: res.body.submission.receipt.serialHex, interruptions, resumedFrom, recovered: false };
      }
      continue;
    }
    if (res.status === 409 && res.body?.error?.code === 'UPLOAD_OFFSET_MISMATCH') {
      offset = res.body.error.details.offset;
      continue;
    }
    if (res.status < 500) throw new Error(`chunk at ${offset} refused: ${res.status} ${JSON.stringify(res.body)}`);
    // the platform could not finish the request (its database went away): ask what it kept and go on from there
    interruptions += 1;
    const st = await stored();
    if (st.complete && st.bidId) {
      const bid = await retrying(() => t.http.get(`/api/v1/bids/${st.bidId}`).set(bearer(member.token)));
      return { uploadId, bidId: st.bidId, receiptSerial: bid.body.receiptSerial ?? bid.body.receipt?.serialHex, interruptions, resumedFrom, recovered: true };
    }
    if (st.status !== 'open') throw new Error(`upload ${uploadId} ended as ${st.status} (${st.failureCode}) after the store came back`);
    offset = st.offset;
    resumedFrom.push(offset);
  }
  throw new Error(`upload ${uploadId} did not finish`);
}

/** Repeats a request while the platform answers 5xx (its store is down), until it answers otherwise. */
async function retrying(request: () => PromiseLike<import('superagent').Response>): Promise<import('superagent').Response> {
  return pollUntil('the platform to answer again', async () => {
    const res = await request();
    return res.status >= 500 ? null : res;
  }, { timeoutMs: RESUME_TIMEOUT_MS, intervalMs: 50 });
}
