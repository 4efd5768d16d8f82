/**
 * The only reader of `process.env`. Every key is documented here with its default; the README's configuration
 * table is generated from the same list (`npm run config:doc`), so the two cannot drift apart.
 * Invalid configuration fails at start with a message naming the key.
 */
import path from 'node:path';
import { z } from 'zod';

interface KeySpec<T extends z.ZodTypeAny> {
  schema: T;
  doc: string;
}

function key<T extends z.ZodTypeAny>(schema: T, doc: string): KeySpec<T> {
  return { schema, doc };
}

/** A whole number written as digits only (no blanks, no hex, no exponent). */
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

/** Every environment variable the platform reads. */
export const configKeys = {
  NODE_ENV: key(z.enum(['development', 'test', 'production']).default('development'), 'Run mode.'),
  HOST: key(z.string().default('127.0.0.1'), 'Address the HTTP server binds.'),
  PORT: key(int(0, 65535).default(3000), 'HTTP port (0 picks a free one).'),
  DATA_DIR: key(z.string().default('./data'), 'Local data: the embedded database and the default blob store.'),
  DATABASE_URL: key(
    z.string().url().optional(),
    'PostgreSQL URL. Unset: embedded PGlite (real Postgres in WebAssembly) in DATA_DIR/pglite.',
  ),
  DATABASE_POOL_MAX: key(int(1, 1000).default(10), 'Connection pool size for PostgreSQL.'),
  REDIS_URL: key(
    z.string().optional(),
    'Redis URL. Set: BullMQ queues and Redis pub/sub. Unset: jobs run in-process and events use an in-process emitter.',
  ),
  REDIS_PREFIX: key(z.string().regex(/^[A-Za-z0-9:_-]+$/).default('gz'), 'Prefix for every Redis key and channel.'),
  BLOB_DIR: key(z.string().optional(), 'Directory of the local blob store. Default: DATA_DIR/blobs.'),
  BLOB_STORE: key(
    z.enum(['local', 's3']).default('local'),
    'Where blobs (sealed bids, upload chunks, documents) are kept: local (BLOB_DIR) or s3 (an S3-compatible bucket, S3_*). Several API instances must share the store — s3, or one BLOB_DIR mounted by all — since each chunk of a resumable upload is a blob that any instance may need next (with s3, uploads use no local disk).',
  ),
  S3_ENDPOINT: key(z.string().url().optional(), 'S3-compatible service URL (MinIO, Ceph, OSS, COS, …). Unset: AWS S3 in S3_REGION.'),
  S3_REGION: key(z.string().regex(/^[a-z0-9-]+$/).default('us-east-1'), 'S3 region (signing region for other services).'),
  S3_BUCKET: key(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name').optional(),
    'The bucket (required with BLOB_STORE=s3). Give it a lifecycle rule aborting incomplete multipart uploads after a day: a process that dies mid-upload cannot abort its own.',
  ),
  S3_ACCESS_KEY_ID: key(z.string().optional(), 'S3 access key id. With S3_SECRET_ACCESS_KEY, or neither: then the SDK\'s default chain (AWS_* environment, instance or task role).'),
  S3_SECRET_ACCESS_KEY: key(z.string().optional(), 'S3 secret access key (secret: never logged).'),
  S3_FORCE_PATH_STYLE: key(bool.default(false), 'Address the bucket in the path (host/bucket/key), as MinIO and most S3-compatible services need.'),
  S3_KEY_PREFIX: key(
    z.string().regex(/^([a-z0-9][a-z0-9_.-]*\/)+$/, 'expected segments each ending with "/", e.g. gz/').optional(),
    'Prefix of every object key, e.g. gz/ to share a bucket. Unset: none.',
  ),
  LOG_LEVEL: key(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino log level.',
  ),
  PLATFORM_KEY_PASSPHRASE: key(
    z.string().min(12).default('dev-only-passphrase-change-me'),
    'Encrypts the platform CA, TSA and document-signing private keys at rest (PKCS#8). Must be changed in production.',
  ),
  PLATFORM_NAME: key(z.string().default('公共资源交易中心'), 'Shown in certificates and documents.'),
  TOKEN_TTL_SECONDS: key(int(30, 86400).default(900), 'Lifetime of a login token.'),
  SESSION_MAX_HOURS: key(
    int(1, 72).default(12),
    'How long after a login its tokens may still be renewed (POST /auth/renew, as the pages do); then the user logs in again.',
  ),
  LOGIN_CHALLENGE_TTL_SECONDS: key(
    int(10, 3600).default(120),
    'How long a certificate-login nonce may be answered.',
  ),
  CERT_VALIDITY_DAYS: key(int(1, 3650).default(365), 'Validity of issued user certificates.'),
  ADMIN_PASSWORD: key(
    z.string().min(10).optional(),
    'Password of the bootstrap operator `admin`, created at first start. Unset: a random one is printed once.',
  ),
  CLOCK: key(
    z.enum(['system', 'controllable']).default('system'),
    'controllable lets an operator move platform time (demos and tests only; refused in production).',
  ),
  OUTBOX_POLL_MS: key(int(10, 3_600_000).default(1000), 'How often the outbox dispatcher looks for due jobs.'),
  OUTBOX_SWEEP_SECONDS: key(
    int(1, 86_400).default(60),
    'A job handed to the queue and not finished after this long is checked and re-enqueued if the queue lost it.',
  ),
  RUN_JOBS_IN_API: key(
    bool.default(true),
    'Run the outbox dispatcher and job workers inside the API process. Set false when separate `npm run worker` processes do it.',
  ),
  JOB_CONCURRENCY: key(
    int(1, 256).default(4),
    'Jobs each worker process (or an API running jobs) runs at once per queue. Jobs mostly wait on PostgreSQL and the bank: keep it within DATABASE_POOL_MAX.',
  ),
  TRUST_PROXY: key(bool.default(false), 'Trust X-Forwarded-For (behind a reverse proxy) for client addresses.'),
  BID_MAX_BYTES: key(int(1024, 64 * 1024 ** 3).default(4 * 1024 ** 3), 'Largest sealed bid (envelope) accepted, in bytes.'),
  MAX_JSON_BYTES: key(int(1024, 1_073_741_824).default(1_048_576), 'Largest JSON request body.'),
  PUBLIC_ORIGIN: key(
    z.string().url().optional(),
    'The platform\'s address as browsers see it (e.g. https://ggzy.example.gov.cn), when a proxy changes the Host header. A state-changing request from any other Origin is refused (CSRF_REJECTED). Unset: the request\'s own Host.',
  ),
  RATE_LIMIT_WINDOW_SECONDS: key(int(1, 3600).default(60), 'Length of a rate-limit window (wall time of the server, not platform time).'),
  LOGIN_LIMIT_PER_ADDRESS: key(
    int(1, 100_000_000).default(600),
    'Login requests (challenge, certificate and password login) per window from one client address. Loose: on a deadline morning many bidders share one NAT address.',
  ),
  LOGIN_LIMIT_PER_ACCOUNT: key(int(1, 100_000_000).default(10), 'Login attempts per window naming one account (user name or certificate). Tight: what a guesser must reuse.'),
  UPLOAD_LIMIT_PER_BIDDER: key(
    int(1, 100_000_000).default(1200),
    'Bid upload requests (starting a session and each PATCH) per window from one bidder organisation. Generous: bidtool sends 8 MiB chunks, so 1200 a minute still lets a bidder on a gigabit line upload at full speed on the deadline morning.',
  ),
  UPLOAD_IDLE_SECONDS: key(int(1, 3600).default(60), 'A bid upload request that sends no byte for this long is cut off (408); it resumes from its stored offset.'),
  BANK_URL: key(
    z.string().url().optional(),
    'The bank gateway (银企直连; `npm run bank:sim` locally). Unset: deposit accounts are refused and refunds wait for a bank.',
  ),
  BANK_TIMEOUT_MS: key(int(100, 600_000).default(5000), 'How long a call to the bank may take before it counts as unanswered (and is retried with the same key).'),
  BANK_NOTIFY_SECRET: key(
    z.string().min(16).default('dev-only-bank-secret-change-me'),
    'HMAC secret shared with the bank: signs its credit notifications. Must be changed in production.',
  ),
  DEPOSIT_INTEREST_RATE_BP: key(
    int(0, 10_000).default(35),
    'Interest paid with a refunded deposit, basis points a year (35 = 0.35%, the demand-deposit rate), actual days / 360.',
  ),
  ALERT_DUE_WORKING_DAYS: key(
    z
      .string()
      .default('critical:1,high:3,warning:5,info:10')
      .superRefine((text, c) => {
        const parsed = parseAlertDueWorkingDays(text);
        if (typeof parsed === 'string') c.addIssue({ code: 'custom', message: parsed });
      }),
    'Working days a regulator has to handle an alert, by severity (the day raised not counted; China calendar). All four severities, a more severe one never given longer.',
  ),
  OCDS_PREFIX: key(
    z.string().regex(/^ocds-[a-z0-9]{6}$/, 'expected ocds- and six lower-case letters or digits').default('ocds-gzpt00'),
    'ocid prefix of the open data (OCDS). The default is a placeholder: register a prefix with the Open Contracting Partnership before publishing.',
  ),
  MONITORING_SCAN_SECONDS: key(int(5, 86_400).default(60), 'How often the monitoring rules read the new audit events (same address across bidders, staff behaviour, …).'),
  MONITORING_THRESHOLDS: key(
    z
      .string()
      .default('{}')
      .transform((text, c) => {
        try {
          const v = JSON.parse(text);
          if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((n) => typeof n === 'number')) return v as Record<string, number>;
        } catch {
          // reported below
        }
        c.addIssue({ code: 'custom', message: 'a JSON object of numbers, e.g. {"similar-bids.minSimilarity":0.9}' });
        return z.NEVER;
      }),
    'The monitoring rules\' thresholds changed from their defaults, as JSON keyed "<rule>.<threshold>" (see the alerts section).',
  ),
  AUDIT_CHECKPOINT_MINUTES: key(
    int(1, 1440).default(10),
    'How often the audit chain gets a signed checkpoint (Merkle root) when it has grown: the longest a bidder waits for its receipt\'s inclusion proof.',
  ),
} as const;

export type AlertDueWorkingDays = { critical: number; high: number; warning: number; info: number };

/** `critical:1,high:3,warning:5,info:10` → days by severity, or what is wrong with it. */
export function parseAlertDueWorkingDays(text: string): AlertDueWorkingDays | string {
  const order = ['critical', 'high', 'warning', 'info'] as const;
  const days: Partial<AlertDueWorkingDays> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(critical|high|warning|info)\s*:\s*(\d{1,2})\s*$/.exec(part);
    if (!m) return `"${part.trim()}" is not severity:days (severity one of ${order.join(', ')}; days 0–60)`;
    const severity = m[1] as (typeof order)[number];
    if (days[severity] !== undefined) return `${severity} is given twice`;
    if (Number(m[2]) > 60) return `${severity}: at most 60 working days`;
    days[severity] = Number(m[2]);
  }
  const missing = order.filter((s) => days[s] === undefined);
  if (missing.length) return `missing ${missing.join(', ')}`;
  for (let i = 1; i < order.length; i++) {
    if (days[order[i - 1]]! > days[order[i]]!) return `${order[i - 1]} may not have longer than ${order[i]}`;
  }
  return days as AlertDueWorkingDays;
}

type Keys = typeof configKeys;
export type RawConfig = { [K in keyof Keys]: z.output<Keys[K]['schema']> };

export interface Config {
  env: RawConfig['NODE_ENV'];
  host: string;
  port: number;
  dataDir: string;
  database: { url?: string; poolMax: number; embeddedDir: string };
  redis: { url?: string; prefix: string };
  blobDir: string;
  blobStore: RawConfig['BLOB_STORE'];
  s3: { endpoint?: string; region: string; bucket?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean; keyPrefix: string };
  logLevel: RawConfig['LOG_LEVEL'];
  platformKeyPassphrase: string;
  platformName: string;
  tokenTtlSeconds: number;
  sessionMaxHours: number;
  loginChallengeTtlSeconds: number;
  certValidityDays: number;
  adminPassword?: string;
  clock: RawConfig['CLOCK'];
  outbox: { pollMs: number; sweepSeconds: number };
  runJobsInApi: boolean;
  jobConcurrency: number;
  trustProxy: boolean;
  maxJsonBytes: number;
  publicOrigin?: string;
  rateLimits: { windowSeconds: number; loginPerAddress: number; loginPerAccount: number; uploadPerBidder: number };
  uploadIdleSeconds: number;
  bidMaxBytes: number;
  bank: { url?: string; timeoutMs: number; notifySecret: string; interestRateBp: number };
  alerts: { dueWorkingDays: AlertDueWorkingDays };
  ocds: { prefix: string };
  monitoring: { scanSeconds: number; thresholds: Record<string, number> };
  audit: { checkpointMinutes: number };
}

export class ConfigError extends Error {}

/** Reads and validates configuration. `overrides` lets tests and CLIs set keys without touching the environment. */
export function loadConfig(overrides: Partial<Record<keyof Keys, string>> = {}): Config {
  const source: Record<string, string | undefined> = { ...process.env, ...overrides };
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(configKeys)) {
    // blank counts as unset, so `PORT= ` falls back to the default rather than binding port 0
    const value = source[name]?.trim() === '' ? undefined : source[name];
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) raw[name] = parsed.data;
    else problems.push(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new ConfigError(`配置无效 (invalid configuration):\n  ${problems.join('\n  ')}`);
  const r = raw as RawConfig;
  if (r.NODE_ENV === 'production' && r.CLOCK === 'controllable') {
    throw new ConfigError('CLOCK=controllable is refused in production: platform time decides deadlines (EB 27).');
  }
  if (r.NODE_ENV === 'production' && r.PLATFORM_KEY_PASSPHRASE === configKeys.PLATFORM_KEY_PASSPHRASE.schema.parse(undefined)) {
    throw new ConfigError('PLATFORM_KEY_PASSPHRASE must be set in production.');
  }
  if (r.NODE_ENV === 'production' && r.BANK_NOTIFY_SECRET === configKeys.BANK_NOTIFY_SECRET.schema.parse(undefined)) {
    throw new ConfigError('BANK_NOTIFY_SECRET must be set in production.');
  }
  if (r.BLOB_STORE === 's3' && !r.S3_BUCKET) throw new ConfigError('S3_BUCKET must be set with BLOB_STORE=s3.');
  if (!r.S3_ACCESS_KEY_ID !== !r.S3_SECRET_ACCESS_KEY) {
    throw new ConfigError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together, or neither.');
  }
  const dataDir = path.resolve(r.DATA_DIR);
  return {
    env: r.NODE_ENV,
    host: r.HOST,
    port: r.PORT,
    dataDir,
    database: { url: r.DATABASE_URL, poolMax: r.DATABASE_POOL_MAX, embeddedDir: path.join(dataDir, 'pglite') },
    redis: { url: r.REDIS_URL, prefix: r.REDIS_PREFIX },
    blobDir: path.resolve(r.BLOB_DIR ?? path.join(dataDir, 'blobs')),
    blobStore: r.BLOB_STORE,
    s3: {
      endpoint: r.S3_ENDPOINT,
      region: r.S3_REGION,
      bucket: r.S3_BUCKET,
      accessKeyId: r.S3_ACCESS_KEY_ID,
      secretAccessKey: r.S3_SECRET_ACCESS_KEY,
      forcePathStyle: r.S3_FORCE_PATH_STYLE,
      keyPrefix: r.S3_KEY_PREFIX ?? '',
    },
    logLevel: r.LOG_LEVEL,
    platformKeyPassphrase: r.PLATFORM_KEY_PASSPHRASE,
    platformName: r.PLATFORM_NAME,
    tokenTtlSeconds: r.TOKEN_TTL_SECONDS,
    sessionMaxHours: r.SESSION_MAX_HOURS,
    loginChallengeTtlSeconds: r.LOGIN_CHALLENGE_TTL_SECONDS,
    certValidityDays: r.CERT_VALIDITY_DAYS,
    adminPassword: r.ADMIN_PASSWORD,
    clock: r.CLOCK,
    outbox: { pollMs: r.OUTBOX_POLL_MS, sweepSeconds: r.OUTBOX_SWEEP_SECONDS },
    runJobsInApi: r.RUN_JOBS_IN_API,
    jobConcurrency: r.JOB_CONCURRENCY,
    trustProxy: r.TRUST_PROXY,
    maxJsonBytes: r.MAX_JSON_BYTES,
    publicOrigin: r.PUBLIC_ORIGIN,
    rateLimits: {
      windowSeconds: r.RATE_LIMIT_WINDOW_SECONDS,
      loginPerAddress: r.LOGIN_LIMIT_PER_ADDRESS,
      loginPerAccount: r.LOGIN_LIMIT_PER_ACCOUNT,
      uploadPerBidder: r.UPLOAD_LIMIT_PER_BIDDER,
    },
    uploadIdleSeconds: r.UPLOAD_IDLE_SECONDS,
    bidMaxBytes: r.BID_MAX_BYTES,
    bank: { url: r.BANK_URL, timeoutMs: r.BANK_TIMEOUT_MS, notifySecret: r.BANK_NOTIFY_SECRET, interestRateBp: r.DEPOSIT_INTEREST_RATE_BP },
    alerts: { dueWorkingDays: parseAlertDueWorkingDays(r.ALERT_DUE_WORKING_DAYS) as AlertDueWorkingDays },
    ocds: { prefix: r.OCDS_PREFIX },
    monitoring: { scanSeconds: r.MONITORING_SCAN_SECONDS, thresholds: r.MONITORING_THRESHOLDS },
    audit: { checkpointMinutes: r.AUDIT_CHECKPOINT_MINUTES },
  };
}

/** The configuration table for the README: key, default, meaning. */
export function describeConfig(): Array<{ key: string; default: string; doc: string }> {
  return Object.entries(configKeys).map(([name, spec]) => {
    const d = spec.schema.safeParse(undefined);
    return { key: name, default: d.success && d.data !== undefined ? String(d.data) : '(unset)', doc: spec.doc };
  });
}
