import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { createRootCa, generateRsaKeyPair, issueCertificate, parseCertificate, randomSerialHex, type CaMaterial } from '../../crypto/pki';
import { sha256File, signDigest, SignatureError, signFile, verifyDetachedSignature } from '../../crypto/signature';

const DAY = 86_400_000;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertSignatureError(fn: () => unknown, codes: SignatureError['code'] | SignatureError['code'][]): void {
  const allowed = Array.isArray(codes) ? codes : [codes];
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SignatureError, `expected SignatureError, got ${String(e)}`);
    assert.ok(allowed.includes(e.code), `expected ${allowed.join(' or ')}, got ${e.code}: ${e.message}`);
    return true;
  });
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** Replaces the certificates [0] field of a ContentInfo(SignedData) with the given certificate. */
function swapEmbeddedCertificate(signature: Buffer, certPem: string): Buffer {
  const ci = forge.asn1.fromDer(signature.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean);
  const sd = ((ci.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!;
  const certs = (sd.value as forge.asn1.Asn1[])[3]!;
  assert.equal(certs.tagClass, forge.asn1.Class.CONTEXT_SPECIFIC);
  certs.value = [forge.asn1.fromDer(pemToDer(certPem).toString('binary'), { decodeBitStrings: false } as unknown as boolean)];
  return Buffer.from(forge.asn1.toDer(ci).getBytes(), 'binary');
}

describe('crypto/signature', function () {
  this.timeout(120_000);

  let dir: string;
  let ca: CaMaterial;
  let caPath: string;
  let signer: { certificatePem: string; privateKeyPem: string; serialHex: string };
  let filePath: string;
  let fileSha256: string;
  let ourSignature: Buffer;
  const signingTime = new Date('2025-03-01T08:30:15.000Z');

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signature-test-'));
    const now = Date.now();
    ca = createRootCa({ commonName: '签名测试根CA', organizationName: '某市公共资源交易中心', countryName: 'CN' }, { notBefore: new Date(now - DAY), validityDays: 3650 });
    caPath = path.join(dir, 'ca.pem');
    fs.writeFileSync(caPath, ca.certificatePem);
    const keys = generateRsaKeyPair();
    const serialHex = randomSerialHex();
    const certificatePem = issueCertificate({
      ca,
      publicKeyPem: keys.publicKeyPem,
      subject: { commonName: '张三', organizationName: '某某建设集团有限公司', countryName: 'CN', serialNumber: '91110000MA01ABCD2X' },
      usage: 'signing',
      serialHex,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
    });
    signer = { certificatePem, privateKeyPem: keys.privateKeyPem, serialHex };
    filePath = path.join(dir, 'envelope.bin');
    fs.writeFileSync(filePath, randomBytes(3 * 1024 * 1024));
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when a 3 MiB file is signed, then openssl cms -verify accepts the detached signature', async function () {
    const { signature, sha256Hex } = await signFile(filePath, signer, signingTime);
    ourSignature = signature;
    fileSha256 = sha256Hex;
    assert.equal(sha256Hex, await sha256File(filePath));
    assert.match(sha256Hex, /^[0-9a-f]{64}$/);
    const sigPath = path.join(dir, 'sig.p7s');
    fs.writeFileSync(sigPath, signature);
    const r = run(['cms', '-verify', '-binary', '-inform', 'DER', '-in', sigPath, '-content', filePath, '-CAfile', caPath, '-purpose', 'any', '-out', '/dev/null']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Verification successful/);
  });

  it('when our signature is verified, then the signer certificate, serial and signing time are returned', function () {
    const v = verifyDetachedSignature(ourSignature, fileSha256);
    assert.equal(parseCertificate(v.signerCertificatePem).fingerprintSha256, parseCertificate(signer.certificatePem).fingerprintSha256);
    assert.equal(v.signerSerialHex, signer.serialHex);
    assert.equal(v.signingTime?.toISOString(), signingTime.toISOString());
  });

  it('when the content hash is given in upper case, then verification still succeeds', function () {
    const v = verifyDetachedSignature(ourSignature, fileSha256.toUpperCase());
    assert.equal(v.signerSerialHex, signer.serialHex);
  });

  it('when the signature is made by openssl cms -sign (detached), then verifyDetachedSignature accepts it', function () {
    const certPath = path.join(dir, 'signer.pem');
    const keyPath = path.join(dir, 'signer.key');
    fs.writeFileSync(certPath, signer.certificatePem);
    fs.writeFileSync(keyPath, signer.privateKeyPem);
    const sslSig = path.join(dir, 'openssl.p7s');
    const r = run(['cms', '-sign', '-binary', '-md', 'sha256', '-outform', 'DER', '-signer', certPath, '-inkey', keyPath, '-in', filePath, '-out', sslSig]);
    assert.equal(r.status, 0, r.stderr);
    const v = verifyDetachedSignature(fs.readFileSync(sslSig), fileSha256);
    assert.equal(v.signerSerialHex, signer.serialHex);
    assert.ok(v.signingTime instanceof Date);
    assert.ok(Math.abs(v.signingTime.getTime() - Date.now()) < 10 * 60_000);
  });

  it('when openssl signs with a subject key identifier or without signed attributes, then it is accepted', function () {
    const certPath = path.join(dir, 'signer.pem');
    const keyPath = path.join(dir, 'signer.key');
    const variants: [string, string[]][] = [
      ['keyid', ['-keyid']],
      ['noattr', ['-noattr']],
    ];
    for (const [name, extra] of variants) {
      const out = path.join(dir, `openssl-${name.replace(/\W/g, '')}.p7s`);
      const r = run(['cms', '-sign', '-binary', '-md', 'sha256', '-outform', 'DER', '-signer', certPath, '-inkey', keyPath, '-in', filePath, '-out', out, ...extra]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      const v = verifyDetachedSignature(fs.readFileSync(out), fileSha256);
      assert.equal(v.signerSerialHex, signer.serialHex, name);
      if (name === 'noattr') {
        assert.equal(v.signingTime, null);
        assertSignatureError(() => verifyDetachedSignature(fs.readFileSync(out), 'ab'.repeat(32)), 'DIGEST_MISMATCH');
      }
    }
  });

  it('when the signature was made with signatureAlgorithm sha256WithRSAEncryption, then it is accepted', function () {
    // Rewrite the SignerInfo's signatureAlgorithm OID; the signature value is the same for both OIDs.
    const ci = forge.asn1.fromDer(ourSignature.toString('binary'), { decodeBitStrings: false } as unknown as boolean);
    const sd = ((ci.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!;
    const signerInfos = (sd.value as forge.asn1.Asn1[])[4]!;
    const si = (signerInfos.value as forge.asn1.Asn1[])[0]!;
    const sigAlg = (si.value as forge.asn1.Asn1[])[4]!;
    (sigAlg.value as forge.asn1.Asn1[])[0]!.value = forge.asn1.oidToDer('1.2.840.113549.1.1.11').getBytes();
    const rewritten = Buffer.from(forge.asn1.toDer(ci).getBytes(), 'binary');
    assert.notDeepEqual(rewritten, ourSignature);
    assert.equal(verifyDetachedSignature(rewritten, fileSha256).signerSerialHex, signer.serialHex);
  });

  it('when the file digest differs, then DIGEST_MISMATCH', function () {
    const other = Buffer.from(fileSha256, 'hex');
    other[0]! ^= 0x01;
    assertSignatureError(() => verifyDetachedSignature(ourSignature, other.toString('hex')), 'DIGEST_MISMATCH');
  });

  it('when a byte of the RSA signature is flipped, then BAD_SIGNATURE', function () {
    const tampered = Buffer.from(ourSignature);
    tampered[tampered.length - 10]! ^= 0x40; // inside the trailing signature OCTET STRING
    assertSignatureError(() => verifyDetachedSignature(tampered, fileSha256), 'BAD_SIGNATURE');
  });

  it('when a byte of the signed attributes is changed, then BAD_SIGNATURE', function () {
    const tampered = Buffer.from(ourSignature);
    // The UTCTime of signingTime "250301083015Z": change a digit of the seconds.
    const idx = tampered.indexOf(Buffer.from('250301083015Z', 'latin1'));
    assert.ok(idx > 0);
    tampered[idx + 11] = '6'.charCodeAt(0);
    assertSignatureError(() => verifyDetachedSignature(tampered, fileSha256), 'BAD_SIGNATURE');
  });

  it('when the input is garbage, truncated or not SignedData, then MALFORMED', function () {
    assertSignatureError(() => verifyDetachedSignature(randomBytes(300), fileSha256), 'MALFORMED');
    assertSignatureError(() => verifyDetachedSignature(Buffer.alloc(0), fileSha256), 'MALFORMED');
    assertSignatureError(() => verifyDetachedSignature(ourSignature.subarray(0, ourSignature.length - 20), fileSha256), 'MALFORMED');
    assertSignatureError(() => verifyDetachedSignature(pemToDer(signer.certificatePem), fileSha256), 'MALFORMED');
  });

  it('when the embedded certificate is swapped for another certificate, then BAD_SIGNATURE or NO_SIGNER_CERTIFICATE', function () {
    const now = Date.now();
    const issue = (publicKeyPem: string, serialHex: string, commonName: string): string =>
      issueCertificate({ ca, publicKeyPem, subject: { commonName }, usage: 'signing', serialHex, notBefore: new Date(now - DAY), notAfter: new Date(now + DAY) });

    // A different certificate: the sid no longer finds a certificate.
    const other = issue(generateRsaKeyPair().publicKeyPem, randomSerialHex(), '李四');
    assertSignatureError(() => verifyDetachedSignature(swapEmbeddedCertificate(ourSignature, other), fileSha256), 'NO_SIGNER_CERTIFICATE');

    // Same issuer and serial but another key: the sid matches, the signature does not.
    const sameSerialOtherKey = issue(generateRsaKeyPair().publicKeyPem, signer.serialHex, '张三');
    assertSignatureError(() => verifyDetachedSignature(swapEmbeddedCertificate(ourSignature, sameSerialOtherKey), fileSha256), 'BAD_SIGNATURE');

    // Same issuer, serial and key but another subject: caught by the ESS signingCertificateV2 hash.
    const publicKeyPem = parseCertificate(signer.certificatePem).publicKeyPem;
    const sameKeyOtherSubject = issue(publicKeyPem, signer.serialHex, '王五');
    assertSignatureError(() => verifyDetachedSignature(swapEmbeddedCertificate(ourSignature, sameKeyOtherSubject), fileSha256), 'BAD_SIGNATURE');
  });

  it('when signDigest is given a key that does not match the certificate or a bad digest, then it refuses', function () {
    assert.throws(
      () => signDigest({ sha256Hex: fileSha256, certificatePem: signer.certificatePem, privateKeyPem: generateRsaKeyPair().privateKeyPem, signingTime }),
      /does not match/,
    );
    assert.throws(() => signDigest({ sha256Hex: 'xyz', certificatePem: signer.certificatePem, privateKeyPem: signer.privateKeyPem, signingTime }), RangeError);
  });

  it('when signDigest output is inspected, then it is a detached SignedData with the expected signed attributes', function () {
    const r = spawnSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER'], { input: ourSignature, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /eContent: <ABSENT>/);
    for (const attr of ['contentType', 'signingTime', 'messageDigest', 'id-smime-aa-signingCertificateV2']) {
      assert.match(r.stdout, new RegExp(`object: ${attr}`), attr);
    }
  });
});
