import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createEnvelopeInspector,
  decryptFile,
  decryptStream,
  encryptFile,
  encryptStream,
  EnvelopeError,
  inspectFile,
  openBuffer,
  recipientMatchesCertificate,
  sealBuffer,
  unwrapContentKey,
  type EnvelopeErrorCode,
  type EnvelopeInspection,
} from '../../crypto/envelope';
import { OID, octetStringTlv, oidTlv, seq, setOf, smallIntegerTlv, tlv } from '../../crypto/envelope/der';
import { keyTransRecipientInfo, readRecipientCertificate } from '../../crypto/envelope/recipients';
import { createRootCa, generateRsaKeyPair, issueCertificate, randomSerialHex, type CaMaterial, type CertificateUsage } from '../../crypto/pki';

const DAY = 86_400_000;
const MiB = 1024 * 1024;

interface Party {
  name: string;
  certificatePem: string;
  privateKeyPem: string;
  certPath: string;
  keyPath: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (AES-CTR keystream of a seed). */
function prng(seed: string, n: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

async function expectEnvelopeError(p: Promise<unknown>, code: EnvelopeErrorCode | EnvelopeErrorCode[]): Promise<EnvelopeError> {
  const codes = Array.isArray(code) ? code : [code];
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof EnvelopeError, `expected EnvelopeError(${codes.join('|')}), got ${String(e)}`);
    assert.ok(codes.includes(e.code), `expected ${codes.join('|')}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected EnvelopeError(${codes.join('|')}), but it succeeded`);
}

/** A Writable that hashes (unless told not to) and counts what it receives, keeping nothing. */
function hashingSink(opts: { hash?: boolean } = {}): { sink: Writable; digest: () => string; count: () => number } {
  const h = opts.hash === false ? null : createHash('sha256');
  let n = 0;
  const sink = new Writable({
    highWaterMark: MiB,
    write(chunk: Buffer, _enc, cb) {
      h?.update(chunk);
      n += chunk.length;
      cb();
    },
  });
  return { sink, digest: () => h!.digest('hex'), count: () => n };
}

/** A Readable producing `total` pseudo-random bytes on the fly, hashing them as it goes (unless told not to). */
function generatedStream(total: number, opts: { hash?: boolean } = {}, chunkSize = MiB): { stream: Readable; digest: () => string } {
  const ctr = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(chunkSize);
  const h = opts.hash === false ? null : createHash('sha256');
  let left = total;
  const stream = new Readable({
    highWaterMark: chunkSize,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, chunkSize);
      left -= n;
      const chunk = ctr.update(zeros.subarray(0, n));
      h?.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => h!.digest('hex') };
}

/** Files in `dir` other than the expected ones (temp files left behind). */
function leftovers(dir: string, expected: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !expected.includes(f));
}

describe('crypto/envelope (CMS AuthEnvelopedData, AES-256-GCM, RSA-OAEP-SHA256)', function () {
  this.timeout(60_000);

  let dir: string;
  let ca: CaMaterial;
  let bidder: Party;
  let tender: Party;
  let stranger: Party;
  /** Same issuer and serial as the bidder's certificate, different key. */
  let impostor: Party;
  let n = 0;
  const tmp = (name: string): string => path.join(dir, `${n++}-${name}`);

  function makeParty(name: string, usage: CertificateUsage, serialHex = randomSerialHex()): Party {
    const keys = generateRsaKeyPair(2048);
    const certificatePem = issueCertificate({
      ca,
      publicKeyPem: keys.publicKeyPem,
      subject: { commonName: name, organizationName: '某某建设集团有限公司', countryName: 'CN' },
      usage,
      serialHex,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
    });
    const certPath = path.join(dir, `${usage}-${serialHex}-${n++}.crt`);
    const keyPath = certPath.replace(/\.crt$/, '.key');
    fs.writeFileSync(certPath, certificatePem);
    fs.writeFileSync(keyPath, keys.privateKeyPem);
    return { name, certificatePem, privateKeyPem: keys.privateKeyPem, certPath, keyPath };
  }

  const keyOf = (p: Party) => ({ privateKeyPem: p.privateKeyPem, certificatePem: p.certificatePem });

  /** openssl cms -encrypt with AES-256-GCM and RSA-OAEP-SHA256 for each recipient. */
  function opensslEncrypt(inPath: string, outPath: string, recipients: Party[], extra: string[] = []): void {
    const recips = recipients.flatMap((r) => ['-recip', r.certPath, '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256']);
    openssl(['cms', '-encrypt', '-binary', '-aes-256-gcm', ...recips, ...extra, '-outform', 'DER', '-in', inPath, '-out', outPath]);
  }

  function opensslDecrypt(inPath: string, outPath: string, who: Party): void {
    openssl(['cms', '-decrypt', '-inform', 'DER', '-binary', '-recip', who.certPath, '-inkey', who.keyPath, '-in', inPath, '-out', outPath]);
  }

  function writePlain(size: number): { path: string; data: Buffer } {
    const data = randomBytes(size);
    const p = tmp(`plain-${size}.bin`);
    fs.writeFileSync(p, data);
    return { path: p, data };
  }

  /** Inspects through the streaming sink, in small uneven chunks. */
  async function inspectViaSink(data: Buffer): Promise<EnvelopeInspection> {
    const { sink, result } = createEnvelopeInspector();
    const chunks: Buffer[] = [];
    for (let i = 0, step = 1; i < data.length; i += step, step = (step * 7 + 3) % 5000 + 1) chunks.push(data.subarray(i, i + step));
    await pipeline(Readable.from(chunks), sink);
    return result;
  }

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envelope-test-'));
    ca = createRootCa({ commonName: '公共资源交易平台测试根CA', countryName: 'CN' }, { notBefore: new Date(Date.now() - DAY), validityDays: 365 });
    bidder = makeParty('投标人加密证书', 'encryption');
    tender = makeParty('招标项目开标证书', 'opening');
    stranger = makeParty('无关单位', 'encryption');
    const serial = /serial=([0-9A-Fa-f]+)/.exec(execFileSync('openssl', ['x509', '-noout', '-serial', '-in', bidder.certPath], { encoding: 'utf8' }))![1]!;
    impostor = makeParty('冒名者', 'encryption', serial);
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('round trip', function () {
    for (const size of [0, 1, 15, 16, 17, 65_536, 5 * MiB]) {
      it(`when ${size} bytes are encrypted for bidder and tender, then each recipient's key decrypts them`, async function () {
        const plain = writePlain(size);
        const env = tmp('rt.cms');
        const written = await encryptFile(plain.path, env, [bidder.certificatePem, tender.certificatePem]);
        const bytes = fs.readFileSync(env);
        assert.equal(written.length, bytes.length);
        assert.equal(written.sha256, sha256(bytes));
        for (const who of [bidder, tender]) {
          const out = tmp('rt.out');
          const { plaintextLength } = await decryptFile(env, out, keyOf(who));
          assert.equal(plaintextLength, size);
          assert.ok(fs.readFileSync(out).equals(plain.data), `${who.name}: plaintext differs`);
        }
      });
    }

    it('when the content key is unwrapped separately, then decryptStream with { contentKey } opens the envelope and leaves the key intact', async function () {
      const plain = writePlain(100_000);
      const env = tmp('ck.cms');
      await encryptFile(plain.path, env, [bidder.certificatePem, tender.certificatePem]);
      const inspection = await inspectFile(env);
      const contentKey = unwrapContentKey(inspection, keyOf(bidder));
      assert.equal(contentKey.length, 32);
      assert.ok(unwrapContentKey(inspection, keyOf(tender)).equals(contentKey));
      const copy = Buffer.from(contentKey);
      const out = hashingSink();
      const { plaintextLength } = await decryptStream(fs.createReadStream(env), out.sink, { contentKey });
      assert.equal(plaintextLength, plain.data.length);
      assert.equal(out.digest(), sha256(plain.data));
      assert.ok(contentKey.equals(copy), "the caller's content key must not be wiped");
    });
  });

  describe('OpenSSL interoperability', function () {
    it('when encryptFile writes an envelope, then openssl cms -decrypt opens it with either recipient key', async function () {
      for (const size of [0, 17, 5 * MiB]) {
        const plain = writePlain(size);
        const env = tmp('ours.cms');
        await encryptFile(plain.path, env, [bidder.certificatePem, tender.certificatePem]);
        for (const who of [bidder, tender]) {
          const out = tmp('openssl.out');
          opensslDecrypt(env, out, who);
          assert.ok(fs.readFileSync(out).equals(plain.data), `size ${size}, ${who.name}`);
        }
      }
    });

    it('when openssl cms -encrypt -aes-256-gcm writes an envelope (DER), then decryptFile opens it with either key', async function () {
      const plain = writePlain(3 * MiB + 7);
      const env = tmp('openssl.cms');
      opensslEncrypt(plain.path, env, [bidder, tender]);
      for (const who of [bidder, tender]) {
        const out = tmp('ours.out');
        assert.equal((await decryptFile(env, out, keyOf(who))).plaintextLength, plain.data.length);
        assert.ok(fs.readFileSync(out).equals(plain.data));
      }
    });

    it('when openssl writes a -stream (indefinite-length BER, chunked content) envelope, then it is inspected and decrypted', async function () {
      // (OpenSSL 3.0 fails with "Error writing CMS output" for an empty input with -stream, so no size 0 here.)
      for (const size of [1, 5, 4096, 1 * MiB + 1]) {
        const plain = writePlain(size);
        const env = tmp('stream.cms');
        opensslEncrypt(plain.path, env, [bidder, tender], ['-stream']);
        const bytes = fs.readFileSync(env);
        assert.equal(bytes[1], 0x80, 'openssl -stream should write an indefinite-length ContentInfo');
        const inspection = await inspectFile(env);
        assert.equal(inspection.encryptedContentLength, size);
        assert.equal(inspection.totalLength, bytes.length);
        assert.equal(inspection.sha256, sha256(bytes));
        assert.deepEqual(await inspectViaSink(bytes), inspection);
        for (const who of [bidder, tender]) {
          const out = tmp('stream.out');
          await decryptFile(env, out, keyOf(who));
          assert.ok(fs.readFileSync(out).equals(plain.data), `size ${size}, ${who.name}`);
        }
      }
    });

    it('when openssl addresses a recipient by subjectKeyIdentifier (-keyid), then the rid is read and the key opens it', async function () {
      const plain = writePlain(1000);
      const env = tmp('keyid.cms');
      opensslEncrypt(plain.path, env, [bidder, tender], ['-keyid']);
      const inspection = await inspectFile(env);
      assert.deepEqual(
        inspection.recipients.map((r) => r.rid.kind),
        ['subjectKeyIdentifier', 'subjectKeyIdentifier'],
      );
      assert.ok(inspection.recipients.some((r) => recipientMatchesCertificate(r, bidder.certificatePem)));
      assert.ok(!inspection.recipients.some((r) => recipientMatchesCertificate(r, stranger.certificatePem)));
      const out = tmp('keyid.out');
      await decryptFile(env, out, keyOf(tender));
      assert.ok(fs.readFileSync(out).equals(plain.data));
    });
  });

  describe('inspection', function () {
    it('when our envelope and an OpenSSL envelope of the same plaintext are inspected, then they describe the same thing', async function () {
      const plain = writePlain(70_000);
      const ours = tmp('ours.cms');
      const theirs = tmp('theirs.cms');
      const written = await encryptFile(plain.path, ours, [bidder.certificatePem, tender.certificatePem]);
      opensslEncrypt(plain.path, theirs, [bidder, tender]);

      const a = await inspectFile(ours);
      const b = await inspectFile(theirs);
      assert.equal(a.totalLength, written.length);
      assert.equal(a.sha256, written.sha256);
      assert.deepEqual(await inspectViaSink(fs.readFileSync(ours)), a);
      assert.deepEqual(await inspectViaSink(fs.readFileSync(theirs)), b);

      const shape = (i: EnvelopeInspection) => ({
        recipients: i.recipients
          .map((r) => ({ rid: r.rid, keyEncryption: r.keyEncryption, encryptedKeyLength: r.encryptedKey.length }))
          .sort((x, y) => JSON.stringify(x.rid).localeCompare(JSON.stringify(y.rid))),
        nonceLength: i.nonce.length,
        icvLen: i.icvLen,
        tagLength: i.tag.length,
        encryptedContentLength: i.encryptedContentLength,
      });
      assert.deepEqual(shape(a), shape(b));
      assert.equal(a.icvLen, 16);
      assert.equal(a.encryptedContentLength, plain.data.length);
      assert.deepEqual(
        a.recipients.map((r) => r.keyEncryption),
        ['rsaes-oaep-sha256', 'rsaes-oaep-sha256'],
      );

      for (const i of [a, b]) {
        for (const who of [bidder, tender]) {
          assert.equal(i.recipients.filter((r) => recipientMatchesCertificate(r, who.certificatePem)).length, 1, who.name);
        }
        assert.ok(!i.recipients.some((r) => recipientMatchesCertificate(r, stranger.certificatePem)));
      }
    });

    it('when the upload is not an envelope, then the inspector rejects early and the sink keeps draining without an error event', async function () {
      const { sink, result } = createEnvelopeInspector();
      let errored = false;
      sink.on('error', () => (errored = true));
      const zip = Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), prng('zip', 3 * MiB)]);
      const chunks = Array.from({ length: 48 }, (_, i) => zip.subarray(i * 65_536, (i + 1) * 65_536)).filter((c) => c.length);
      await pipeline(Readable.from(chunks), sink);
      await expectEnvelopeError(result, 'NOT_CMS');
      assert.equal(errored, false);
    });

    it('when the upload is aborted midway, then the result rejects with TRUNCATED', async function () {
      const envelope = await sealBuffer(randomBytes(300_000), [bidder.certificatePem]);
      const { sink, result } = createEnvelopeInspector();
      async function* aborted() {
        yield envelope.subarray(0, 100_000);
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('client went away');
      }
      await assert.rejects(pipeline(Readable.from(aborted()), sink), /client went away/);
      await expectEnvelopeError(result, 'TRUNCATED');
    });
  });

  describe('hostile input', function () {
    let plain: { path: string; data: Buffer };
    let env: string;
    let bytes: Buffer;
    let streamBytes: Buffer;
    let headerLength: number;

    before(async function () {
      plain = writePlain(65_536);
      env = tmp('hostile.cms');
      await encryptFile(plain.path, env, [bidder.certificatePem, tender.certificatePem]);
      bytes = fs.readFileSync(env);
      headerLength = bytes.length - plain.data.length - 18;
      const streamEnv = tmp('hostile-stream.cms');
      opensslEncrypt(plain.path, streamEnv, [bidder], ['-stream']);
      streamBytes = fs.readFileSync(streamEnv);
    });

    /** Inspects and decrypts `data`; both must fail with `code`, and decryptFile must leave no file. */
    async function assertRejected(data: Buffer, code: EnvelopeErrorCode | EnvelopeErrorCode[], label: string): Promise<void> {
      const sub = fs.mkdtempSync(path.join(dir, 'bad-'));
      const inPath = path.join(sub, 'in.cms');
      fs.writeFileSync(inPath, data);
      await expectEnvelopeError(inspectFile(inPath), code).catch((e) => assert.fail(`${label} (inspectFile): ${e.message}`));
      await expectEnvelopeError(inspectViaSink(data), code).catch((e) => assert.fail(`${label} (sink): ${e.message}`));
      await expectEnvelopeError(decryptFile(inPath, path.join(sub, 'out.bin'), keyOf(bidder)), code).catch((e) =>
        assert.fail(`${label} (decryptFile): ${e.message}`),
      );
      assert.deepEqual(leftovers(sub, ['in.cms']), [], `${label}: decryptFile left files behind`);
    }

    it('when the envelope is truncated anywhere, then TRUNCATED', async function () {
      const cuts = [1, 2, 5, 30, 200, headerLength - 1, headerLength, headerLength + 1000, bytes.length - 18, bytes.length - 5, bytes.length - 1];
      for (const cut of cuts) await assertRejected(bytes.subarray(0, cut), 'TRUNCATED', `DER cut at ${cut}`);
      const s = streamBytes.length;
      for (const cut of [3, 600, s - 3000, s - 30, s - 7, s - 6, s - 2, s - 1]) {
        await assertRejected(streamBytes.subarray(0, cut), 'TRUNCATED', `BER cut at ${cut}`);
      }
    });

    it('when a ciphertext byte or a tag byte is flipped, then the structure passes but decryption fails with TAG_MISMATCH and leaves no file', async function () {
      for (const [label, offset] of [
        ['ciphertext', headerLength + 100],
        ['tag', bytes.length - 1],
      ] as const) {
        const bad = Buffer.from(bytes);
        bad[offset]! ^= 0x01;
        const sub = fs.mkdtempSync(path.join(dir, 'flip-'));
        const inPath = path.join(sub, 'in.cms');
        fs.writeFileSync(inPath, bad);
        const inspection = await inspectFile(inPath);
        assert.equal(inspection.encryptedContentLength, plain.data.length, label);
        for (const who of [bidder, tender]) {
          await expectEnvelopeError(decryptFile(inPath, path.join(sub, 'out.bin'), keyOf(who)), 'TAG_MISMATCH');
        }
        assert.deepEqual(leftovers(sub, ['in.cms']), [], `${label}: decryptFile left files behind`);
      }
    });

    it('when bytes follow the end of the envelope, then TRAILING_DATA', async function () {
      await assertRejected(Buffer.concat([bytes, Buffer.from('junk')]), 'TRAILING_DATA', 'DER + junk');
      await assertRejected(Buffer.concat([bytes, Buffer.alloc(2)]), 'TRAILING_DATA', 'DER + 00 00');
      await assertRejected(Buffer.concat([streamBytes, Buffer.from([0x42])]), 'TRAILING_DATA', 'BER + 1 byte');
    });

    it('when the input is a ZIP, random bytes, empty, or another DER structure, then NOT_CMS', async function () {
      const zip = Buffer.concat([Buffer.from('504b03041400000008000000000000000000', 'hex'), prng('zip', 5000)]);
      await assertRejected(zip, 'NOT_CMS', 'zip');
      const random = prng('random', 10_000);
      random[0] = 0x5a;
      await assertRejected(random, 'NOT_CMS', 'random');
      await assertRejected(Buffer.alloc(0), 'NOT_CMS', 'empty');
      const certDer = Buffer.from(bidder.certificatePem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
      await assertRejected(certDer, 'NOT_CMS', 'a certificate');
      await assertRejected(Buffer.from(bidder.certificatePem), 'NOT_CMS', 'PEM text');
    });

    it('when OpenSSL wrote an EnvelopedData (AES-256-CBC), then NOT_AUTH_ENVELOPED', async function () {
      const out = tmp('cbc.cms');
      openssl(['cms', '-encrypt', '-binary', '-aes-256-cbc', '-recip', bidder.certPath, '-outform', 'DER', '-in', plain.path, '-out', out]);
      await assertRejected(fs.readFileSync(out), 'NOT_AUTH_ENVELOPED', 'EnvelopedData');
    });

    it('when the algorithms are not AES-256-GCM / RSA-OAEP-SHA256, then UNSUPPORTED_ALGORITHM', async function () {
      const gcm128 = tmp('gcm128.cms');
      openssl(['cms', '-encrypt', '-binary', '-aes-128-gcm', '-recip', bidder.certPath, '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-outform', 'DER', '-in', plain.path, '-out', gcm128]);
      await assertRejected(fs.readFileSync(gcm128), 'UNSUPPORTED_ALGORITHM', 'AES-128-GCM');

      // PKCS#1 v1.5 key transport: structurally fine, reported by OID, refused at unwrap.
      const v15 = tmp('v15.cms');
      openssl(['cms', '-encrypt', '-binary', '-aes-256-gcm', '-recip', bidder.certPath, '-outform', 'DER', '-in', plain.path, '-out', v15]);
      const inspection = await inspectFile(v15);
      assert.equal(inspection.recipients[0]!.keyEncryption, '1.2.840.113549.1.1.1');
      assert.ok(recipientMatchesCertificate(inspection.recipients[0]!, bidder.certificatePem));
      assert.throws(() => unwrapContentKey(inspection, keyOf(bidder)), (e: unknown) => e instanceof EnvelopeError && e.code === 'UNSUPPORTED_ALGORITHM');
    });

    it('when the key is wrong, then NO_MATCHING_RECIPIENT, KEY_UNWRAP_FAILED or TAG_MISMATCH, and no file is left', async function () {
      const sub = fs.mkdtempSync(path.join(dir, 'wrongkey-'));
      const out = path.join(sub, 'out.bin');
      await expectEnvelopeError(decryptFile(env, out, keyOf(stranger)), 'NO_MATCHING_RECIPIENT');
      await expectEnvelopeError(decryptFile(env, out, keyOf(impostor)), 'KEY_UNWRAP_FAILED');
      await expectEnvelopeError(decryptFile(env, out, { contentKey: randomBytes(32) }), 'TAG_MISMATCH');
      assert.deepEqual(fs.readdirSync(sub), []);
      const inspection = await inspectFile(env);
      assert.throws(() => unwrapContentKey(inspection, keyOf(stranger)), (e: unknown) => e instanceof EnvelopeError && e.code === 'NO_MATCHING_RECIPIENT');
      assert.throws(() => unwrapContentKey(inspection, keyOf(impostor)), (e: unknown) => e instanceof EnvelopeError && e.code === 'KEY_UNWRAP_FAILED');
      // a private key that does not belong to the certificate is a credential error, not a wrong recipient
      assert.throws(() => unwrapContentKey(inspection, { privateKeyPem: stranger.privateKeyPem, certificatePem: bidder.certificatePem }), /does not belong/);
    });

    it('when the input delivers more or fewer bytes than announced, then SIZE_MISMATCH and the output is destroyed', async function () {
      for (const size of [9, 11]) {
        const out = hashingSink();
        await expectEnvelopeError(
          encryptStream(Readable.from([Buffer.alloc(4), Buffer.alloc(6)]), out.sink, { recipients: [bidder.certificatePem], size }),
          'SIZE_MISMATCH',
        );
        assert.equal(out.sink.destroyed, true);
        assert.equal(out.sink.writableFinished, false);
      }
    });
  });

  describe('authAttrs (RFC 5083 AAD)', function () {
    /** Builds an envelope with authAttrs by hand (indefinite-length framing, chunked content). */
    function envelopeWithAuthAttrs(plaintext: Buffer, tamper = false): Buffer {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const attr = seq(oidTlv('1.2.840.113549.1.9.3'), setOf([oidTlv(OID.data)])); // contentType attribute
      const attrs = setOf([attr, seq(oidTlv('1.2.840.113549.1.9.5'), setOf([tlv(0x17, Buffer.from('260101000000Z'))]))]);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(attrs);
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const authAttrs = Buffer.from(attrs);
      authAttrs[0] = 0xa1; // [1] IMPLICIT
      if (tamper) authAttrs[authAttrs.length - 2]! ^= 0x01;
      const chunks = [];
      for (let i = 0; i < ct.length; i += 1000) chunks.push(octetStringTlv(ct.subarray(i, i + 1000)));
      const eoc = Buffer.alloc(2);
      return Buffer.concat([
        Buffer.from([0x30, 0x80]),
        oidTlv(OID.authEnvelopedData),
        Buffer.from([0xa0, 0x80, 0x30, 0x80]),
        smallIntegerTlv(0),
        setOf([keyTransRecipientInfo(readRecipientCertificate(bidder.certificatePem), key)]),
        Buffer.from([0x30, 0x80]),
        oidTlv(OID.data),
        seq(oidTlv(OID.aes256Gcm), seq(octetStringTlv(nonce), smallIntegerTlv(16))),
        Buffer.from([0xa0, 0x80]),
        ...chunks,
        eoc,
        eoc,
        authAttrs,
        octetStringTlv(cipher.getAuthTag()),
        eoc,
        eoc,
        eoc,
      ]);
    }

    it('when authAttrs are present, then they are authenticated as AAD (SET OF tag) and the content decrypts', async function () {
      for (const size of [0, 1, 16, 4321]) {
        const plaintext = randomBytes(size);
        const envelope = envelopeWithAuthAttrs(plaintext);
        const inspection = await inspectViaSink(envelope);
        assert.equal(inspection.encryptedContentLength, size);
        assert.ok((await openBuffer(envelope, keyOf(bidder))).equals(plaintext));
      }
    });

    it('when an authAttrs byte is changed, then TAG_MISMATCH', async function () {
      await expectEnvelopeError(openBuffer(envelopeWithAuthAttrs(randomBytes(100), true), keyOf(bidder)), 'TAG_MISMATCH');
    });
  });

  describe('streaming', function () {
    it('when 256 MiB generated on the fly are encrypted, inspected and decrypted as streams, then memory stays flat', async function () {
      const size = 256 * MiB;

      // encryption alone (no hashing in the harness: what is measured is the generator, AES-GCM and the envelope's SHA-256)
      const gen1 = generatedStream(size, { hash: false });
      const sink1 = hashingSink({ hash: false });
      let t0 = process.hrtime.bigint();
      const enc1 = await encryptStream(gen1.stream, sink1.sink, { recipients: [bidder.certificatePem, tender.certificatePem], size });
      const encSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      assert.equal(sink1.count(), enc1.length);

      // encrypt -> (inspector + decrypt) in one pipeline, as a server would store and check an upload
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const gen = generatedStream(size);
      const toDecrypt = new PassThrough();
      const inspector = createEnvelopeInspector();
      const tee = new Writable({
        highWaterMark: MiB,
        write(chunk: Buffer, _enc, cb) {
          let pending = 2;
          const done = () => {
            if (--pending === 0) cb();
          };
          if (toDecrypt.write(chunk)) done();
          else toDecrypt.once('drain', done);
          if (inspector.sink.write(chunk)) done();
          else inspector.sink.once('drain', done);
        },
        final(cb) {
          toDecrypt.end();
          inspector.sink.end(cb);
        },
      });
      const out = hashingSink();
      t0 = process.hrtime.bigint();
      const [enc, dec, inspection] = await Promise.all([
        encryptStream(gen.stream, tee, { recipients: [bidder.certificatePem, tender.certificatePem], size }),
        decryptStream(toDecrypt, out.sink, keyOf(tender)),
        inspector.result,
      ]);
      const pipeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);

      assert.equal(dec.plaintextLength, size);
      assert.equal(out.digest(), gen.digest());
      assert.equal(inspection.totalLength, enc.length);
      assert.equal(inspection.sha256, enc.sha256);
      assert.equal(inspection.encryptedContentLength, size);

      const growth = (peak - baseline) / MiB;
      const mbps = (s: number) => (size / 1e6 / s).toFixed(0);
      console.log(
        `      encrypt alone: ${mbps(encSeconds)} MB/s; encrypt + inspect + decrypt pipeline (one thread): ${mbps(pipeSeconds)} MB/s; ` +
          `RSS growth ${growth.toFixed(1)} MiB`,
      );
      assert.ok(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`);
    });
  });

  describe('buffers', function () {
    it('when a small secret is sealed with sealBuffer, then openBuffer opens it with the private key or the content key', async function () {
      const secret = Buffer.from('key share 2 of 3: 0123456789abcdef', 'utf8');
      const envelope = await sealBuffer(secret, [tender.certificatePem]);
      assert.ok((await openBuffer(envelope, keyOf(tender))).equals(secret));
      const key = unwrapContentKey(await inspectViaSink(envelope), keyOf(tender));
      assert.ok((await openBuffer(envelope, { contentKey: key })).equals(secret));
      await expectEnvelopeError(openBuffer(envelope, keyOf(bidder)), 'NO_MATCHING_RECIPIENT');
      assert.equal((await openBuffer(await sealBuffer(Buffer.alloc(0), [bidder.certificatePem]), keyOf(bidder))).length, 0);
    });
  });
});
