/**
 * The two CMS pieces a bidder's page needs at the opening (RFC 5652 / RFC 5083):
 *  - the content key of its own AuthEnvelopedData, unwrapped locally with its encryption key (RSA-OAEP-SHA256);
 *  - a detached SignedData over contentKeyDigest(bidId, key), as `bidtool post-key` sends, so the platform knows the
 *    key comes from the bidder and is for this bid (crypto/opening.ts).
 */
import { DerError, childrenOf, concat, contentOf, ctx, endOf, nul, octets, oid, readTlv, seq, setOf, smallInt, tlv, utcTime } from './der';
import type { CertificateInfo } from './keys';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
};

export class EnvelopeError extends Error {}

/** How much of the envelope file is read: the recipients come first, so the bid itself is never read. */
export const ENVELOPE_HEAD_BYTES = 1 << 20;

/** The encrypted keys of the envelope's key-transport recipients, from the head of the file. */
export function wrappedKeys(head: Uint8Array): Uint8Array[] {
  try {
    const info = readTlv(head, 0);
    if (info.tag !== 0x30) throw new EnvelopeError('not CMS');
    const type = readTlv(head, info.contentStart);
    const explicit = readTlv(head, endOf(head, type.start));
    if (type.tag !== 0x06 || explicit.tag !== 0xa0) throw new EnvelopeError('not CMS');
    const auth = readTlv(head, explicit.contentStart);
    let p = endOf(head, auth.contentStart); // version
    if (head[p] === 0xa0) p = endOf(head, p); // originatorInfo
    const recipients = readTlv(head, p);
    if (recipients.tag !== 0x31) throw new EnvelopeError('no recipients');
    return childrenOf(head, recipients)
      .filter((r) => r.tag === 0x30) // KeyTransRecipientInfo; others are not ours
      .map((r) => {
        const fields = childrenOf(head, r);
        const encrypted = fields[fields.length - 1];
        if (encrypted.tag !== 0x04) throw new EnvelopeError('bad recipient');
        return contentOf(head, encrypted);
      });
  } catch (e) {
    if (e instanceof EnvelopeError) throw e;
    if (e instanceof DerError) throw new EnvelopeError('truncated or malformed');
    throw e;
  }
}

/** Tries the key on each recipient; the one wrapped for it yields the 32-byte AES-256 content key. */
export async function unwrapOwnKey(envelope: Blob, key: CryptoKey): Promise<Uint8Array> {
  const head = new Uint8Array(await envelope.slice(0, ENVELOPE_HEAD_BYTES).arrayBuffer());
  for (const wrapped of wrappedKeys(head)) {
    try {
      const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'RSA-OAEP' }, key, wrapped as BufferSource));
      if (plain.length === 32) return plain;
      plain.fill(0);
    } catch {
      /* not wrapped for this key: try the next recipient */
    }
  }
  throw new EnvelopeError('no recipient for this key');
}

/** SHA-256("gz-content-key:v1:<bidId>:" ‖ key), as crypto/opening.ts's contentKeyDigest. */
export async function contentKeyDigest(bidId: string, contentKey: Uint8Array): Promise<Uint8Array> {
  const label = new TextEncoder().encode(`gz-content-key:v1:${bidId}:`);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concat([label, contentKey]) as BufferSource));
}

const algorithm = (id: string, withNull: boolean) => (withNull ? seq(oid(id), nul()) : seq(oid(id)));
const attribute = (type: string, value: Uint8Array) => seq(oid(type), setOf(value));

/** A detached CMS SignedData (one signer, SHA-256 with RSA) over content whose SHA-256 is `digest`. */
export async function signDigest(opts: { digest: Uint8Array; cert: CertificateInfo; key: CryptoKey; signingTime: Date }): Promise<Uint8Array> {
  const signedAttrs = setOf(
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, utcTime(opts.signingTime)),
    attribute(OID.messageDigest, octets(opts.digest)),
  );
  // RFC 5652 §5.4: the signature covers the attributes encoded as a SET OF; they are stored as [0] IMPLICIT
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', opts.key, signedAttrs as BufferSource));
  const attrsContent = signedAttrs.subarray(readTlv(signedAttrs, 0).contentStart);
  const signerInfo = seq(
    smallInt(1),
    seq(opts.cert.issuer, opts.cert.serial),
    algorithm(OID.sha256, false),
    tlv(0xa0, attrsContent),
    algorithm(OID.rsaEncryption, true),
    octets(signature),
  );
  const signedData = seq(smallInt(1), setOf(algorithm(OID.sha256, false)), seq(oid(OID.data)), ctx(0, opts.cert.der), setOf(signerInfo));
  return seq(oid(OID.signedData), ctx(0, signedData));
}
