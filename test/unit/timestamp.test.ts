import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { createRootCa, generateRsaKeyPair, issueCertificate, randomSerialHex, type CaMaterial, type CertificateUsage } from '../../crypto/pki';
import { sha256File } from '../../crypto/signature';
import {
  createTimeStampQuery,
  createTimeStampResponse,
  parseTimeStampQuery,
  parseTimeStampResponse,
  RECEIPT_POLICY_OID,
  TimestampError,
  verifyTimeStampResponse,
} from '../../crypto/timestamp';

const DAY = 86_400_000;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertTimestampError(fn: () => unknown, code: TimestampError['code']): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TimestampError, `expected TimestampError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}

interface Holder {
  certificatePem: string;
  privateKeyPem: string;
}

describe('crypto/timestamp', function () {
  this.timeout(120_000);

  let dir: string;
  let ca: CaMaterial;
  let caPath: string;
  let tsa: Holder;
  let notTsa: Holder;
  let foreignTsa: Holder;
  let filePath: string;
  let otherFilePath: string;
  let sha256Hex: string;
  const now = Date.now();
  const genTime = new Date(Math.floor(now / 1000) * 1000 + 123);

  function issue(issuer: CaMaterial, usage: Exclude<CertificateUsage, 'ca'>, commonName: string, notBefore = new Date(now - DAY), notAfter = new Date(now + 365 * DAY)): Holder {
    const keys = generateRsaKeyPair();
    const certificatePem = issueCertificate({
      ca: issuer,
      publicKeyPem: keys.publicKeyPem,
      subject: { commonName, organizationName: '某市公共资源交易中心', countryName: 'CN' },
      usage,
      serialHex: randomSerialHex(),
      notBefore,
      notAfter,
    });
    return { certificatePem, privateKeyPem: keys.privateKeyPem };
  }

  function write(name: string, data: Buffer | string): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return p;
  }

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timestamp-test-'));
    ca = createRootCa({ commonName: '时间戳测试根CA', countryName: 'CN' }, { notBefore: new Date(now - 2 * DAY), validityDays: 3650 });
    caPath = write('ca.pem', ca.certificatePem);
    tsa = issue(ca, 'tsa', '平台时间戳服务');
    notTsa = issue(ca, 'signing', '张三');
    const otherCa = createRootCa({ commonName: '另一个根CA', countryName: 'CN' }, { notBefore: new Date(now - 2 * DAY), validityDays: 3650 });
    foreignTsa = issue(otherCa, 'tsa', '外部时间戳服务');
    filePath = write('envelope.bin', randomBytes(256 * 1024));
    otherFilePath = write('other.bin', randomBytes(1024));
    sha256Hex = await sha256File(filePath);
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when a response is created over a file SHA-256, then openssl ts -verify -data prints "Verification: OK"', function () {
    const serialHex = randomSerialHex();
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex, genTime });
    const respPath = write('resp.tsr', resp);
    const r = run(['ts', '-verify', '-data', filePath, '-in', respPath, '-CAfile', caPath]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Verification: OK/);

    const info = verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem });
    assert.equal(info.sha256Hex, sha256Hex);
    assert.equal(info.serialHex, serialHex);
    assert.equal(info.policyOid, RECEIPT_POLICY_OID);
    assert.equal(info.genTime.toISOString(), genTime.toISOString());
    assert.equal(info.nonce, null);
    assert.ok(info.tsaCertificatePem?.includes('BEGIN CERTIFICATE'));
  });

  it('when the CA is included as an extra certificate, then openssl and ours still verify', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: randomSerialHex(), genTime, extraCertificatesPem: [ca.certificatePem] });
    const r = run(['ts', '-verify', '-data', filePath, '-in', write('resp-ca.tsr', resp), '-CAfile', caPath]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Verification: OK/);
    verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem });
  });

  it('when openssl prints the response, then it shows our serial, policy and millisecond genTime', function () {
    const serialHex = '01a2b3c4d5e6f708';
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex, genTime, policyOid: RECEIPT_POLICY_OID });
    const r = run(['ts', '-reply', '-in', write('print.tsr', resp), '-text']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Status: Granted\./);
    assert.match(r.stdout, new RegExp(`Policy OID: ${RECEIPT_POLICY_OID.replace(/\./g, '\\.')}`));
    assert.match(r.stdout, /Serial number: 0x01A2B3C4D5E6F708/i);
    assert.match(r.stdout, /Hash Algorithm: sha256/);
    assert.match(r.stdout, /\d\d:\d\d:\d\d\.123 \d{4} GMT/);
    assert.equal(parseTimeStampResponse(resp).info.serialHex, '01a2b3c4d5e6f708');
  });

  it('when the data differs, then openssl fails and ours throws IMPRINT_MISMATCH', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: randomSerialHex(), genTime });
    const r = run(['ts', '-verify', '-data', otherFilePath, '-in', write('wrong-data.tsr', resp), '-CAfile', caPath]);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /Verification: OK/);
    const otherHex = 'ab'.repeat(32);
    assertTimestampError(() => verifyTimeStampResponse(resp, { sha256Hex: otherHex, caCertificatePem: ca.certificatePem }), 'IMPRINT_MISMATCH');
  });

  it('when the token is signed by a signing (not tsa) certificate, then WRONG_TSA and openssl refuses too', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa: notTsa, serialHex: randomSerialHex(), genTime });
    const r = run(['ts', '-verify', '-data', filePath, '-in', write('not-tsa.tsr', resp), '-CAfile', caPath]);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /Verification: OK/);
    assertTimestampError(() => verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem }), 'WRONG_TSA');
  });

  it('when the TSA belongs to another CA, then UNTRUSTED and openssl refuses too', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa: foreignTsa, serialHex: randomSerialHex(), genTime });
    const r = run(['ts', '-verify', '-data', filePath, '-in', write('foreign.tsr', resp), '-CAfile', caPath]);
    assert.notEqual(r.status, 0);
    assertTimestampError(() => verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem }), 'UNTRUSTED');
  });

  it('when genTime lies outside the TSA certificate validity, then UNTRUSTED (and `at` overrides genTime)', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: randomSerialHex(), genTime: new Date(now - 30 * DAY) });
    assertTimestampError(() => verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem }), 'UNTRUSTED');
    const info = verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem, at: new Date(now) });
    assert.equal(info.genTime.getTime(), now - 30 * DAY);
  });

  it('when a byte of the token signature is flipped, then BAD_SIGNATURE', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: randomSerialHex(), genTime });
    const tampered = Buffer.from(resp);
    tampered[tampered.length - 5]! ^= 0x01;
    assertTimestampError(() => verifyTimeStampResponse(tampered, { sha256Hex, caCertificatePem: ca.certificatePem }), 'BAD_SIGNATURE');
  });

  it('when the TSTInfo serial is altered after signing, then BAD_SIGNATURE', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: '7a7a7a7a7a7a7a7a', genTime });
    const tampered = Buffer.from(resp);
    const idx = tampered.indexOf(Buffer.from('02087a7a7a7a7a7a7a7a', 'hex'));
    assert.ok(idx > 0);
    tampered[idx + 9] = 0x7b;
    assertTimestampError(() => verifyTimeStampResponse(tampered, { sha256Hex, caCertificatePem: ca.certificatePem }), 'BAD_SIGNATURE');
  });

  it('when the input is garbage, then MALFORMED; when the status is rejection, then NOT_GRANTED', function () {
    assertTimestampError(() => parseTimeStampResponse(randomBytes(200)), 'MALFORMED');
    assertTimestampError(() => verifyTimeStampResponse(Buffer.from('3003020100', 'hex'), { sha256Hex, caCertificatePem: ca.certificatePem }), 'MALFORMED');
    const { asn1 } = forge;
    const rejection = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, 'bad request')]),
      ]),
    ]);
    const der = Buffer.from(asn1.toDer(rejection).getBytes(), 'binary');
    assertTimestampError(() => parseTimeStampResponse(der), 'NOT_GRANTED');
    assertTimestampError(() => verifyTimeStampResponse(der, { sha256Hex, caCertificatePem: ca.certificatePem }), 'NOT_GRANTED');
  });

  it('when openssl makes a query, then parseTimeStampQuery reads it and a response with its nonce verifies with -queryfile', function () {
    const q = path.join(dir, 'q-openssl.tsq');
    const r = run(['ts', '-query', '-data', filePath, '-sha256', '-cert', '-out', q]);
    assert.equal(r.status, 0, r.stderr);
    const parsed = parseTimeStampQuery(fs.readFileSync(q));
    assert.equal(parsed.sha256Hex, sha256Hex);
    assert.equal(parsed.certReq, true);
    assert.ok(parsed.nonce && parsed.nonce.length > 0 && parsed.nonce.length <= 8);

    const resp = createTimeStampResponse({ sha256Hex: parsed.sha256Hex, tsa, serialHex: randomSerialHex(), genTime, nonce: parsed.nonce });
    const v = run(['ts', '-verify', '-queryfile', q, '-in', write('q-resp.tsr', resp), '-CAfile', caPath]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /Verification: OK/);
    assert.deepEqual(verifyTimeStampResponse(resp, { sha256Hex, caCertificatePem: ca.certificatePem }).nonce, parsed.nonce);

    const noCert = run(['ts', '-query', '-data', filePath, '-sha256', '-no_nonce', '-out', path.join(dir, 'q2.tsq')]);
    assert.equal(noCert.status, 0, noCert.stderr);
    const parsed2 = parseTimeStampQuery(fs.readFileSync(path.join(dir, 'q2.tsq')));
    assert.equal(parsed2.certReq, false);
    assert.equal(parsed2.nonce, null);
  });

  it('when we create a query, then openssl ts -query -text reads it and it round-trips', function () {
    const nonce = Buffer.from('00c0ffee12345678', 'hex');
    const q = createTimeStampQuery(sha256Hex, nonce);
    const r = run(['ts', '-query', '-in', write('ours.tsq', q), '-text']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Hash Algorithm: sha256/);
    assert.match(r.stdout, /Certificate required: yes/);
    assert.match(r.stdout, /Nonce: 0xC0FFEE12345678/i);
    const hexDump = r.stdout
      .split('Message data:')[1]!
      .split('Policy OID')[0]!
      .replace(/^\s*[0-9a-f]{4} - /gim, '')
      .replace(/ {2,}.*$/gm, '')
      .replace(/[^0-9a-f]/gi, '');
    assert.equal(hexDump.toLowerCase().slice(0, 64), sha256Hex);

    const parsed = parseTimeStampQuery(q);
    assert.deepEqual(parsed, { sha256Hex, nonce: Buffer.from('c0ffee12345678', 'hex'), certReq: true });
    assert.deepEqual(parseTimeStampQuery(createTimeStampQuery(sha256Hex)), { sha256Hex, nonce: null, certReq: true });
    assertTimestampError(() => parseTimeStampQuery(randomBytes(40)), 'MALFORMED');
  });

  it('when the token carries no certificates, then UNTRUSTED unless the TSA certificate is given', function () {
    const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: randomSerialHex(), genTime });
    const tree = forge.asn1.fromDer(resp.toString('binary'), { decodeBitStrings: false } as unknown as boolean);
    const token = (tree.value as forge.asn1.Asn1[])[1]!;
    const sd = ((token.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!;
    (sd.value as forge.asn1.Asn1[]).splice(3, 1); // drop certificates [0]
    const stripped = Buffer.from(forge.asn1.toDer(tree).getBytes(), 'binary');
    assert.equal(parseTimeStampResponse(stripped).info.tsaCertificatePem, null);
    assertTimestampError(() => verifyTimeStampResponse(stripped, { sha256Hex, caCertificatePem: ca.certificatePem }), 'UNTRUSTED');
    const info = verifyTimeStampResponse(stripped, { sha256Hex, caCertificatePem: ca.certificatePem, tsaCertificatePem: tsa.certificatePem });
    assert.ok(info.tsaCertificatePem?.includes('BEGIN CERTIFICATE'));
    assertTimestampError(
      () => verifyTimeStampResponse(stripped, { sha256Hex, caCertificatePem: ca.certificatePem, tsaCertificatePem: foreignTsa.certificatePem }),
      'UNTRUSTED',
    );
  });

  it('when genTime has milliseconds, then it round-trips exactly (including .100 and .000)', function () {
    for (const ms of [123, 100, 7, 0, 999]) {
      const t = new Date(Date.UTC(2025, 2, 1, 8, 30, 15, ms));
      const resp = createTimeStampResponse({ sha256Hex, tsa, serialHex: randomSerialHex(), genTime: t });
      const info = parseTimeStampResponse(resp).info;
      assert.equal(info.genTime.toISOString(), t.toISOString());
    }
  });

  it('when openssl ts -reply issues a token with our TSA key, then our verifier accepts it', function () {
    const tsaCert = write('tsa.pem', tsa.certificatePem);
    const tsaKey = write('tsa.key', tsa.privateKeyPem);
    const serialFile = write('tsaserial', '0A1B\n');
    for (const essAlg of ['sha1', 'sha256']) {
      const cnf = write(
        `ts-${essAlg}.cnf`,
        [
          '[ tsa ]',
          'default_tsa = tsa_config',
          '[ tsa_config ]',
          `serial = ${serialFile}`,
          'signer_digest = sha256',
          'default_policy = 1.2.3.4.1',
          'digests = sha256',
          'accuracy = secs:1',
          'ordering = yes',
          'tsa_name = yes',
          'ess_cert_id_chain = no',
          `ess_cert_id_alg = ${essAlg}`,
          '',
        ].join('\n'),
      );
      const q = path.join(dir, `ossl-${essAlg}.tsq`);
      assert.equal(run(['ts', '-query', '-data', filePath, '-sha256', '-cert', '-out', q]).status, 0);
      const out = path.join(dir, `ossl-${essAlg}.tsr`);
      const r = run(['ts', '-reply', '-config', cnf, '-queryfile', q, '-signer', tsaCert, '-inkey', tsaKey, '-out', out]);
      assert.equal(r.status, 0, r.stderr);
      const info = verifyTimeStampResponse(fs.readFileSync(out), { sha256Hex, caCertificatePem: ca.certificatePem });
      assert.equal(info.policyOid, '1.2.3.4.1');
      assert.deepEqual(info.nonce, parseTimeStampQuery(fs.readFileSync(q)).nonce);
      assert.ok(Math.abs(info.genTime.getTime() - Date.now()) < 10 * 60_000);
    }
  });
});
