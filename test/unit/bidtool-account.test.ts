/**
 * bidtool enrol / login / whoami against the real platform, started in-process on a loopback port: the CLI talks
 * to it over HTTP exactly as a bidder's machine would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseCertificate } from '../../crypto/pki';
import { createTestApp, T0, type TestApp } from '../support/app';
import { listen, runCli, stopListening, type RunResult } from '../support/bidtool-cli';
import { bearer, createOrganisation, operatorToken } from '../support/factories';

/** Client time: a minute after the platform's frozen clock, so fresh certificates are valid. */
const CLIENT_NOW = new Date(T0.getTime() + 60_000);

const run = (args: string[]): Promise<RunResult> => runCli(args, { now: () => CLIENT_NOW });

function keyFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.key.pem')) : [];
}

function opensslVerify(caFile: string, certFile: string): string {
  const atEpoch = String(Math.floor(CLIENT_NOW.getTime() / 1000));
  return execFileSync('openssl', ['verify', '-attime', atEpoch, '-CAfile', caFile, certFile], { encoding: 'utf8' });
}

describe('bidtool enrol, login and whoami (against the platform)', function () {
  this.timeout(120_000);

  let t: TestApp;
  let server: Server;
  let url: string;
  let tmp: string;
  let orgId: string;
  let orgName: string;

  /** A new user of the organisation; returns its username, display name and one-time code. */
  async function newUser(): Promise<{ username: string; displayName: string; code: string }> {
    const op = await operatorToken(t);
    const username = `bt${Math.random().toString(36).slice(2, 10)}`;
    const displayName = '赵工程师';
    const res = await t.http
      .post(`/api/v1/organisations/${orgId}/users`)
      .set(bearer(op))
      .send({ username, displayName, role: 'admin' })
      .expect(201);
    assert.equal(typeof res.body.enrolmentCode, 'string');
    return { username, displayName, code: res.body.enrolmentCode };
  }

  before(async function () {
    t = await createTestApp('bidtool-account');
    ({ server, url } = await listen(t));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bidtool-account-'));
    orgId = await createOrganisation(t, 'bidder');
    const org = await t.http.get(`/api/v1/organisations/${orgId}`).set(bearer(await operatorToken(t))).expect(200);
    orgName = org.body.name;
  });

  after(async function () {
    await stopListening(server);
    if (t) await t.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('with a fresh user', function () {
    let user: { username: string; displayName: string; code: string };
    let dir: string;

    before(async function () {
      user = await newUser();
      dir = path.join(tmp, 'alice');
    });

    it('when enrolling with the code, then writes 0600 keys, certificates that verify against ca.pem, and prints serials and validity', async function () {
      const r = await run(['enrol', '--server', url, '--username', user.username, '--code', user.code, '--out', dir]);
      assert.equal(r.code, 0, r.err + r.out);
      for (const f of ['signing.key.pem', 'encryption.key.pem', 'signing.cert.pem', 'encryption.cert.pem', 'ca.pem']) {
        assert.ok(fs.existsSync(path.join(dir, f)), f);
      }
      if (process.platform !== 'win32') {
        for (const f of ['signing.key.pem', 'encryption.key.pem']) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
      }
      const caFile = path.join(dir, 'ca.pem');
      const caPem = (await t.http.get('/api/v1/pki/ca-certificate').expect(200)).text;
      assert.equal(fs.readFileSync(caFile, 'utf8'), caPem);
      for (const usage of ['signing', 'encryption'] as const) {
        const certFile = path.join(dir, `${usage}.cert.pem`);
        assert.match(opensslVerify(caFile, certFile), /: OK/);
        const info = parseCertificate(fs.readFileSync(certFile, 'utf8'));
        assert.equal(info.usage, usage);
        assert.equal(info.subject.commonName, user.displayName);
        assert.ok(r.out.includes(info.serialHex), `serial ${info.serialHex} printed`);
      }
      assert.match(r.out, /Enrolment complete/);
      assert.match(r.out, /Not before: 2026-11-23 09:00:00 \(北京时间 UTC\+8\)/);
      assert.equal(r.out.match(/通过 \/ OK/g)?.length, 2, r.out);
    });

    it('when enrolling again with the spent code, then exits 2 with ENROLMENT_INVALID and writes no key files', async function () {
      const again = path.join(tmp, 'alice-again');
      const r = await run(['enrol', '--server', url, '--username', user.username, '--code', user.code, '--out', again]);
      assert.equal(r.code, 2, r.out);
      assert.match(r.err, /ENROLMENT_INVALID/);
      assert.match(r.err, /注册码无效/);
      assert.deepEqual(keyFiles(again), []);
    });

    it('when enrolling into a directory that already has keys, then refuses without --force and leaves them', async function () {
      const before = fs.readFileSync(path.join(dir, 'signing.key.pem'), 'utf8');
      const r = await run(['enrol', '--server', url, '--username', user.username, '--code', user.code, '--out', dir]);
      assert.equal(r.code, 2);
      assert.match(r.err, /--force/);
      assert.equal(fs.readFileSync(path.join(dir, 'signing.key.pem'), 'utf8'), before);
    });

    it('when whoami runs before login, then exits 2 asking to log in', async function () {
      const r = await run(['whoami', '--server', url, '--dir', dir]);
      assert.equal(r.code, 2);
      assert.match(r.err, /bidtool login/);
    });

    it('when logging in, then saves a 0600 token, prints who and the expiry, and whoami shows the user', async function () {
      const r = await run(['login', '--server', url, '--dir', dir, '--device-fingerprint', 'machine-code-0001']);
      assert.equal(r.code, 0, r.err + r.out);
      const tokenFile = path.join(dir, 'token');
      assert.ok(fs.existsSync(tokenFile));
      if (process.platform !== 'win32') assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
      assert.match(fs.readFileSync(tokenFile, 'utf8'), /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      assert.ok(r.out.includes(`Logged in: ${user.displayName} (${user.username})`), r.out);
      assert.ok(r.out.includes(orgName), r.out);
      assert.match(r.out, /Token expires: 2026-11-23 \d\d:\d\d:\d\d \(北京时间 UTC\+8\)/);

      // the fingerprint reached the platform's audit chain with the login
      const row = await t.ctx.db('audit_events').where({ action: 'auth.login' }).orderBy('seq', 'desc').first();
      assert.equal(row?.device_fingerprint, 'machine-code-0001');

      const who = await run(['whoami', '--server', url, '--dir', dir]);
      assert.equal(who.code, 0, who.err);
      assert.ok(who.out.includes(`User:               ${user.displayName} (${user.username})`), who.out);
      assert.ok(who.out.includes(orgName), who.out);
      assert.match(who.out, /投标人 \/ bidder/);
      const serial = parseCertificate(fs.readFileSync(path.join(dir, 'signing.cert.pem'), 'utf8')).serialHex;
      assert.ok(who.out.includes(serial), who.out);
    });

    it('when logging in with --print-token, then prints only a token the platform accepts', async function () {
      const r = await run(['login', '--server', url, '--dir', dir, '--print-token']);
      assert.equal(r.code, 0, r.err);
      const token = r.out.trim();
      assert.equal(r.out, `${token}\n`);
      const me = await t.http.get('/api/v1/me').set(bearer(token)).expect(200);
      assert.equal(me.body.user.username, user.username);
    });

    it('when the saved token is garbage, then whoami exits 2 with the platform code', async function () {
      const other = path.join(tmp, 'garbage-token');
      fs.mkdirSync(other, { recursive: true });
      fs.writeFileSync(path.join(other, 'token'), 'not-a-token\n');
      const r = await run(['whoami', '--server', url, '--dir', other]);
      assert.equal(r.code, 2);
      assert.match(r.err, /TOKEN_INVALID|UNAUTHENTICATED/);
    });

    it('when the key does not belong to the certificate, then login refuses before contacting the platform', async function () {
      const mixed = path.join(tmp, 'mixed');
      fs.mkdirSync(mixed, { recursive: true });
      fs.copyFileSync(path.join(dir, 'encryption.key.pem'), path.join(mixed, 'signing.key.pem'));
      fs.copyFileSync(path.join(dir, 'signing.cert.pem'), path.join(mixed, 'signing.cert.pem'));
      const r = await run(['login', '--server', url, '--dir', mixed]);
      assert.equal(r.code, 2);
      assert.match(r.err, /does not match/);
    });
  });

  it('when the enrolment code is wrong, then exits 2 with ENROLMENT_INVALID and leaves no key files', async function () {
    const user = await newUser();
    const dir = path.join(tmp, 'wrong-code');
    const r = await run(['enrol', '--server', url, '--username', user.username, '--code', 'WRONG-CODE-123456', '--out', dir]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.err, /ENROLMENT_INVALID/);
    assert.deepEqual(keyFiles(dir), []);
    // the code itself is still good afterwards
    const ok = await run(['enrol', '--server', url, '--username', user.username, '--code', user.code, '--out', dir]);
    assert.equal(ok.code, 0, ok.err);
  });

  it('when the platform cannot be reached, then exits 1 and writes nothing', async function () {
    const user = await newUser();
    const dir = path.join(tmp, 'unreachable');
    const r = await run(['enrol', '--server', 'http://127.0.0.1:1', '--username', user.username, '--code', user.code, '--out', dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /Cannot reach the platform/);
    assert.deepEqual(keyFiles(dir), []);
  });
});
