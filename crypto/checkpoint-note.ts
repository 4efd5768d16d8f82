/**
 * What a checkpoint signs: a short text in the manner of a Certificate Transparency signed tree head / a transparency
 * log "checkpoint" note — who keeps the log, how many events, the Merkle root (RFC 6962, see merkle.ts), when, and
 * the chain hash of the last event — signed RSA-SHA256 (PKCS #1 v1.5) with the platform's document-signing key
 * (电子签章, PlatformKeys.signer). Pure, so the offline verifier rebuilds the same bytes:
 *
 *   <origin>\n<tree size>\n<root, base64>\ntime <made at, ISO 8601 UTC>\nlast-event-hash <hex>\n
 *
 *   openssl dgst -sha256 -verify <(openssl x509 -in signer.pem -pubkey -noout) -signature sig.bin note.txt
 */
import crypto from 'node:crypto';

export interface CheckpointFields {
  /** The log's name: the platform's, as when the checkpoint was made. */
  origin: string;
  treeSize: number;
  /** Merkle root over the chain hashes of events 1..treeSize, hex. */
  rootHash: string;
  /** The chain hash of event `treeSize`, hex (ties the root to the hash chain `npm run audit:verify` walks). */
  lastEventHash: string;
  /** ISO 8601 UTC. */
  madeAt: string;
}

export interface SignedCheckpoint extends CheckpointFields {
  /** Serial (hex) of the document-signing certificate whose key signed it. */
  signerSerial: string;
  /** Base64 RSA-SHA256 signature over `checkpointNote(fields)`. */
  signature: string;
}

export function logOrigin(platformName: string): string {
  return `${platformName} 交易日志 (audit log)`;
}

export function checkpointNote(c: CheckpointFields): string {
  const root = Buffer.from(c.rootHash, 'hex').toString('base64');
  return `${c.origin}\n${c.treeSize}\n${root}\ntime ${c.madeAt}\nlast-event-hash ${c.lastEventHash}\n`;
}

export function signCheckpoint(fields: CheckpointFields, privateKeyPem: string): string {
  return crypto.sign('sha256', Buffer.from(checkpointNote(fields), 'utf8'), crypto.createPrivateKey(privateKeyPem)).toString('base64');
}

/** Whether `signature` is the key of `signerCertificatePem` signing this checkpoint's note. Never throws. */
export function checkpointSignatureValid(c: SignedCheckpoint, signerCertificatePem: string): boolean {
  try {
    const key = new crypto.X509Certificate(signerCertificatePem).publicKey;
    return crypto.verify('sha256', Buffer.from(checkpointNote(c), 'utf8'), key, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
