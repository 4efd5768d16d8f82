import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProgram, runBidtool } from '../../crypto/cli/bidtool';
import type { CliContext } from '../../crypto/cli/context';
import {
  createRootCa,
  issueCertificate,
  parseAndVerifyCsr,
  randomSerialHex,
  verifyChallengeSignature,
  type CaMaterial,
} from '../../crypto/pki';

interface Captured {
  ctx: CliContext;
  out(): string;
  err(): string;
}

function capture(now = new Date()): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    ctx: {
      stdout: { write: (s) => void out.push(s) },
      stderr: { write: (s) => void err.push(s) },
      now: () => now,
    },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

async function run(args: string[], now?: Date): Promise<{ code: number; out: string; err: string }> {
  const c = capture(now);
  const code = await runBidtool(args, c.ctx);
  return { code, out: c.out(), err: c.err() };
}

describe('bidtool CLI', function () {
  this.timeout(60_000);

  let tmp: string;
  let ca: CaMaterial;
  let caFile: string;

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bidtool-test-'));
    ca = createRootCa({ commonName: '测试根CA', countryName: 'CN' }, { notBefore: new Date('2024-01-01T00:00:00Z'), validityDays: 3650 });
    caFile = path.join(tmp, 'ca.pem');
    fs.writeFileSync(caFile, ca.certificatePem);
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when built, then the program offers keygen, sign-challenge, cert-info and check-cert', function () {
    const names = buildProgram(capture().ctx).commands.map((c) => c.name());
    for (const n of ['keygen', 'sign-challenge', 'cert-info', 'check-cert']) assert.ok(names.includes(n), n);
  });

  describe('keygen', function () {
    it('when run, then writes a 0600 private key and a valid CSR and prints both paths', async function () {
      const dir = path.join(tmp, 'keys');
      const r = await run(['keygen', '--out', dir, '--cn', '张三', '--org', '某某建设集团有限公司', '--credit-code', '91110000MA01ABCD2X', '--country', 'cn']);
      assert.equal(r.code, 0, r.err);
      const keyPath = path.join(dir, 'signing.key.pem');
      const csrPath = path.join(dir, 'signing.csr.pem');
      assert.ok(r.out.includes(`私钥 / Private key: ${keyPath}`), r.out);
      assert.ok(r.out.includes(`证书请求 / CSR: ${csrPath}`), r.out);
      assert.match(fs.readFileSync(keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
      if (process.platform !== 'win32') assert.equal(fs.statSync(keyPath).mode & 0o777, 0o600);
      const csr = parseAndVerifyCsr(fs.readFileSync(csrPath, 'utf8'));
      assert.deepEqual(csr.subject, {
        commonName: '张三',
        organizationName: '某某建设集团有限公司',
        countryName: 'CN',
        serialNumber: '91110000MA01ABCD2X',
      });
    });

    it('when --usage encryption, then the files are named encryption.*', async function () {
      const dir = path.join(tmp, 'enc');
      const r = await run(['keygen', '--out', dir, '--cn', '李四', '--usage', 'encryption']);
      assert.equal(r.code, 0, r.err);
      assert.ok(fs.existsSync(path.join(dir, 'encryption.key.pem')));
      assert.ok(fs.existsSync(path.join(dir, 'encryption.csr.pem')));
    });

    it('when the key already exists, then refuses without --force and overwrites with --force', async function () {
      const dir = path.join(tmp, 'again');
      assert.equal((await run(['keygen', '--out', dir, '--cn', 'A'])).code, 0);
      const before = fs.readFileSync(path.join(dir, 'signing.key.pem'), 'utf8');
      const refused = await run(['keygen', '--out', dir, '--cn', 'A']);
      assert.equal(refused.code, 2);
      assert.match(refused.err, /--force/);
      assert.equal(fs.readFileSync(path.join(dir, 'signing.key.pem'), 'utf8'), before);
      const forced = await run(['keygen', '--out', dir, '--cn', 'A', '--force']);
      assert.equal(forced.code, 0, forced.err);
      assert.notEqual(fs.readFileSync(path.join(dir, 'signing.key.pem'), 'utf8'), before);
    });

    it('when --cn is missing or the usage is unknown, then exits non-zero', async function () {
      assert.notEqual((await run(['keygen', '--out', tmp])).code, 0);
      assert.notEqual((await run(['keygen', '--out', tmp, '--cn', 'x', '--usage', 'tsa'])).code, 0);
    });
  });

  describe('sign-challenge', function () {
    it('when run with a key from keygen, then prints a base64 signature that verifies against the CSR key', async function () {
      const dir = path.join(tmp, 'sig');
      assert.equal((await run(['keygen', '--out', dir, '--cn', '王五'])).code, 0);
      const nonce = 'nonce-123 挑战';
      const r = await run(['sign-challenge', '--key', path.join(dir, 'signing.key.pem'), '--nonce', nonce]);
      assert.equal(r.code, 0, r.err);
      const sig = r.out.trim();
      assert.match(sig, /^[A-Za-z0-9+/]+=*$/);
      const { publicKeyPem } = parseAndVerifyCsr(fs.readFileSync(path.join(dir, 'signing.csr.pem'), 'utf8'));
      assert.equal(verifyChallengeSignature(publicKeyPem, nonce, sig), true);
      assert.equal(verifyChallengeSignature(publicKeyPem, 'other', sig), false);
    });

    it('when the key file does not exist, then exits 2 with a message', async function () {
      const r = await run(['sign-challenge', '--key', path.join(tmp, 'missing.pem'), '--nonce', 'x']);
      assert.equal(r.code, 2);
      assert.match(r.err, /Cannot read private key file/);
    });
  });

  describe('cert-info and check-cert', function () {
    let certFile: string;

    before(async function () {
      const dir = path.join(tmp, 'cert');
      assert.equal((await run(['keygen', '--out', dir, '--cn', '张三', '--org', '某某建设集团有限公司'])).code, 0);
      const csr = parseAndVerifyCsr(fs.readFileSync(path.join(dir, 'signing.csr.pem'), 'utf8'));
      const pem = issueCertificate({
        ca,
        publicKeyPem: csr.publicKeyPem,
        subject: csr.subject,
        usage: 'signing',
        serialHex: randomSerialHex(),
        notBefore: new Date('2025-01-01T00:00:00Z'),
        notAfter: new Date('2026-01-01T00:00:00Z'),
      });
      certFile = path.join(dir, 'signing.cert.pem');
      fs.writeFileSync(certFile, pem);
    });

    it('when cert-info runs, then prints subject, issuer, serial, Shanghai-time validity, usage and fingerprint', async function () {
      const r = await run(['cert-info', '--cert', certFile]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Subject:\s+O=某某建设集团有限公司, CN=张三/);
      assert.match(r.out, /Issuer:\s+C=CN, CN=测试根CA/);
      assert.match(r.out, /Serial:\s+[0-9a-f]+/);
      assert.match(r.out, /Not before: 2025-01-01 08:00:00 \(北京时间/);
      assert.match(r.out, /Not after:\s+2026-01-01 08:00:00/);
      assert.match(r.out, /Usage:\s+签名 \/ signing/);
      assert.match(r.out, /Fingerprint: [0-9a-f]{64}/);
    });

    it('when the certificate is valid now, then check-cert exits 0', async function () {
      const r = await run(['check-cert', '--cert', certFile, '--ca', caFile, '--usage', 'signing'], new Date('2025-06-01T00:00:00Z'));
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Certificate OK/);
    });

    it('when the certificate has expired, then check-cert exits 1 naming EXPIRED', async function () {
      const r = await run(['check-cert', '--cert', certFile, '--ca', caFile], new Date('2027-01-01T00:00:00Z'));
      assert.equal(r.code, 1);
      assert.match(r.err, /EXPIRED/);
    });

    it('when --at is before notBefore, then check-cert exits 1 naming NOT_YET_VALID', async function () {
      const r = await run(['check-cert', '--cert', certFile, '--ca', caFile, '--at', '2024-12-31T00:00:00Z']);
      assert.equal(r.code, 1);
      assert.match(r.err, /NOT_YET_VALID/);
    });

    it('when the usage is wrong, then check-cert exits 1 naming WRONG_USAGE', async function () {
      const r = await run(['check-cert', '--cert', certFile, '--ca', caFile, '--usage', 'opening'], new Date('2025-06-01T00:00:00Z'));
      assert.equal(r.code, 1);
      assert.match(r.err, /WRONG_USAGE/);
    });

    it('when checked against another CA, then check-cert exits 1 naming NOT_ISSUED_BY_CA', async function () {
      const other = createRootCa({ commonName: 'Other CA' }, { notBefore: new Date('2024-01-01T00:00:00Z'), validityDays: 3650 });
      const otherFile = path.join(tmp, 'other-ca.pem');
      fs.writeFileSync(otherFile, other.certificatePem);
      const r = await run(['check-cert', '--cert', certFile, '--ca', otherFile], new Date('2025-06-01T00:00:00Z'));
      assert.equal(r.code, 1);
      assert.match(r.err, /NOT_ISSUED_BY_CA/);
    });

    it('when the certificate file is not a certificate, then exits 2', async function () {
      const bad = path.join(tmp, 'bad.pem');
      fs.writeFileSync(bad, 'nonsense');
      const r = await run(['cert-info', '--cert', bad]);
      assert.equal(r.code, 2);
      assert.match(r.err, /Invalid certificate/);
    });
  });
});

describe('bidtool: the installed command', () => {
  it('when run through its launcher from another directory, then it starts and prints its version', async () => {
    const { execFileSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const os = await import('node:os');
    const launcher = fileURLToPath(new URL('../../crypto/cli/bidtool.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [launcher, '--version'], { cwd: os.tmpdir() }).toString();
    assert.match(out, /^\d+\.\d+\.\d+/);
  });
});
