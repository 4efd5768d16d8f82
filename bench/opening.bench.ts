/**
 * Bid opening: decryption throughput of many large sealed bids, BidOpener (worker-thread pool) against
 * `openssl cms -decrypt` on the same files in the same run.
 *
 * Workload: BIDS (100) envelopes of SIZE MiB each (default 50, `--size-mib`). One real bid package is made with
 * crypto/package packBid around one SIZE-MiB document of pseudo-random (incompressible) bytes — packBid stores such
 * a document as it is (deflating it would gain nothing), so the zip is barely larger than the document and verifying
 * it (read back + SHA-256 of the document + manifest check) runs at close to hashing speed. The package is
 * then sealed BIDS times with crypto/envelope encryptStream (a fresh content key each) to a test recipient
 * certificate (crypto/pki), into a LocalBlobStore directory; the content keys are unwrapped up front (as bidders
 * hand them over at the opening). The runner has no option for the number of bids: it is fixed at BIDS.
 *
 * Baseline, same files, same run: `openssl cms -decrypt -inform DER -binary -recip CERT -inkey KEY` writing the
 * plaintext zip to a file — once over all files one after another (one core), once as two lanes in parallel (two
 * cores). openssl also unwraps the content key with RSA per file (about a millisecond); we are given the key.
 * Note that openssl 3.0 reads the whole envelope into memory (fine at 50 MiB).
 *
 * Ours: BidOpener.open for every bid, all at once, over a LocalBlobStore on the same files — once with a
 * one-worker pool (one core) and once with the default pool (min(cores, 4) workers). Ours does more than openssl:
 * besides decrypting to a temp file it verifies the package (reading the document back and hashing it, writing
 * nothing) and keeps the plaintext zip in the blob store (fsync + rename). Each opener is warmed up first (workers
 * started, code compiled) by opening bids outside the measurement.
 *
 * Figures:
 * - decryption throughput per core (envelope bytes / wall time), one-worker pool vs openssl sequential: ratio ≥ 0.8;
 * - decryption throughput on all cores, default pool vs openssl ×2 in parallel: ratio ≥ 0.8;
 * - CPU utilisation of the default pool (CPU seconds of this process / wall time, in cores): ≥ 0.75 × cores used;
 * - informational: the decryption stage alone (decryptStream file to file, sequential) against openssl sequential,
 *   the one-worker utilisation, the pool's speed-up over one worker (openssl ×2's over sequential beside it).
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decryptStream, encryptStream, inspectFile, unwrapContentKey } from '../crypto/envelope';
import { packBid } from '../crypto/package';
import { idNumberCheckChar } from '../crypto/package/manifest';
import { createRootCa, generateRsaKeyPair, issueCertificate, randomSerialHex } from '../crypto/pki';
import { withCheckChar } from '../src/identity/credit-code';
import { BidOpener, MAX_OPENER_WORKERS } from '../src/opening/bid-opener';
import type { Bid } from '../src/bids/bids.repository';
import { LocalBlobStore } from '../src/shared/blobs/local-blob-store';
import { onExitCleanup } from './support/cleanup';
import { readMachineCpu } from './support/proc-stats';
import { MiB, mbps, pseudoRandomSource, round } from './support/data';
import type { BenchOptions, BenchResult } from './support/types';

const DEFAULT_SIZE_MIB = 50;
const BIDS = 100;
const RATIO_TARGET = 0.8;
/** The pool should keep this share of the cores it uses busy. */
const UTILISATION_TARGET_SHARE = 0.75;

const TENDER_ID = 'bench-tender';
const SECTION_ID = 'bench-section';
const CREDIT_CODE = withCheckChar('91610131MA6W00001');


/** CPU seconds (user + system) of this process's waited-for children so far (cutime + cstime of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const text = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3; cutime (16) and cstime (17) are at 13 and 14; USER_HZ is 100
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function runOpenssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`openssl ${args[0]} ${args[1]} failed (${code}): ${stderr.slice(0, 500)}`))));
  });
}

interface Phase {
  ms: number;
  /** CPU seconds spent by the measured work (this process, or openssl children). */
  cpuSeconds: number;
  /** Share of the whole machine busy during the phase (0–1). */
  machineBusy: number;
}

async function measure(work: () => Promise<void>, cpu: () => number): Promise<Phase> {
  const m0 = readMachineCpu();
  const c0 = cpu();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const cpuSeconds = cpu() - c0;
  const m1 = readMachineCpu();
  const machineBusy = m0 && m1 ? (m1.busy - m0.busy) / (m1.total - m0.total) : NaN;
  return { ms, cpuSeconds, machineBusy };
}

const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const sizeMiB = opts.sizeMiB ?? DEFAULT_SIZE_MIB;
  const size = Math.round(sizeMiB * MiB);
  if (size < 1) throw new RangeError('--size-mib must give at least one byte');
  const log = opts.log;
  const cores = os.availableParallelism();

  const which = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('openssl is needed for the baseline and was not found');
  log(`${which.stdout.trim()}; ${cores} cores`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-bench-open-'));
  const unregisterTmp = onExitCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const openers: BidOpener[] = [];
  try {
    // --- the recipient: a test CA, an encryption certificate and its key, as files for openssl
    const notBefore = new Date(Date.now() - 3_600_000);
    const ca = createRootCa({ commonName: 'Bench CA', organizationName: 'gongzi bench' }, { notBefore, validityDays: 30 });
    const keys = generateRsaKeyPair(2048);
    const certificatePem = issueCertificate({
      ca,
      publicKeyPem: keys.publicKeyPem,
      subject: { commonName: 'Bench bidder', organizationName: '陕西基准测试建设有限公司', serialNumber: CREDIT_CODE },
      usage: 'encryption',
      serialHex: randomSerialHex(),
      notBefore,
      notAfter: new Date(notBefore.getTime() + 30 * 86_400_000),
    });
    const certFile = path.join(tmp, 'recipient.crt');
    const keyFile = path.join(tmp, 'recipient.key');
    fs.writeFileSync(certFile, certificatePem);
    fs.writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });

    // --- one real bid package around one incompressible document
    let t0 = performance.now();
    const docFile = path.join(tmp, 'document.bin');
    await new Promise<void>((resolve, reject) => {
      const out = fs.createWriteStream(docFile, { highWaterMark: MiB });
      pseudoRandomSource(size).pipe(out).on('finish', resolve).on('error', reject);
    });
    const zipFile = path.join(tmp, 'bid.zip');
    const idBody = '61010319800101123';
    await packBid({
      outPath: zipFile,
      manifest: {
        tenderId: TENDER_ID,
        sectionId: SECTION_ID,
        bidder: { name: '陕西基准测试建设有限公司', creditCode: CREDIT_CODE },
        form: {
          totalPriceFen: 123_456_789,
          durationDays: 365,
          quality: '合格',
          projectManager: { name: '项目经理', idNumber: idBody + idNumberCheckChar(idBody) },
          validityDays: 90,
        },
        author: 'bench',
        tool: { name: 'bidtool', version: '0.1.0', serial: 'bench-serial' },
      },
      files: [{ sourcePath: docFile, path: '商务标/报价文件.bin' }],
    });
    fs.rmSync(docFile);
    const zipSize = fs.statSync(zipFile).size;
    log(`packed a ${sizeMiB} MiB document into a ${zipSize}-byte bid package in ${round((performance.now() - t0) / 1000)} s`);

    // --- BIDS envelopes, each with its own content key, straight into a LocalBlobStore directory
    t0 = performance.now();
    const store = new LocalBlobStore(path.join(tmp, 'blobs'));
    const envelopeDir = path.join(store.root, 'bids', 'bench');
    fs.mkdirSync(envelopeDir, { recursive: true });
    const bids: Bid[] = [];
    const files: string[] = [];
    const contentKeys: Buffer[] = [];
    let envelopeBytes = 0;
    for (let i = 0; i < BIDS; i++) {
      const blobKey = `bids/bench/${String(i).padStart(3, '0')}.cms`;
      const file = path.join(store.root, blobKey);
      const out = fs.createWriteStream(file, { highWaterMark: MiB });
      const sealed = await encryptStream(fs.createReadStream(zipFile, { highWaterMark: MiB }), out, { recipients: [certificatePem], size: zipSize });
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      envelopeBytes += sealed.length;
      contentKeys.push(unwrapContentKey(await inspectFile(file), { privateKeyPem: keys.privateKeyPem, certificatePem }));
      files.push(file);
      bids.push({ id: `bench-bid-${i}`, tenderId: TENDER_ID, sectionId: SECTION_ID, blobKey } as Bid);
    }
    spawnSync('sync'); // no dirty pages of the envelopes are written back during the measurements
    const envelopeSize = envelopeBytes / BIDS;
    log(`sealed ${BIDS} envelopes of ${round(envelopeSize / MiB)} MiB in ${round((performance.now() - t0) / 1000)} s`);
    const workload = `${BIDS} bids × ${sizeMiB} MiB (envelope ${Math.round(envelopeSize)} B, one incompressible document in a real packBid package)`;

    // --- openssl, sequentially and in two lanes
    const opensslOut = path.join(tmp, 'openssl-out');
    fs.mkdirSync(opensslOut);
    const decryptArgs = (i: number) => ['cms', '-decrypt', '-inform', 'DER', '-binary', '-recip', certFile, '-inkey', keyFile, '-in', files[i]!, '-out', path.join(opensslOut, `${i}.zip`)];
    // check once that openssl opens our envelopes and gets our package back
    await runOpenssl(decryptArgs(0));
    const zipSha = crypto.createHash('sha256').update(fs.readFileSync(zipFile)).digest('hex');
    const outSha = crypto.createHash('sha256').update(fs.readFileSync(path.join(opensslOut, '0.zip'))).digest('hex');
    if (zipSha !== outSha) throw new Error('openssl decrypted something other than the package');
    const clearOpensslOut = async () => {
      await fsp.rm(opensslOut, { recursive: true, force: true });
      await fsp.mkdir(opensslOut);
    };
    await clearOpensslOut();

    const lanes = async (n: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: n }, async () => {
          while (next < BIDS) await runOpenssl(decryptArgs(next++));
        }),
      );
    };
    const sslSeq = await measure(() => lanes(1), childrenCpuSeconds);
    log(`openssl sequential: ${round(mbps(envelopeBytes, sslSeq.ms), 1)} MB/s (${round(sslSeq.ms / 1000)} s, ${round(sslSeq.cpuSeconds)} CPU s)`);
    await clearOpensslOut();
    spawnSync('sync');

    // --- our decryption stage alone (crypto/envelope decryptStream, this thread, files one after another)
    const decryptOnly = await measure(async () => {
      for (let i = 0; i < BIDS; i++) {
        const out = fs.createWriteStream(path.join(opensslOut, `${i}.zip`), { highWaterMark: MiB });
        await decryptStream(fs.createReadStream(files[i]!, { highWaterMark: MiB }), out, { contentKey: contentKeys[i]! });
        if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      }
    }, ownCpu);
    log(`decryptStream alone, sequential: ${round(mbps(envelopeBytes, decryptOnly.ms), 1)} MB/s (${round(decryptOnly.ms / 1000)} s, ${round(decryptOnly.cpuSeconds)} CPU s)`);
    await clearOpensslOut();
    spawnSync('sync');

    // --- ours, one worker
    const openAll = async (opener: BidOpener, label: string) => {
      const results = await Promise.all(bids.map((bid, i) => opener.open(bid, contentKeys[i]!, { creditCode: CREDIT_CODE })));
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`${label}: ${failed.length} bids did not open: ${JSON.stringify(failed[0])}`);
    };
    const clearOpened = async () => {
      await fsp.rm(path.join(store.root, 'opened'), { recursive: true, force: true });
    };
    const warmUp = async (opener: BidOpener, n: number) => {
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => opener.open({ ...bids[i]!, id: `warm-up-${i}` }, contentKeys[i]!, { creditCode: CREDIT_CODE })),
      );
      if (!results.every((r) => r.ok)) throw new Error(`warm-up failed: ${JSON.stringify(results.find((r) => !r.ok))}`);
      await clearOpened();
      spawnSync('sync');
    };

    const single = new BidOpener(store, { workers: 1 });
    openers.push(single);
    await warmUp(single, 1);
    const oursOne = await measure(() => openAll(single, 'one worker'), ownCpu);
    log(`ours, one worker: ${round(mbps(envelopeBytes, oursOne.ms), 1)} MB/s (${round(oursOne.ms / 1000)} s, ${round(oursOne.cpuSeconds)} CPU s)`);
    await single.close();
    await clearOpened();
    spawnSync('sync');

    const sslPar = await measure(() => lanes(2), childrenCpuSeconds);
    log(`openssl ×2: ${round(mbps(envelopeBytes, sslPar.ms), 1)} MB/s (${round(sslPar.ms / 1000)} s, ${round(sslPar.cpuSeconds)} CPU s)`);
    await clearOpensslOut();
    spawnSync('sync');

    // --- ours, the default pool
    const poolSize = Math.min(cores, MAX_OPENER_WORKERS);
    const pool = new BidOpener(store);
    openers.push(pool);
    await warmUp(pool, poolSize);
    const oursPool = await measure(() => openAll(pool, 'pool'), ownCpu);
    log(`ours, pool of ${poolSize}: ${round(mbps(envelopeBytes, oursPool.ms), 1)} MB/s (${round(oursPool.ms / 1000)} s, ${round(oursPool.cpuSeconds)} CPU s)`);
    await pool.close();
    await clearOpened();

    const seqMBps = mbps(envelopeBytes, sslSeq.ms);
    const parMBps = mbps(envelopeBytes, sslPar.ms);
    const oneMBps = mbps(envelopeBytes, oursOne.ms);
    const poolMBps = mbps(envelopeBytes, oursPool.ms);
    const perCore = oneMBps / seqMBps;
    const allCores = poolMBps / parMBps;
    const poolCores = oursPool.cpuSeconds / (oursPool.ms / 1000);
    const coresUsed = Math.min(cores, poolSize);
    const utilisationTarget = UTILISATION_TARGET_SHARE * coresUsed;
    const machine = (p: Phase) => `machine ${round(100 * p.machineBusy)}% busy over ${cores} cores`;

    return [
      {
        figure: 'decryption throughput, one core',
        value: round(oneMBps, 1),
        unit: 'MB/s',
        baseline: { name: 'openssl cms -decrypt, files one after another', value: round(seqMBps, 1), unit: 'MB/s' },
        ratio: round(perCore, 3),
        target: `ratio ≥ ${RATIO_TARGET}`,
        pass: perCore >= RATIO_TARGET,
        workload: `${workload}; BidOpener with 1 worker, all bids at once (decrypt + verify + store)`,
      },
      {
        figure: `decryption throughput, ${Math.min(cores, 2)} cores`,
        value: round(poolMBps, 1),
        unit: 'MB/s',
        baseline: { name: 'openssl cms -decrypt, 2 in parallel', value: round(parMBps, 1), unit: 'MB/s' },
        ratio: round(allCores, 3),
        target: `ratio ≥ ${RATIO_TARGET}`,
        pass: allCores >= RATIO_TARGET,
        workload: `${workload}; BidOpener default pool (${poolSize} workers), all bids at once; ${machine(oursPool)}`,
      },
      {
        figure: 'CPU utilisation, pool',
        value: round(poolCores),
        unit: 'cores',
        baseline: { name: 'openssl ×2 (children CPU / wall)', value: round(sslPar.cpuSeconds / (sslPar.ms / 1000)), unit: 'cores' },
        target: `≥ ${round(utilisationTarget)} cores`,
        pass: poolCores >= utilisationTarget,
        workload: `${workload}; this process's CPU (main + workers) / wall; ${machine(oursPool)}`,
      },
      {
        figure: 'decrypt stage alone, one core',
        value: round(mbps(envelopeBytes, decryptOnly.ms), 1),
        unit: 'MB/s',
        baseline: { name: 'openssl cms -decrypt, files one after another', value: round(seqMBps, 1), unit: 'MB/s' },
        ratio: round(mbps(envelopeBytes, decryptOnly.ms) / seqMBps, 3),
        target: 'info',
        pass: true,
        workload: `${workload}; crypto/envelope decryptStream file → file, no verify, no store`,
      },
      {
        figure: 'CPU utilisation, one worker',
        value: round(oursOne.cpuSeconds / (oursOne.ms / 1000)),
        unit: 'cores',
        baseline: { name: 'openssl sequential', value: round(sslSeq.cpuSeconds / (sslSeq.ms / 1000)), unit: 'cores' },
        target: 'info',
        pass: true,
        workload: `${workload}; ${machine(oursOne)}`,
      },
      {
        figure: 'pool speed-up over one worker',
        value: round(poolMBps / oneMBps),
        unit: '×',
        baseline: { name: 'openssl ×2 over sequential', value: round(parMBps / seqMBps), unit: '×' },
        target: 'info',
        pass: true,
        workload,
      },
    ];
  } finally {
    for (const opener of openers) await opener.close().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
    unregisterTmp();
  }
}
