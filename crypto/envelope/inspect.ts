/**
 * Keyless structural inspection of a whole envelope arriving as a stream.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { ByteReader } from './ber-reader';
import { createSinkSource, sourceFromReadable } from './sources';
import { FILE_CHUNK } from './io';
import { parseEnvelope, toInspection } from './parse';
import type { EnvelopeInspection } from './types';

/**
 * Returns a writable `sink` to pipe a whole envelope into, and the `result`
 * of the structural check: ContentInfo/AuthEnvelopedData framing, algorithms
 * (AES-256-GCM, key transport recipients), every length in DER or BER
 * (indefinite lengths, chunked encryptedContent), the mac, and that nothing
 * follows the end. It needs no key and proves nothing about the tag: that
 * takes the content key.
 *
 * Memory is O(header): content bytes are hashed and counted as they pass,
 * never kept. The sink applies backpressure at the parser's pace.
 *
 * `result` settles once the sink has ended (trailing data can only be ruled
 * out then), or earlier with an EnvelopeError as soon as the structure is
 * wrong; after a failure the sink keeps accepting and discarding data, so a
 * producer piping into it never stalls and the sink never emits 'error'.
 * The sink's 'finish' fires only after `result` has settled. A rejection of
 * `result` is never reported as unhandled, even if it is awaited late.
 */
export function createEnvelopeInspector(opts: { sha256?: boolean } = {}): { sink: Writable; result: Promise<EnvelopeInspection> } {
  // a caller that already hashes the same bytes (the server's blob store does) spares this second pass: `sha256` is then ''
  const hashing = opts.sha256 ?? true;
  let result!: Promise<EnvelopeInspection>;
  const { sink, source } = createSinkSource(() => result);
  const reader = new ByteReader(source, { sha256: hashing });
  result = (async () => {
    try {
      const parsed = await parseEnvelope(reader);
      return toInspection(parsed, hashing ? reader.digestHex() : '');
    } finally {
      source.close();
    }
  })();
  result.catch(() => undefined);
  return { sink, result };
}

/** Inspects an envelope file (see createEnvelopeInspector). */
export async function inspectFile(path: string): Promise<EnvelopeInspection> {
  const input = fs.createReadStream(path, { highWaterMark: FILE_CHUNK });
  const reader = new ByteReader(sourceFromReadable(input), { sha256: true });
  try {
    const parsed = await parseEnvelope(reader);
    return toInspection(parsed, reader.digestHex());
  } finally {
    reader.close();
  }
}
