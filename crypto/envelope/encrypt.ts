/**
 * Streaming encryption to a definite-length DER AuthEnvelopedData.
 *
 * The plaintext size is known up front and GCM ciphertext has the same
 * length, so every length in the structure is known before the first byte
 * is written: the header goes out first, then the ciphertext as it is
 * produced, then the mac. Nothing but one input chunk is held in memory.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import { OID, encodeHeader, octetStringTlv, oidTlv, seq, setOf, smallIntegerTlv } from './der';
import { FILE_CHUNK, OutputWriter, commitTemp, createTempWriteStream, discardTemp, tempPathFor } from './io';
import { GCM_NONCE_BYTES, MAX_CONTENT_BYTES } from './parse';
import { CONTENT_KEY_BYTES, keyTransRecipientInfo, readRecipientCertificate } from './recipients';
import { EnvelopeError } from './types';

/** The tag length written (aes-ICVlen). */
export const TAG_BYTES = 16;

/** Everything before the ciphertext, and the mac's TLV length after it. */
function envelopeHeader(recipientInfos: Buffer[], nonce: Buffer, size: number): Buffer {
  const gcmAlg = seq(oidTlv(OID.aes256Gcm), seq(octetStringTlv(nonce), smallIntegerTlv(TAG_BYTES)));
  const contentHeader = encodeHeader(0x80, size); // encryptedContent [0] IMPLICIT OCTET STRING, primitive
  const eciPrefix = Buffer.concat([oidTlv(OID.data), gcmAlg, contentHeader]);
  const eciHeader = encodeHeader(0x30, eciPrefix.length + size);
  const macLength = 2 + TAG_BYTES;

  const aedPrefix = Buffer.concat([smallIntegerTlv(0), setOf(recipientInfos), eciHeader, eciPrefix]);
  const aedLength = aedPrefix.length + size + macLength;
  const aedHeader = encodeHeader(0x30, aedLength);
  const explicitLength = aedHeader.length + aedLength;
  const explicitHeader = encodeHeader(0xa0, explicitLength);
  const ctOid = oidTlv(OID.authEnvelopedData);
  const ciLength = ctOid.length + explicitHeader.length + explicitLength;
  return Buffer.concat([encodeHeader(0x30, ciLength), ctOid, explicitHeader, aedHeader, aedPrefix]);
}

function checkOptions(opts: { recipients: string[]; size: number }): void {
  if (!opts || !Array.isArray(opts.recipients) || opts.recipients.length === 0) {
    throw new RangeError('at least one recipient certificate is required');
  }
  if (!Number.isSafeInteger(opts.size) || opts.size < 0 || opts.size > MAX_CONTENT_BYTES) {
    throw new RangeError(`size must be an integer between 0 and ${MAX_CONTENT_BYTES}`);
  }
}

/**
 * Encrypts exactly `opts.size` bytes from `input` into an AuthEnvelopedData
 * (AES-256-GCM, fresh content key and nonce) for the given recipient
 * certificates (PEM), each getting an RSAES-OAEP-SHA256 KeyTransRecipientInfo.
 * Writes the envelope to `output` as it goes and ends `output` on success.
 *
 * Returns the envelope's length and hex SHA-256, computed while writing.
 *
 * Throws SIZE_MISMATCH when the input delivers more or fewer bytes than
 * `size`; on this and any other failure during streaming, `output` is
 * destroyed and what was written must be discarded. Invalid recipient
 * certificates are reported (PkiError CERT_INVALID) before anything is read
 * or written.
 */
export async function encryptStream(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  opts: { recipients: string[]; size: number },
): Promise<{ length: number; sha256: string }> {
  checkOptions(opts);
  const certs = opts.recipients.map((pem) => readRecipientCertificate(pem));
  const key = randomBytes(CONTENT_KEY_BYTES);
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const writer = new OutputWriter(output);
  try {
    const header = envelopeHeader(
      certs.map((c) => keyTransRecipientInfo(c, key)),
      nonce,
      opts.size,
    );
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    const hash = createHash('sha256');
    hash.update(header);
    await writer.write(header);

    let total = 0;
    for await (const chunk of input) {
      if (typeof chunk === 'string') {
        throw new TypeError('the plaintext stream must deliver bytes, not strings');
      }
      total += chunk.length;
      if (total > opts.size) {
        throw new EnvelopeError('SIZE_MISMATCH', `the input delivers more than the announced ${opts.size} bytes`);
      }
      const ct = cipher.update(chunk);
      hash.update(ct);
      await writer.write(ct);
    }
    if (total !== opts.size) {
      throw new EnvelopeError('SIZE_MISMATCH', `the input delivered ${total} bytes, not the announced ${opts.size}`);
    }
    cipher.final();
    const mac = octetStringTlv(cipher.getAuthTag());
    hash.update(mac);
    await writer.write(mac);
    await writer.end();
    return { length: header.length + opts.size + mac.length, sha256: hash.digest('hex') };
  } catch (e) {
    writer.abort();
    const destroy = (input as { destroy?: () => void }).destroy;
    if (typeof destroy === 'function') destroy.call(input);
    throw e;
  } finally {
    key.fill(0);
  }
}

/**
 * Encrypts a file into an envelope file. The envelope is written to a temp
 * file in the target's directory, fsynced and renamed over `outPath`, so
 * `outPath` is either absent/unchanged or complete.
 */
export async function encryptFile(inPath: string, outPath: string, recipients: string[]): Promise<{ length: number; sha256: string }> {
  const stat = await fs.promises.stat(inPath);
  if (!stat.isFile()) throw new RangeError(`${inPath} is not a regular file`);
  const temp = tempPathFor(outPath);
  const out = createTempWriteStream(temp);
  try {
    const result = await encryptStream(fs.createReadStream(inPath, { highWaterMark: FILE_CHUNK }), out, {
      recipients,
      size: stat.size,
    });
    if (!out.closed) await once(out, 'close');
    await commitTemp(temp, outPath);
    return result;
  } catch (e) {
    await discardTemp(out, temp);
    throw e;
  }
}

