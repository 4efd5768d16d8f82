/** submit: the platform calls of the upload, with failures told apart. */
import type fs from 'node:fs';
import { CliExit, EXIT_FAILED } from '../../context';
import { reasonOf } from './shared';

/** The platform answered with `{ error: { code, message, details } }`. */
export class PlatformRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }

  describe(): string {
    return `平台拒绝请求 / Request refused by the platform (HTTP ${this.status}): ${this.code}: ${this.message}`;
  }
}

/** Worth trying again: the network failed, timed out, or the server was unavailable. */
export class TransientFailure extends Error {}

/** A problem on this machine while sending (the file changed or could not be read). */
export class LocalFailure extends Error {}

const JSON_TIMEOUT_MS = 30_000;
/** No byte taken by the connection for this long: give the chunk up. */
const CHUNK_IDLE_MS = 120_000;
/** After the last byte of the envelope the server assembles and checks it all: allow it time. */
const FINAL_RESPONSE_MS = 30 * 60_000;

export interface ChunkAnswer {
  offset: number;
  complete: boolean;
  submission?: unknown;
}

export interface SubmissionView {
  bidId: string;
  sectionId?: string;
  receiptSerial: string;
  auditSeq: number | undefined;
  token: Buffer;
  supersededBidId: string | null;
}

export class UploadClient {
  constructor(
    private readonly fetchImpl: typeof fetch,
    readonly server: string,
    private readonly token: string,
  ) {}

  private async exchange(method: string, apiPath: string, init: { body?: RequestInit['body']; headers?: Record<string, string>; signal?: AbortSignal; duplex?: boolean }): Promise<{ status: number; type: string; body: Buffer }> {
    const url = this.server + apiPath;
    const headers: Record<string, string> = { Accept: 'application/json, */*;q=0.1', Authorization: `Bearer ${this.token}`, ...init.headers };
    try {
      const requestInit: RequestInit & { duplex?: 'half' } = {
        method,
        headers,
        body: init.body,
        signal: init.signal ?? AbortSignal.timeout(JSON_TIMEOUT_MS),
      };
      if (init.duplex) requestInit.duplex = 'half';
      const res = await this.fetchImpl(url, requestInit);
      const body = Buffer.from(await res.arrayBuffer());
      const type = res.headers.get('content-type') ?? '';
      if (!res.ok) throw this.failure(res.status, res.statusText, type, body);
      return { status: res.status, type, body };
    } catch (e) {
      if (e instanceof PlatformRefusal || e instanceof TransientFailure || e instanceof LocalFailure) throw e;
      const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
      if (cause instanceof LocalFailure) throw cause;
      if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
        throw new TransientFailure(`请求超时 / request timed out`);
      }
      throw new TransientFailure(`无法连接平台 / cannot reach the platform (${cause?.code ?? cause?.message ?? reasonOf(e)})`);
    }
  }

  private failure(status: number, statusText: string, type: string, body: Buffer): Error {
    let parsed: unknown;
    if (/json/i.test(type)) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
    const err = typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
    const transientStatus = status >= 500 || status === 429 || status === 408;
    if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') {
      const { code, message, details } = err as { code: string; message?: unknown; details?: unknown };
      if (transientStatus) return new TransientFailure(`平台暂时不可用 / platform unavailable (HTTP ${status} ${code})`);
      return new PlatformRefusal(status, code, String(message ?? ''), typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {});
    }
    if (transientStatus) return new TransientFailure(`平台暂时不可用 / platform unavailable (HTTP ${status} ${statusText})`);
    return new PlatformRefusal(status, `HTTP_${status}`, statusText || 'unexpected answer', {});
  }

  async json<T>(method: 'GET' | 'POST' | 'DELETE', apiPath: string, body?: unknown): Promise<T> {
    const r = await this.exchange(method, apiPath, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    });
    if (r.status === 204 || r.body.length === 0) return undefined as T;
    try {
      return JSON.parse(r.body.toString('utf8')) as T;
    } catch {
      throw new TransientFailure(`平台返回的 JSON 无法解析 / malformed JSON from the platform`);
    }
  }

  async binary(apiPath: string): Promise<Buffer> {
    return (await this.exchange('GET', apiPath, { headers: { Accept: '*/*' } })).body;
  }

  /** Sends bytes [offset, end) of the open file; `onSent` follows the bytes the connection takes. */
  async patchChunk(uploadId: string, file: fs.promises.FileHandle, offset: number, end: number, size: number, onSent: (position: number) => void): Promise<ChunkAnswer> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new DOMException('chunk timed out', 'TimeoutError')), ms);
    };
    let position = offset;
    const PIECE = 256 * 1024;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          arm(CHUNK_IDLE_MS);
          const n = Math.min(PIECE, end - position);
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await file.read(buf, 0, n, position);
          if (bytesRead !== n) {
            // fetch rejects with this as the cause; exchange() turns it back into a LocalFailure
            throw new LocalFailure('数字信封文件在上传中被改动或截断 / the envelope file changed or was truncated during the upload');
          }
          position += n;
          c.enqueue(buf);
          onSent(position);
          if (position >= end) {
            c.close();
            arm(end >= size ? FINAL_RESPONSE_MS : CHUNK_IDLE_MS);
          }
        },
      },
      { highWaterMark: 0 },
    );
    arm(CHUNK_IDLE_MS);
    try {
      const r = await this.exchange('PATCH', `/api/v1/bid-uploads/${encodeURIComponent(uploadId)}`, {
        body,
        duplex: true,
        signal: controller.signal,
        headers: {
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(end - offset),
        },
      });
      const answer = JSON.parse(r.body.toString('utf8')) as Partial<ChunkAnswer>;
      if (typeof answer.offset !== 'number' || typeof answer.complete !== 'boolean') throw new TransientFailure('unexpected answer to a chunk');
      return answer as ChunkAnswer;
    } catch (e) {
      if (e instanceof SyntaxError) throw new TransientFailure('malformed answer to a chunk');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function parseSubmission(value: unknown): SubmissionView | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as { bid?: { id?: unknown; sectionId?: unknown }; receipt?: { serialHex?: unknown; auditSeq?: unknown; token?: unknown }; supersededBidId?: unknown };
  if (typeof s.bid?.id !== 'string' || typeof s.receipt?.token !== 'string' || typeof s.receipt.serialHex !== 'string') return undefined;
  return {
    bidId: s.bid.id,
    sectionId: typeof s.bid.sectionId === 'string' ? s.bid.sectionId : undefined,
    receiptSerial: s.receipt.serialHex,
    auditSeq: typeof s.receipt.auditSeq === 'number' ? s.receipt.auditSeq : undefined,
    token: Buffer.from(s.receipt.token, 'base64'),
    supersededBidId: typeof s.supersededBidId === 'string' ? s.supersededBidId : null,
  };
}

/** The upload completed but its answer was lost: find the bid by its digest and fetch the receipt. */
export async function recoverSubmission(client: UploadClient, tenderId: string, sectionId: string, sha256: string): Promise<SubmissionView> {
  const list = await client.json<unknown>('GET', `/api/v1/bids?tenderId=${encodeURIComponent(tenderId)}`);
  const bids = Array.isArray(list) ? (list as Array<Record<string, unknown>>) : [];
  // the current bid first (the same envelope may have been sent twice), then the latest
  const rank = (b: Record<string, unknown>) => (b.status === 'current' ? 1 : 0);
  const bid = bids
    .filter((b) => b.envelopeSha256 === sha256 && b.sectionId === sectionId)
    .sort((a, b) => rank(b) - rank(a) || String(b.receivedAt).localeCompare(String(a.receivedAt)))[0];
  if (!bid || typeof bid.id !== 'string' || typeof bid.receiptSerial !== 'string') {
    throw new CliExit(EXIT_FAILED, '上传已完成，但平台上找不到对应的投标文件 / The upload is complete but no bid with this digest was found on the platform');
  }
  const token = await client.binary(`/api/v1/bids/${encodeURIComponent(bid.id)}/receipt.tsr`);
  return {
    bidId: bid.id,
    sectionId,
    receiptSerial: bid.receiptSerial,
    auditSeq: typeof bid.auditSeq === 'number' ? bid.auditSeq : undefined,
    token,
    supersededBidId: null,
  };
}
