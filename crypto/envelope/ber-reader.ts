/**
 * An incremental BER reader over a byte queue fed by a stream.
 *
 * Only the bytes of the element being looked at are buffered: values are
 * read with explicit size caps, large contents are streamed out chunk by
 * chunk (`readUpTo`) or skipped. Memory is bounded by the caps plus one
 * input chunk, whatever the size of the envelope.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ChunkSource } from './sources';
import { EnvelopeError } from './types';

export interface TlvHeader {
  cls: number;
  constructed: boolean;
  tag: number;
  /** Content length, or null for the indefinite form. */
  length: number | null;
  /** Absolute offset of the identifier octet. */
  start: number;
  /** Absolute offset just past the content (definite form only). */
  end: number | null;
  /** The identifier and length octets as read. */
  raw: Buffer;
  /** Indefinite form: set once the end-of-contents octets have been consumed. */
  eocSeen?: boolean;
}

/** Caps on buffered values: the reader holds nothing bigger. */
export const MAX_SMALL_VALUE = 64 * 1024;
const MAX_DEPTH = 32;

export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private eof = false;
  /** Absolute offset of the next unread byte. */
  pos = 0;
  /** Total bytes pulled from the source. */
  received = 0;
  private readonly hash: Hash | null;

  constructor(
    private readonly source: ChunkSource,
    opts: { sha256?: boolean } = {},
  ) {
    this.hash = opts.sha256 ? createHash('sha256') : null;
  }

  /** Hex SHA-256 of every byte received (call once, at the end). */
  digestHex(): string {
    if (!this.hash) throw new Error('hashing was not requested');
    return this.hash.digest('hex');
  }

  close(): void {
    this.source.close();
  }

  private async pull(): Promise<boolean> {
    if (this.eof) return false;
    for (;;) {
      const chunk = await this.source.next();
      if (chunk === null) {
        this.eof = true;
        return false;
      }
      if (chunk.length === 0) continue;
      this.hash?.update(chunk);
      this.received += chunk.length;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      return true;
    }
  }

  /** True when at least n bytes are buffered (pulling as needed), false at end of input. */
  async ensure(n: number): Promise<boolean> {
    while (this.buffered < n) if (!(await this.pull())) return false;
    return true;
  }

  /** True when no byte follows (consumes nothing). */
  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1));
  }

  private truncated(what: string): EnvelopeError {
    return new EnvelopeError('TRUNCATED', `the envelope ends early (at byte ${this.received}) while reading ${what}`);
  }

  /** The byte at offset i from the read position, without consuming it. */
  async peek(i: number, what: string): Promise<number> {
    if (!(await this.ensure(i + 1))) throw this.truncated(what);
    return this.peekSync(i);
  }

  /** Reads exactly n bytes (n must be small: this copies). */
  async read(n: number, what: string): Promise<Buffer> {
    if (!(await this.ensure(n))) throw this.truncated(what);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, take);
      filled += take;
      this.consumeHead(take);
    }
    return out;
  }

  /** Between 1 and max bytes, without copying (a view of an input chunk). */
  async readUpTo(max: number, what: string): Promise<Buffer> {
    if (!(await this.ensure(1))) throw this.truncated(what);
    const c = this.chunks[0]!;
    const take = Math.min(c.length, max);
    const out = c.subarray(0, take);
    this.consumeHead(take);
    return out;
  }

  /** Discards n bytes, streaming. */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.readUpTo(left, what)).length;
  }

  private consumeHead(n: number): void {
    const c = this.chunks[0]!;
    if (n === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(n);
    this.buffered -= n;
    this.pos += n;
  }

  /** Consumes n buffered bytes, across chunks. */
  private consume(n: number): void {
    let left = n;
    while (left > 0) {
      const take = Math.min(this.chunks[0]!.length, left);
      this.consumeHead(take);
      left -= take;
    }
  }

  // -------------------------------------------------------------------------
  // BER
  // -------------------------------------------------------------------------

  /** The byte at offset i from the read position if buffered, else -1. */
  private peekSync(i: number): number {
    let k = i;
    for (const c of this.chunks) {
      if (k < c.length) return c[k]!;
      k -= c.length;
    }
    return -1;
  }

  /** Parses identifier and length octets from buffered bytes; null when more bytes are needed. */
  private tryHeader(what: string): TlvHeader | null {
    let i = 0;
    const next = (): number => this.peekSync(i++);
    const id = next();
    if (id < 0) return null;
    let tag = id & 0x1f;
    if (tag === 0x1f) {
      tag = 0;
      for (let n = 0; ; n++) {
        const b = next();
        if (b < 0) return null;
        if (n >= 3 || (n === 0 && b === 0x80)) throw new EnvelopeError('MALFORMED', `bad tag number in ${what}`);
        tag = tag * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) break;
      }
    }
    const constructed = (id & 0x20) !== 0;
    const first = next();
    if (first < 0) return null;
    let length: number | null;
    if (first < 0x80) {
      length = first;
    } else if (first === 0x80) {
      if (!constructed) throw new EnvelopeError('MALFORMED', `indefinite length on a primitive element (${what})`);
      length = null;
    } else {
      const n = first & 0x7f;
      if (n === 0x7f) throw new EnvelopeError('MALFORMED', `reserved length form in ${what}`);
      let v = 0;
      for (let k = 0; k < n; k++) {
        const b = next();
        if (b < 0) return null;
        v = v * 256 + b;
        if (v > Number.MAX_SAFE_INTEGER) throw new EnvelopeError('MALFORMED', `length too large in ${what}`);
      }
      length = v;
    }
    const cls = id >> 6;
    if (cls === 0 && tag === 0 && !(constructed === false && length === 0)) {
      throw new EnvelopeError('MALFORMED', `bad end-of-contents marker in ${what}`);
    }
    const start = this.pos;
    const raw = Buffer.allocUnsafe(i);
    for (let k = 0; k < i; k++) raw[k] = this.peekSync(k);
    this.consume(i);
    return { cls, constructed, tag, length, start, end: length === null ? null : this.pos + length, raw };
  }

  /** Reads identifier and length octets. */
  async readHeader(what: string): Promise<TlvHeader> {
    for (;;) {
      const h = this.tryHeader(what);
      if (h) return h;
      if (!(await this.pull())) throw this.truncated(what);
    }
  }

  /** Reads a header and checks it against the expected class/tag. */
  async expect(cls: number, tag: number, what: string, opts: { constructed?: boolean } = {}): Promise<TlvHeader> {
    const h = await this.readHeader(what);
    if (h.cls !== cls || h.tag !== tag || (opts.constructed !== undefined && h.constructed !== opts.constructed)) {
      throw new EnvelopeError('MALFORMED', `unexpected element where ${what} was expected (class ${h.cls}, tag ${h.tag})`);
    }
    return h;
  }

  /**
   * Whether a container has another child. For the definite form, compares
   * the position with the container's end; for the indefinite form, consumes
   * the end-of-contents octets when they come (once: later calls on the same
   * container keep answering false).
   */
  async hasMore(container: TlvHeader, what: string): Promise<boolean> {
    if (container.end !== null) {
      if (this.pos === container.end) return false;
      if (this.pos > container.end) throw new EnvelopeError('MALFORMED', `${what} overruns its declared length`);
      return true;
    }
    if (container.eocSeen) return false;
    if ((await this.peek(0, what)) === 0 && (await this.peek(1, what)) === 0) {
      await this.read(2, what);
      container.eocSeen = true;
      return false;
    }
    return true;
  }

  /** Asserts that a child (just read) fits in its definite-length parent. */
  checkFits(child: TlvHeader, parent: TlvHeader, what: string): void {
    if (parent.end !== null && (child.end === null ? false : child.end > parent.end)) {
      throw new EnvelopeError('MALFORMED', `${what} overruns its container`);
    }
  }

  /** Expects the container to have no further children. */
  async expectEnd(container: TlvHeader, what: string): Promise<void> {
    if (await this.hasMore(container, what)) throw new EnvelopeError('MALFORMED', `unexpected data at the end of ${what}`);
  }

  /** The content of a primitive element (small). */
  async readPrimitive(h: TlvHeader, what: string, max = MAX_SMALL_VALUE): Promise<Buffer> {
    if (h.constructed || h.length === null) throw new EnvelopeError('MALFORMED', `${what} must be primitive`);
    if (h.length > max) throw new EnvelopeError('MALFORMED', `${what} is too large (${h.length} bytes)`);
    return this.read(h.length, what);
  }

  /**
   * The value of a string type that BER allows in constructed form (OCTET
   * STRING, IMPLICIT-tagged octets): primitive, or segments of universal
   * OCTET STRINGs, concatenated. Capped at `max` bytes.
   */
  async readOctets(h: TlvHeader, what: string, max = MAX_SMALL_VALUE, depth = 0): Promise<Buffer> {
    if (!h.constructed) return this.readPrimitive(h, what, max);
    if (depth > MAX_DEPTH) throw new EnvelopeError('MALFORMED', `${what} is nested too deeply`);
    const parts: Buffer[] = [];
    let total = 0;
    while (await this.hasMore(h, what)) {
      const seg = await this.expect(0, 4, `a segment of ${what}`);
      this.checkFits(seg, h, what);
      const part = await this.readOctets(seg, what, max - total, depth + 1);
      total += part.length;
      parts.push(part);
    }
    return Buffer.concat(parts);
  }

  /** Skips an element's content (streaming, any size, either length form). */
  async skipContent(h: TlvHeader, what: string, depth = 0): Promise<void> {
    if (h.length !== null) return this.skip(h.length, what);
    if (depth > MAX_DEPTH) throw new EnvelopeError('MALFORMED', `${what} is nested too deeply`);
    while (await this.hasMore(h, what)) {
      const child = await this.readHeader(what);
      await this.skipContent(child, what, depth + 1);
    }
  }

  /** The complete encoding (header + content) of a small definite-length element, for raw capture. */
  async readRawElement(h: TlvHeader, what: string, max = MAX_SMALL_VALUE): Promise<Buffer> {
    if (h.length === null) throw new EnvelopeError('MALFORMED', `${what} must use the definite length form`);
    if (h.length > max) throw new EnvelopeError('MALFORMED', `${what} is too large (${h.length} bytes)`);
    return Buffer.concat([h.raw, await this.read(h.length, what)]);
  }
}
