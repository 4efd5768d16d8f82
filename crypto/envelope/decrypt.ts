/**
 * Streaming decryption of an AuthEnvelopedData (AES-256-GCM).
 *
 * The headers are parsed incrementally; the content key is unwrapped (or
 * taken as given) before the first ciphertext byte arrives; ciphertext is
 * deciphered chunk by chunk and written out with backpressure; the mac,
 * which follows the content, is checked at the very end.
 */
import { createDecipheriv, timingSafeEqual, type DecipherGCM } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import { ByteReader } from './ber-reader';
import { sourceFromReadable } from './sources';
import { LateAadGcmTag } from './gcm';
import { FILE_CHUNK, OutputWriter, commitTemp, createTempWriteStream, discardTemp, tempPathFor } from './io';
import { parseEnvelope } from './parse';
import { CONTENT_KEY_BYTES, unwrapContentKey } from './recipients';
import { EnvelopeError, type DecryptionKey } from './types';

function checkKey(key: DecryptionKey): void {
  if (!key || typeof key !== 'object') throw new TypeError('a decryption key is required');
  if ('contentKey' in key) {
    if (!Buffer.isBuffer(key.contentKey) || key.contentKey.length !== CONTENT_KEY_BYTES) {
      throw new RangeError(`contentKey must be a ${CONTENT_KEY_BYTES}-byte Buffer`);
    }
  } else if (typeof key.privateKeyPem !== 'string' || typeof key.certificatePem !== 'string') {
    throw new TypeError('expected { privateKeyPem, certificatePem } or { contentKey }');
  }
}

/**
 * Decrypts an envelope from `input` to `output`, streaming.
 *
 * With `{ privateKeyPem, certificatePem }` the content key is first unwrapped
 * from the recipient entry matching the certificate (NO_MATCHING_RECIPIENT,
 * KEY_UNWRAP_FAILED); with `{ contentKey }` that key is used directly (the
 * caller's buffer is not modified). The structure is validated as by the
 * inspector (NOT_CMS, NOT_AUTH_ENVELOPED, UNSUPPORTED_ALGORITHM, MALFORMED,
 * TRUNCATED, TRAILING_DATA).
 *
 * IMPORTANT: plaintext is written to `output` BEFORE it is authenticated: the
 * GCM tag can only be checked once the whole content has passed. Only a
 * resolved promise means the plaintext is authentic. On TAG_MISMATCH (wrong
 * content key, or tampered data) and on any other error, `output` is
 * destroyed, not ended, and everything written to it MUST be discarded.
 * decryptFile does this for you (temp file, renamed only after the check).
 *
 * On success `output` is ended. On failure `input` is destroyed too.
 */
export async function decryptStream(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  key: DecryptionKey,
): Promise<{ plaintextLength: number }> {
  checkKey(key);
  const reader = new ByteReader(sourceFromReadable(input));
  const writer = new OutputWriter(output);
  let contentKey: Buffer | null = null;
  let decipher: DecipherGCM | null = null;
  let lateTag: LateAadGcmTag | null = null;
  let plaintextLength = 0;
  try {
    const parsed = await parseEnvelope(reader, {
      onHeader(header) {
        contentKey = 'contentKey' in key ? Buffer.from(key.contentKey) : unwrapContentKey(header, key);
        decipher = createDecipheriv('aes-256-gcm', contentKey, header.nonce, { authTagLength: header.icvLen });
        // authAttrs (AAD) would only show up after the content: keep the
        // ciphertext's GHASH on the side in case they do.
        lateTag = new LateAadGcmTag(contentKey, header.nonce);
      },
      async onContent(chunk) {
        lateTag!.update(chunk);
        const plain = decipher!.update(chunk);
        plaintextLength += plain.length;
        await writer.write(plain);
      },
    });
    if (parsed.aad === null) {
      decipher!.setAuthTag(parsed.tag);
      let rest: Buffer;
      try {
        rest = decipher!.final();
      } catch {
        throw new EnvelopeError('TAG_MISMATCH', 'the authentication tag does not match: wrong content key or tampered envelope');
      }
      if (rest.length) await writer.write(rest);
    } else {
      const expected = lateTag!.digest(parsed.aad).subarray(0, parsed.icvLen);
      if (!timingSafeEqual(expected, parsed.tag)) {
        throw new EnvelopeError('TAG_MISMATCH', 'the authentication tag does not match: wrong content key or tampered envelope');
      }
    }
    await writer.end();
    return { plaintextLength };
  } catch (e) {
    reader.close();
    writer.abort();
    throw e;
  } finally {
    (contentKey as Buffer | null)?.fill(0);
  }
}

/**
 * Decrypts an envelope file. The plaintext goes to a temp file (mode 0600) in
 * the target's directory, which is fsynced and renamed to `outPath` only when
 * the tag verifies; on any failure the temp file is removed and `outPath` is
 * left untouched.
 */
export async function decryptFile(inPath: string, outPath: string, key: DecryptionKey): Promise<{ plaintextLength: number }> {
  checkKey(key);
  const input = fs.createReadStream(inPath, { highWaterMark: FILE_CHUNK });
  await once(input, 'open');
  const temp = tempPathFor(outPath);
  const out = createTempWriteStream(temp);
  try {
    const result = await decryptStream(input, out, key);
    if (!out.closed) await once(out, 'close');
    await commitTemp(temp, outPath);
    return result;
  } catch (e) {
    input.destroy();
    await discardTemp(out, temp);
    throw e;
  }
}
