import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import {
  checkCertificate,
  createCsr,
  createRootCa,
  generateRsaKeyPair,
  issueCertificate,
  parseAndVerifyCsr,
  parseCertificate,
  PkiError,
  randomSerialHex,
  signChallenge,
  toPkcs12,
  verifyChallengeSignature,
  type CaMaterial,
  type CertificateUsage,
  type KeyPairPem,
  type SubjectFields,
} from '../../crypto/pki';

const DAY = 86_400_000;

function openssl(args: string[], input?: string | Buffer): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function derToPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function assertPkiError(fn: () => unknown, code: PkiError['code']): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PkiError, `expected PkiError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

describe('crypto/pki', function () {
  this.timeout(60_000);

  const caSubject: SubjectFields = {
    commonName: '公共资源交易平台测试根CA',
    organizationName: '某市公共资源交易中心',
    countryName: 'CN',
  };
  const bidderSubject: SubjectFields = {
    commonName: '张三',
    organizationName: '某某建设集团有限公司',
    organizationalUnitName: '投标部',
    countryName: 'CN',
    serialNumber: '91110000MA01ABCD2X',
  };

  let tmp: string;
  let ca: CaMaterial;
  let caFile: string;
  let bidderKeys: KeyPairPem;
  // Real-clock validity so `openssl verify` (which uses the current time) accepts the certs.
  const now = new Date();
  const notBefore = new Date(now.getTime() - DAY);
  const notAfter = new Date(now.getTime() + 365 * DAY);

  function write(name: string, content: string | Buffer): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, content);
    return file;
  }

  function issue(usage: CertificateUsage, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}): string {
    return issueCertificate({
      ca,
      publicKeyPem: bidderKeys.publicKeyPem,
      subject: bidderSubject,
      usage,
      serialHex: randomSerialHex(),
      notBefore,
      notAfter,
      ...extra,
    });
  }

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-test-'));
    ca = createRootCa(caSubject, { notBefore: new Date(now.getTime() - 30 * DAY), validityDays: 3650 });
    caFile = write('ca.pem', ca.certificatePem);
    bidderKeys = generateRsaKeyPair();
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('generateRsaKeyPair', function () {
    it('when called without arguments, then returns a 2048-bit RSA PKCS#8 / SPKI PEM pair', function () {
      const keys = generateRsaKeyPair();
      assert.match(keys.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
      assert.match(keys.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
      const pub = createPublicKey(keys.publicKeyPem);
      assert.equal(pub.asymmetricKeyType, 'rsa');
      assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
    });

    it('when asked for fewer than 2048 bits, then refuses', function () {
      assert.throws(() => generateRsaKeyPair(1024), RangeError);
    });
  });

  describe('createRootCa', function () {
    it('when created, then it is a self-signed CA that OpenSSL verifies', function () {
      assert.match(openssl(['verify', '-CAfile', caFile, caFile]), /: OK/);
    });

    it('when created, then it has basicConstraints cA pathlen 0, keyCertSign + cRLSign and a subject key identifier', function () {
      const ext = openssl(['x509', '-in', caFile, '-noout', '-ext', 'basicConstraints,keyUsage,subjectKeyIdentifier']);
      assert.match(ext, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      assert.match(ext, /Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
      assert.match(ext, /Subject Key Identifier:\s+([0-9A-F]{2}:){19}[0-9A-F]{2}/);
    });

    it('when parsed, then usage is ca and subject and issuer are the given name', function () {
      const info = parseCertificate(ca.certificatePem);
      assert.equal(info.usage, 'ca');
      assert.deepEqual(info.subject, caSubject);
      assert.deepEqual(info.issuer, caSubject);
      assert.equal(info.notAfter.getTime() - info.notBefore.getTime(), 3650 * DAY);
    });
  });

  describe('CSR', function () {
    it('when created and parsed, then subject and public key round-trip and OpenSSL verifies the self-signature', function () {
      const csr = createCsr(bidderKeys, bidderSubject);
      assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
      const info = parseAndVerifyCsr(csr);
      assert.deepEqual(info.subject, bidderSubject);
      assert.equal(info.publicKeyPem, bidderKeys.publicKeyPem);
      const file = write('req.pem', csr);
      const r = spawnSync('openssl', ['req', '-in', file, '-noout', '-verify'], { encoding: 'utf8' });
      assert.equal(r.status, 0);
      assert.match(r.stdout + r.stderr, /verify OK/);
      const sigAlg = openssl(['req', '-in', file, '-noout', '-text']);
      assert.match(sigAlg, /Signature Algorithm: sha256WithRSAEncryption/);
    });

    it('when the subject of a CSR is tampered with, then parseAndVerifyCsr throws CSR_INVALID', function () {
      const csr = createCsr(bidderKeys, bidderSubject);
      const der = pemToDer(csr);
      const from = Buffer.from('张三', 'utf8');
      const to = Buffer.from('李四', 'utf8');
      const at = der.indexOf(from);
      assert.ok(at > 0, 'CN bytes not found in CSR');
      to.copy(der, at);
      assertPkiError(() => parseAndVerifyCsr(derToPem(der, 'CERTIFICATE REQUEST')), 'CSR_INVALID');
    });

    it('when the CSR is not a CSR at all, then throws CSR_INVALID', function () {
      assertPkiError(() => parseAndVerifyCsr('hello'), 'CSR_INVALID');
      assertPkiError(() => parseAndVerifyCsr(ca.certificatePem), 'CSR_INVALID');
    });

    it('when the CSR key is smaller than 2048 bits, then throws CSR_INVALID', function () {
      const weak = generateKeyPairSync('rsa', {
        modulusLength: 1024,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const csr = createCsr({ privateKeyPem: weak.privateKey, publicKeyPem: weak.publicKey }, { commonName: 'weak' });
      assertPkiError(() => parseAndVerifyCsr(csr), 'CSR_INVALID');
    });

    it('when the public key does not belong to the private key, then createCsr throws KEY_INVALID', function () {
      const other = generateRsaKeyPair();
      assertPkiError(
        () => createCsr({ privateKeyPem: bidderKeys.privateKeyPem, publicKeyPem: other.publicKeyPem }, bidderSubject),
        'KEY_INVALID',
      );
    });
  });

  describe('issueCertificate', function () {
    const expectations: Record<Exclude<CertificateUsage, 'ca'>, { ku: RegExp; eku: RegExp | null }> = {
      signing: {
        ku: /Key Usage: critical\s+Digital Signature, Non Repudiation\s/,
        eku: /Extended Key Usage:\s+TLS Web Client Authentication, E-mail Protection/,
      },
      encryption: { ku: /Key Usage: critical\s+Key Encipherment, Data Encipherment\s/, eku: null },
      opening: { ku: /Key Usage: critical\s+Key Encipherment, Data Encipherment\s/, eku: null },
      tsa: { ku: /Key Usage: critical\s+Digital Signature, Non Repudiation\s/, eku: /Extended Key Usage: critical\s+Time Stamping\s*$/ },
    };

    for (const usage of Object.keys(expectations) as (keyof typeof expectations)[]) {
      it(`when issuing a ${usage} certificate, then OpenSSL verifies it against the CA and sees the ${usage} key usages`, function () {
        const pem = issue(usage);
        const file = write(`${usage}.pem`, pem);
        assert.match(openssl(['verify', '-CAfile', caFile, file]), new RegExp(`${usage}\\.pem: OK`));

        const ext = openssl(['x509', '-in', file, '-noout', '-ext', 'keyUsage,extendedKeyUsage']);
        assert.match(ext, expectations[usage].ku);
        if (expectations[usage].eku) assert.match(ext, expectations[usage].eku!);
        else assert.doesNotMatch(ext, /Extended Key Usage/);

        const ids = openssl(['x509', '-in', file, '-noout', '-ext', 'basicConstraints,subjectKeyIdentifier,authorityKeyIdentifier']);
        assert.match(ids, /Basic Constraints:\s+CA:FALSE/);
        const caSki = /Subject Key Identifier:\s+(\S+)/.exec(openssl(['x509', '-in', caFile, '-noout', '-ext', 'subjectKeyIdentifier']))![1];
        const aki = /Authority Key Identifier:\s+(?:keyid:)?(\S+)/.exec(ids)![1];
        assert.equal(aki, caSki);
        const ski = /Subject Key Identifier:\s+(\S+)/.exec(ids)![1];
        assert.notEqual(ski, caSki);

        assert.equal(parseCertificate(pem).usage, usage);
      });
    }

    it('when issuing a tsa certificate, then OpenSSL considers it fit for time stamp signing only', function () {
      const file = write('tsa-purpose.pem', issue('tsa'));
      const purposes = openssl(['x509', '-in', file, '-noout', '-purpose']);
      assert.match(purposes, /Time Stamp signing : Yes/);
      assert.match(purposes, /S\/MIME signing : No/);
    });

    it('when issuing a signing certificate, then OpenSSL considers it fit for S/MIME (CMS) signing', function () {
      const file = write('signing-purpose.pem', issue('signing'));
      assert.match(openssl(['x509', '-in', file, '-noout', '-purpose']), /S\/MIME signing : Yes/);
    });

    for (const usage of ['encryption', 'opening'] as const) {
      it(`when issuing an ${usage} certificate, then OpenSSL CMS accepts it as an RSA-OAEP recipient`, function () {
        const certFile = write(`${usage}-recip.pem`, issue(usage));
        const keyFile = write('bidder.key.pem', bidderKeys.privateKeyPem);
        const plainFile = write('plain.txt', '投标文件 tender document');
        const encFile = path.join(tmp, `${usage}.cms`);
        openssl(['cms', '-encrypt', '-binary', '-aes-256-cbc', '-in', plainFile, '-out', encFile, '-outform', 'DER',
          '-recip', certFile, '-keyopt', 'rsa_padding_mode:oaep']);
        const out = execFileSync('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', encFile, '-recip', certFile, '-inkey', keyFile]);
        assert.equal(out.toString('utf8'), '投标文件 tender document');
      });
    }

    it('when the serial has its high bit set, then it is encoded positive with a 00 prefix and parsed back equal', function () {
      const pem = issue('signing', { serialHex: 'FF0102' });
      assert.equal(parseCertificate(pem).serialHex, '00ff0102');
      const file = write('serial.pem', pem);
      assert.match(openssl(['x509', '-in', file, '-noout', '-serial']), /serial=FF0102\n/);
      assert.match(openssl(['verify', '-CAfile', caFile, file]), /OK/);
    });

    it('when the serial has redundant leading zeros, then they are dropped (DER minimal encoding)', function () {
      const pem = issue('signing', { serialHex: '000001' });
      assert.equal(parseCertificate(pem).serialHex, '01');
    });

    it('when the serial is not a positive hex integer, then refuses', function () {
      assert.throws(() => issue('signing', { serialHex: 'xyz' }), RangeError);
      assert.throws(() => issue('signing', { serialHex: '00' }), RangeError);
    });

    it('when asked for a ca usage, then refuses (root has pathLen 0)', function () {
      assert.throws(() => issue('ca'), RangeError);
    });

    it('when the CA key does not match the CA certificate, then throws KEY_INVALID', function () {
      const other = generateRsaKeyPair();
      assertPkiError(() => issue('signing', { ca: { certificatePem: ca.certificatePem, privateKeyPem: other.privateKeyPem } }), 'KEY_INVALID');
    });

    it('when the subject public key is garbage, then throws KEY_INVALID', function () {
      assertPkiError(() => issue('signing', { publicKeyPem: 'not a key' }), 'KEY_INVALID');
    });
  });

  describe('randomSerialHex', function () {
    it('when called repeatedly, then returns distinct positive minimal 16-byte hex integers', function () {
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const s = randomSerialHex();
        assert.match(s, /^(00[89a-f][0-9a-f]|[1-7][0-9a-f]|0[1-9a-f])[0-9a-f]*$/);
        assert.equal(s.length % 2, 0);
        assert.ok(s.length <= 34);
        seen.add(s);
      }
      assert.equal(seen.size, 200);
    });
  });

  describe('parseCertificate', function () {
    it('when a certificate has a Chinese subject, then it round-trips through parseCertificate and OpenSSL prints it', function () {
      const pem = issue('signing');
      const info = parseCertificate(pem);
      assert.deepEqual(info.subject, bidderSubject);
      assert.deepEqual(info.issuer, caSubject);
      assert.equal(info.subject.commonName, '张三');
      assert.equal(info.subject.organizationName, '某某建设集团有限公司');
      const file = write('chinese.pem', pem);
      const subject = openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'utf8']);
      assert.ok(subject.includes('CN=张三'), subject);
      assert.ok(subject.includes('O=某某建设集团有限公司'), subject);
      assert.ok(subject.includes('serialNumber=91110000MA01ABCD2X'), subject);
    });

    it('when parsed, then validity, public key and fingerprint match OpenSSL', function () {
      const pem = issue('encryption');
      const info = parseCertificate(pem);
      assert.equal(info.notBefore.getTime(), Math.floor(notBefore.getTime() / 1000) * 1000);
      assert.equal(info.notAfter.getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
      assert.equal(info.publicKeyPem, bidderKeys.publicKeyPem);
      const file = write('fp.pem', pem);
      const fp = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).split('=')[1]!.trim();
      assert.equal(info.fingerprintSha256, fp.replace(/:/g, '').toLowerCase());
    });

    it('when the input is not a certificate, then throws CERT_INVALID', function () {
      assertPkiError(() => parseCertificate('garbage'), 'CERT_INVALID');
      assertPkiError(() => parseCertificate(createCsr(bidderKeys, bidderSubject)), 'CERT_INVALID');
    });
  });

  describe('checkCertificate', function () {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const t1 = new Date('2031-01-01T00:00:00Z');
    let signingPem: string;

    before(function () {
      signingPem = issue('signing', { notBefore: t0, notAfter: t1 });
    });

    it('when the certificate is valid at the given time, then ok with the parsed info', function () {
      const r = checkCertificate(signingPem, ca.certificatePem, new Date('2030-06-01T00:00:00Z'), 'signing');
      assert.equal(r.ok, true);
      assert.equal(r.info?.usage, 'signing');
    });

    it('when checked exactly at notBefore and at notAfter, then ok (bounds are inclusive)', function () {
      assert.equal(checkCertificate(signingPem, ca.certificatePem, t0).ok, true);
      assert.equal(checkCertificate(signingPem, ca.certificatePem, t1).ok, true);
    });

    it('when checked after notAfter, then EXPIRED', function () {
      const r = checkCertificate(signingPem, ca.certificatePem, new Date(t1.getTime() + 1000), 'signing');
      assert.deepEqual([r.ok, !r.ok && r.problem], [false, 'EXPIRED']);
    });

    it('when checked before notBefore, then NOT_YET_VALID', function () {
      const r = checkCertificate(signingPem, ca.certificatePem, new Date(t0.getTime() - 1000), 'signing');
      assert.deepEqual([r.ok, !r.ok && r.problem], [false, 'NOT_YET_VALID']);
    });

    it('when the certificate comes from another CA, then NOT_ISSUED_BY_CA', function () {
      const otherCa = createRootCa({ commonName: '其他CA', countryName: 'CN' }, { notBefore: t0, validityDays: 3650 });
      const foreign = issueCertificate({
        ca: otherCa,
        publicKeyPem: bidderKeys.publicKeyPem,
        subject: bidderSubject,
        usage: 'signing',
        serialHex: randomSerialHex(),
        notBefore: t0,
        notAfter: t1,
      });
      const r = checkCertificate(foreign, ca.certificatePem, new Date('2030-06-01T00:00:00Z'), 'signing');
      assert.deepEqual([r.ok, !r.ok && r.problem], [false, 'NOT_ISSUED_BY_CA']);
      assert.equal(checkCertificate(foreign, otherCa.certificatePem, new Date('2030-06-01T00:00:00Z'), 'signing').ok, true);
    });

    it('when an impostor CA with the same name issued the certificate, then NOT_ISSUED_BY_CA', function () {
      const impostor = createRootCa(caSubject, { notBefore: t0, validityDays: 3650 });
      const forged = issueCertificate({
        ca: impostor,
        publicKeyPem: bidderKeys.publicKeyPem,
        subject: bidderSubject,
        usage: 'signing',
        serialHex: randomSerialHex(),
        notBefore: t0,
        notAfter: t1,
      });
      assert.deepEqual(parseCertificate(forged).issuer, caSubject);
      const r = checkCertificate(forged, ca.certificatePem, new Date('2030-06-01T00:00:00Z'));
      assert.deepEqual([r.ok, !r.ok && r.problem], [false, 'NOT_ISSUED_BY_CA']);
    });

    it('when the signature bytes of a certificate are altered, then NOT_ISSUED_BY_CA', function () {
      const der = pemToDer(signingPem);
      der[der.length - 1] ^= 0x01;
      const r = checkCertificate(derToPem(der, 'CERTIFICATE'), ca.certificatePem, new Date('2030-06-01T00:00:00Z'));
      assert.deepEqual([r.ok, !r.ok && r.problem], [false, 'NOT_ISSUED_BY_CA']);
    });

    it('when the "CA" is an end-entity certificate, then NOT_ISSUED_BY_CA', function () {
      const r = checkCertificate(signingPem, signingPem, new Date('2030-06-01T00:00:00Z'));
      assert.deepEqual([r.ok, !r.ok && r.problem], [false, 'NOT_ISSUED_BY_CA']);
    });

    it('when the usage differs from the expected one, then WRONG_USAGE', function () {
      const at = new Date('2030-06-01T00:00:00Z');
      const encryptionPem = issue('encryption', { notBefore: t0, notAfter: t1 });
      const r1 = checkCertificate(signingPem, ca.certificatePem, at, 'encryption');
      assert.deepEqual([r1.ok, !r1.ok && r1.problem], [false, 'WRONG_USAGE']);
      // encryption and opening share key usages; the usage policy tells them apart
      const r2 = checkCertificate(encryptionPem, ca.certificatePem, at, 'opening');
      assert.deepEqual([r2.ok, !r2.ok && r2.problem], [false, 'WRONG_USAGE']);
      assert.equal(checkCertificate(encryptionPem, ca.certificatePem, at, 'encryption').ok, true);
    });
  });

  describe('challenge signatures', function () {
    const nonce = 'login-challenge:7f3a9c 2026-01-01T00:00:00Z 投标';

    it('when signed, then verifyChallengeSignature accepts it with the public key and with the certificate', function () {
      const sig = signChallenge(bidderKeys.privateKeyPem, nonce);
      assert.equal(Buffer.from(sig, 'base64').length, 256);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce, sig), true);
      assert.equal(verifyChallengeSignature(issue('signing'), nonce, sig), true);
    });

    it('when signed, then `openssl dgst -sha256 -verify` accepts it', function () {
      const sig = signChallenge(bidderKeys.privateKeyPem, nonce);
      const pub = write('pub.pem', bidderKeys.publicKeyPem);
      const msg = write('msg.txt', nonce);
      const sigFile = write('sig.bin', Buffer.from(sig, 'base64'));
      assert.match(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sigFile, msg]), /Verified OK/);
    });

    it('when signed by `openssl dgst -sha256 -sign`, then verifyChallengeSignature accepts it', function () {
      const key = write('key.pem', bidderKeys.privateKeyPem);
      const msg = write('msg2.txt', nonce);
      const sig = execFileSync('openssl', ['dgst', '-sha256', '-sign', key, msg]);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce, sig.toString('base64')), true);
    });

    it('when the message differs, then false', function () {
      const sig = signChallenge(bidderKeys.privateKeyPem, nonce);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce + ' ', sig), false);
    });

    it('when the key is a different one, then false', function () {
      const sig = signChallenge(bidderKeys.privateKeyPem, nonce);
      assert.equal(verifyChallengeSignature(generateRsaKeyPair().publicKeyPem, nonce, sig), false);
    });

    it('when the signature or key is garbage, then false without throwing', function () {
      const sig = signChallenge(bidderKeys.privateKeyPem, nonce);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce, '!!!not base64!!!'), false);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce, ''), false);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce, 'AAAA'), false);
      assert.equal(verifyChallengeSignature(bidderKeys.publicKeyPem, nonce, sig.slice(0, -8)), false);
      assert.equal(verifyChallengeSignature('garbage', nonce, sig), false);
      assert.equal(verifyChallengeSignature('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', nonce, sig), false);
      assert.equal(verifyChallengeSignature(undefined as unknown as string, nonce, sig), false);
    });

    it('when the private key is garbage, then signChallenge throws KEY_INVALID', function () {
      assertPkiError(() => signChallenge('nope', nonce), 'KEY_INVALID');
    });
  });

  describe('toPkcs12', function () {
    it('when exported with a non-ASCII password, then OpenSSL 3 opens it without -legacy and finds the certificate chain and key', function () {
      const certPem = issue('signing');
      const p12 = toPkcs12(bidderKeys.privateKeyPem, certPem, ca.certificatePem, 'p@ss 口令');
      const file = write('bidder.p12', p12);
      const certs = openssl(['pkcs12', '-in', file, '-passin', 'pass:p@ss 口令', '-nokeys']);
      assert.equal((certs.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
      const keyOut = openssl(['pkcs12', '-in', file, '-passin', 'pass:p@ss 口令', '-nocerts', '-nodes']);
      const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(keyOut)![0];
      assert.equal(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }), bidderKeys.publicKeyPem);
    });

    it('when exported with an ASCII password, then forge reads it back (MAC, key and friendly name)', function () {
      const p12 = toPkcs12(bidderKeys.privateKeyPem, issue('signing'), ca.certificatePem, 'secret');
      const parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), 'secret');
      const bags = parsed.getBags({ friendlyName: '张三' }).friendlyName ?? [];
      assert.ok(bags.length >= 1);
      const keyBags = parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? [];
      assert.equal(keyBags.length, 1);
      assert.ok(keyBags[0]!.key, 'forge could not decrypt the key bag');
    });

    it('when the password is wrong, then OpenSSL refuses it', function () {
      const file = write('bidder2.p12', toPkcs12(bidderKeys.privateKeyPem, issue('signing'), ca.certificatePem, 'right'));
      assert.throws(() => openssl(['pkcs12', '-in', file, '-passin', 'pass:wrong', '-nokeys']));
    });

    it('when the key does not match the certificate, then throws KEY_INVALID', function () {
      assertPkiError(() => toPkcs12(generateRsaKeyPair().privateKeyPem, issue('signing'), ca.certificatePem, 'x'), 'KEY_INVALID');
    });
  });
});
