/**
 * A bidder's proof that one event is in a signed checkpoint of the trade log (GET /audit/events/:seq/proof), and its
 * offline check. Pure and free of the platform's code (it ships in bidtool): it trusts nothing in the file but the CA
 * certificate handed to it, whose fingerprint the result shows so it can be compared with the one the platform
 * publishes. The server builds the document (src/monitoring/checkpoints.service.ts); bidtool `audit-proof` and
 * `npm run audit:verify -- --proof` check it with this function.
 */
import crypto from 'node:crypto';
import { canonicalJson } from './audit-hash';
import { checkpointSignatureValid, type SignedCheckpoint } from './checkpoint-note';
import { fromHex, leafHash, verifyInclusion } from './merkle';
import { checkCertificate, parseCertificate } from './pki';

const sha256Hex = (text: string) => crypto.hash('sha256', text, 'hex');

export const INCLUSION_PROOF_FORMAT = 'gz-audit-inclusion-proof/1';

export interface InclusionProofDocument {
  format: typeof INCLUSION_PROOF_FORMAT;
  /** The event as stored (canonical fields, its hash included). */
  event: Record<string, unknown> & { seq: number; hash: string };
  leafIndex: number;
  treeSize: number;
  /** SHA-256(0x00 || chain hash), hex. */
  leafHash: string;
  /** The RFC 6962 audit path, hex, bottom-up. */
  proof: string[];
  checkpoint: SignedCheckpoint;
  certificates: { ca: string; signer: string };
  verify: string;
}

export interface ProofVerifyResult {
  ok: boolean;
  seq: number | null;
  treeSize: number | null;
  /** Which CA was trusted: the one given, or (weaker) the one in the file. */
  ca: 'given' | 'from the proof file';
  caFingerprintSha256: string | null;
  problems: string[];
  message: string;
}

/**
 * Checks a saved proof: the event's hash from its fields, the leaf, the audit path to the checkpoint's root, the
 * checkpoint's signature and its signer's chain to the CA. Pass `caPem` (the platform root certificate obtained
 * independently); without it the CA inside the file is used and the result says so.
 */
export function verifyInclusionProofDocument(doc: unknown, caPem?: string): ProofVerifyResult {
  const problems: string[] = [];
  const d = doc as Partial<InclusionProofDocument> | null;
  const ca = caPem ?? d?.certificates?.ca ?? '';
  let fingerprint: string | null = null;
  const done = (seq: number | null, treeSize: number | null): ProofVerifyResult => {
    const ok = problems.length === 0;
    return {
      ok,
      seq,
      treeSize,
      ca: caPem ? 'given' : 'from the proof file',
      caFingerprintSha256: fingerprint,
      problems,
      message: ok
        ? `事件 ${seq} 在平台签名的检查点（${treeSize} 条事件）中 (event ${seq} is in the signed checkpoint of ${treeSize} events)`
        : `证明无效 (proof invalid): ${problems.join('; ')}`,
    };
  };
  if (!d || d.format !== INCLUSION_PROOF_FORMAT || !d.event || !d.checkpoint || !Array.isArray(d.proof)) {
    problems.push(`not a ${INCLUSION_PROOF_FORMAT} document`);
    return done(null, null);
  }
  const { hash, ...record } = d.event;
  const seq = Number(record.seq);
  const treeSize = d.checkpoint.treeSize;
  if (typeof hash !== 'string' || sha256Hex(canonicalJson(record)) !== hash) problems.push('EVENT_ALTERED: the event\'s fields do not hash to its hash');
  try {
    fingerprint = parseCertificate(ca).fingerprintSha256;
    const signer = d.certificates?.signer ?? '';
    const check = checkCertificate(signer, ca, new Date(d.checkpoint.madeAt), 'signing');
    if (!check.ok) problems.push(`CHECKPOINT_SIGNER_UNTRUSTED: ${check.problem}`);
    else if (check.info.serialHex !== d.checkpoint.signerSerial?.toLowerCase()) problems.push('CHECKPOINT_FORGED: signed by another certificate');
    else if (!checkpointSignatureValid(d.checkpoint, signer)) problems.push('CHECKPOINT_FORGED: the checkpoint signature does not verify');
  } catch (err) {
    problems.push(`CERTIFICATE_INVALID: ${(err as Error).message}`);
  }
  try {
    const leaf = leafHash(fromHex(String(hash)));
    const path = d.proof.map((h) => fromHex(String(h), 'proof hash'));
    if (d.leafIndex !== seq - 1 || d.treeSize !== treeSize) problems.push('the proof is for another leaf or tree size');
    else if (!verifyInclusion(leaf, seq - 1, treeSize, path, fromHex(d.checkpoint.rootHash))) problems.push('NOT_INCLUDED: the audit path does not lead to the signed root');
  } catch (err) {
    problems.push(`PROOF_MALFORMED: ${(err as Error).message}`);
  }
  return done(seq, treeSize);
}
