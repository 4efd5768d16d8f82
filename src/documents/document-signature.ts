/**
 * The platform's signature on the documents it issues (开标记录表, 中标通知书, 保证金退还凭证, …): a detached CMS
 * SignedData over the PDF's SHA-256, made with the platform's document-signing key (PlatformKeys.signer) and
 * carrying its certificate. Anyone holding the platform's CA certificate can check a document offline:
 *
 *   openssl cms -verify -binary -inform DER -in doc.p7s -content doc.pdf -CAfile ca.pem -purpose any -out /dev/null
 */
import { createHash } from 'node:crypto';
import { checkCertificate, PkiError, type CertificateInfo, type ChainProblem } from '../../crypto/pki';
import { signDigest, SignatureError, verifyDetachedSignature, type SignatureErrorCode } from '../../crypto/signature';
import type { PlatformKeys } from '../identity/platform-keys';

/** Detached CMS signature (DER) over the PDF, signingTime `at`, with the signer certificate included. */
export function signDocument(keys: PlatformKeys, pdf: Buffer, at: Date): Buffer {
  const sha256Hex = createHash('sha256').update(pdf).digest('hex');
  return signDigest({ sha256Hex, certificatePem: keys.signer.certificatePem, privateKeyPem: keys.signer.privateKeyPem, signingTime: at });
}

export type DocumentSignatureProblem = SignatureErrorCode | ChainProblem | 'CERT_INVALID';

export type DocumentVerification =
  | { ok: true; signer: CertificateInfo; signerCertificatePem: string; signingTime: Date | null }
  | { ok: false; problem: DocumentSignatureProblem; message: string };

/**
 * Checks a document signature: the CMS signature over this exact PDF (a changed byte gives DIGEST_MISMATCH), then that
 * the signer certificate was issued by `caCertificatePem`, has the 'signing' usage and was valid at `at` (default: the
 * signature's signingTime — the platform signs with its own clock — or now when it has none).
 */
export function verifyDocument(pdf: Buffer, signatureDer: Buffer, caCertificatePem: string, at?: Date): DocumentVerification {
  const sha256Hex = createHash('sha256').update(pdf).digest('hex');
  try {
    const verified = verifyDetachedSignature(signatureDer, sha256Hex);
    const when = at ?? verified.signingTime ?? new Date();
    const check = checkCertificate(verified.signerCertificatePem, caCertificatePem, when, 'signing');
    if (!check.ok) {
      return { ok: false, problem: check.problem, message: `signer certificate rejected: ${check.problem}` };
    }
    return { ok: true, signer: check.info, signerCertificatePem: verified.signerCertificatePem, signingTime: verified.signingTime };
  } catch (err) {
    if (err instanceof SignatureError) return { ok: false, problem: err.code, message: err.message };
    if (err instanceof PkiError) return { ok: false, problem: 'CERT_INVALID', message: err.message };
    throw err;
  }
}
