import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, configKeys, describeConfig, loadConfig } from '../../src/config';

type Overrides = Parameters<typeof loadConfig>[0];

/** Every key this file asserts a default for, forced to "unset" (an empty string counts as unset). */
const UNSET: Overrides = {
  NODE_ENV: '',
  HOST: '',
  PORT: '',
  DATA_DIR: '',
  DATABASE_URL: '',
  DATABASE_POOL_MAX: '',
  REDIS_URL: '',
  REDIS_PREFIX: '',
  BLOB_DIR: '',
  LOG_LEVEL: '',
  PLATFORM_KEY_PASSPHRASE: '',
  TOKEN_TTL_SECONDS: '',
  LOGIN_CHALLENGE_TTL_SECONDS: '',
  CERT_VALIDITY_DAYS: '',
  ADMIN_PASSWORD: '',
  CLOCK: '',
  OUTBOX_POLL_MS: '',
  OUTBOX_SWEEP_SECONDS: '',
  RUN_JOBS_IN_API: '',
  TRUST_PROXY: '',
  MAX_JSON_BYTES: '',
};

/** A production configuration that passes, to change one key at a time. */
const PRODUCTION: Overrides = {
  ...UNSET,
  NODE_ENV: 'production',
  CLOCK: 'system',
  PLATFORM_KEY_PASSPHRASE: 'a-real-production-passphrase',
  BANK_NOTIFY_SECRET: 'a-real-bank-notification-secret',
};

function refusedNaming(overrides: Overrides, key: string): void {
  assert.throws(
    () => loadConfig(overrides),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
      assert.match(err.message, new RegExp(`\\b${key}\\b`), `the message names ${key}: ${err.message}`);
      return true;
    },
  );
}

describe('config: loadConfig and describeConfig', function () {
  describe('defaults', function () {
    it('when nothing is set, then port 3000 on 127.0.0.1, embedded database, blobs and pglite under DATA_DIR, jobs in the API', function () {
      const config = loadConfig(UNSET);
      assert.equal(config.env, 'development');
      assert.equal(config.host, '127.0.0.1');
      assert.equal(config.port, 3000);
      assert.equal(config.dataDir, path.resolve('./data'));
      assert.equal(config.database.url, undefined, 'no DATABASE_URL: embedded PGlite');
      assert.equal(config.database.embeddedDir, path.join(path.resolve('./data'), 'pglite'));
      assert.equal(config.database.poolMax, 10);
      assert.equal(config.redis.url, undefined, 'no REDIS_URL: in-process jobs and events');
      assert.equal(config.redis.prefix, 'gz');
      assert.equal(config.blobDir, path.join(path.resolve('./data'), 'blobs'));
      assert.equal(config.logLevel, 'info');
      assert.equal(config.tokenTtlSeconds, 900);
      assert.equal(config.loginChallengeTtlSeconds, 120);
      assert.equal(config.certValidityDays, 365);
      assert.equal(config.adminPassword, undefined);
      assert.equal(config.clock, 'system');
      assert.deepEqual(config.outbox, { pollMs: 1000, sweepSeconds: 60 });
      assert.equal(config.runJobsInApi, true);
      assert.equal(config.trustProxy, false);
      assert.equal(config.maxJsonBytes, 1_048_576);
    });

    it('when DATA_DIR is set and BLOB_DIR is not, then the blob store and the embedded database live under DATA_DIR', function () {
      const config = loadConfig({ ...UNSET, DATA_DIR: '/srv/gz-data' });
      assert.equal(config.dataDir, '/srv/gz-data');
      assert.equal(config.blobDir, '/srv/gz-data/blobs');
      assert.equal(config.database.embeddedDir, '/srv/gz-data/pglite');
    });

    it('when BLOB_DIR, DATABASE_URL and REDIS_URL are set, then they are used as given', function () {
      const config = loadConfig({
        ...UNSET,
        DATA_DIR: '/srv/gz-data',
        BLOB_DIR: '/mnt/blobs',
        DATABASE_URL: 'postgres://app@db.example:5432/gz',
        REDIS_URL: 'redis://cache.example:6379',
        RUN_JOBS_IN_API: 'false',
        TRUST_PROXY: '1',
        PORT: '0',
      });
      assert.equal(config.blobDir, '/mnt/blobs');
      assert.equal(config.database.url, 'postgres://app@db.example:5432/gz');
      assert.equal(config.redis.url, 'redis://cache.example:6379');
      assert.equal(config.runJobsInApi, false);
      assert.equal(config.trustProxy, true);
      assert.equal(config.port, 0, 'port 0 picks a free one');
    });

    it('when an override is an empty string, then the key counts as unset even if the environment sets it', function () {
      const saved = process.env.PORT;
      process.env.PORT = '4321';
      try {
        const { PORT: _port, ...withoutPort } = UNSET;
        assert.equal(loadConfig(withoutPort).port, 4321, 'the environment is read');
        assert.equal(loadConfig(UNSET).port, 3000, 'an empty override means unset');
        assert.equal(loadConfig({ ...UNSET, PORT: '5555' }).port, 5555, 'an override wins over the environment');
      } finally {
        if (saved === undefined) delete process.env.PORT;
        else process.env.PORT = saved;
      }
    });
  });

  it('when a number key is blank, then the default applies (not port 0)', function () {
    assert.equal(loadConfig({ ...UNSET, PORT: '  ' }).port, 3000);
  });

  describe('invalid values', function () {
    for (const [key, value] of [
      ['PORT', 'abc'],
      ['PORT', '65536'],
      ['PORT', '80.5'],
      ['PORT', '0x50'],
      ['PORT', '1e3'],
      ['REDIS_PREFIX', 'a b'],
      ['REDIS_PREFIX', 'gz{x}'],
      ['TOKEN_TTL_SECONDS', '5'],
      ['TOKEN_TTL_SECONDS', '86401'],
      ['DATABASE_URL', 'not a url'],
      ['RUN_JOBS_IN_API', 'yes'],
      ['LOG_LEVEL', 'verbose'],
      ['CLOCK', 'fast'],
      ['NODE_ENV', 'staging'],
      ['PLATFORM_KEY_PASSPHRASE', 'short'],
      ['ADMIN_PASSWORD', 'short'],
      ['MAX_JSON_BYTES', '100'],
    ] as const) {
      it(`when ${key}=${JSON.stringify(value)}, then a ConfigError names ${key}`, function () {
        refusedNaming({ ...UNSET, [key]: value }, key);
      });
    }

    it('when several keys are invalid, then one ConfigError names each of them', function () {
      assert.throws(
        () => loadConfig({ ...UNSET, PORT: 'abc', REDIS_PREFIX: 'a b', TOKEN_TTL_SECONDS: '5' }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          for (const key of ['PORT', 'REDIS_PREFIX', 'TOKEN_TTL_SECONDS']) assert.match(err.message, new RegExp(`\\b${key}:`));
          assert.doesNotMatch(err.message, /\bHOST:/, 'valid keys are not named');
          return true;
        },
      );
    });
  });

  describe('production', function () {
    it('when production is configured properly, then it loads', function () {
      const config = loadConfig(PRODUCTION);
      assert.equal(config.env, 'production');
      assert.equal(config.clock, 'system');
      assert.equal(config.platformKeyPassphrase, 'a-real-production-passphrase');
    });

    it('when production asks for CLOCK=controllable, then a ConfigError naming CLOCK', function () {
      refusedNaming({ ...PRODUCTION, CLOCK: 'controllable' }, 'CLOCK');
    });

    it('when production keeps the default passphrase, then a ConfigError naming PLATFORM_KEY_PASSPHRASE', function () {
      refusedNaming({ ...PRODUCTION, PLATFORM_KEY_PASSPHRASE: '' }, 'PLATFORM_KEY_PASSPHRASE');
      refusedNaming({ ...PRODUCTION, PLATFORM_KEY_PASSPHRASE: 'dev-only-passphrase-change-me' }, 'PLATFORM_KEY_PASSPHRASE');
    });

    it('when production keeps the default bank secret, then a ConfigError naming BANK_NOTIFY_SECRET', function () {
      refusedNaming({ ...PRODUCTION, BANK_NOTIFY_SECRET: 'dev-only-bank-secret-change-me' }, 'BANK_NOTIFY_SECRET');
    });

    it('when not in production, then CLOCK=controllable and the default passphrase are allowed', function () {
      for (const env of ['development', 'test']) {
        const config = loadConfig({ ...UNSET, NODE_ENV: env, CLOCK: 'controllable' });
        assert.equal(config.clock, 'controllable');
        assert.equal(config.platformKeyPassphrase, 'dev-only-passphrase-change-me');
      }
    });
  });

  describe('describeConfig', function () {
    it('when described, then every key of configKeys appears once, in order, with a doc', function () {
      const table = describeConfig();
      assert.deepEqual(table.map((r) => r.key), Object.keys(configKeys));
      for (const row of table) {
        assert.equal(typeof row.doc, 'string');
        assert.ok(row.doc.trim().length > 5, `${row.key} has a doc`);
        assert.equal(typeof row.default, 'string');
      }
    });

    it('when described, then defaults are shown as loadConfig applies them, and optional keys as (unset)', function () {
      const byKey = new Map(describeConfig().map((r) => [r.key, r.default]));
      assert.equal(byKey.get('PORT'), '3000');
      assert.equal(byKey.get('HOST'), '127.0.0.1');
      assert.equal(byKey.get('RUN_JOBS_IN_API'), 'true');
      assert.equal(byKey.get('TRUST_PROXY'), 'false');
      assert.equal(byKey.get('TOKEN_TTL_SECONDS'), '900');
      assert.equal(byKey.get('DATABASE_URL'), '(unset)');
      assert.equal(byKey.get('REDIS_URL'), '(unset)');
      assert.equal(byKey.get('BLOB_DIR'), '(unset)');
      assert.equal(byKey.get('ADMIN_PASSWORD'), '(unset)');
    });
  });
});

describe('config: the README documents it', function () {
  it('when the README is read, then its configuration table names every key with its default', async function () {
    const fs = await import('node:fs');
    const { describeConfig } = await import('../../src/config');
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = describeConfig().filter((k) => !readme.includes(`| \`${k.key}\` | \`${k.default}\` |`)).map((k) => k.key);
    assert.deepEqual(missing, [], 'run `npm run config:doc` and paste the table into the README');
  });
});
