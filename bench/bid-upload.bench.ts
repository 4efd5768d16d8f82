/**
 * Bid upload: a large sealed bid sent in one PATCH, which the server stores and inspects in a single streaming pass.
 *
 * Workload: SIZE MiB of pseudo-random plaintext (default 1024, `--size-mib`) sealed once with crypto/envelope to the
 * bidder's encryption certificate and the tender's opening certificate, signed, then uploaded over loopback to the
 * platform running in a child process (bench/support/bench-server.ts), after a 1 MiB warm-up bid.
 *
 * Baseline, measured in the same run: raw streaming of the same envelope file to another file on the same disk
 * while hashing SHA-256, written the way the local blob store writes (temp file opened 'wx', SyncedFileWriter, which
 * starts writeback as it goes and fsyncs at the end, rename, directory fsync). Run once before and once after the upload; the MEAN of
 * the two is the baseline: they bracket the upload, so a drift of the disk's speed during the run (seen here: the
 * run after a GiB of writes is often slower) cancels to first order, where the better of the two would favour
 * whichever run came first.
 *
 * Figures:
 * - upload throughput (envelope bytes / time from the first byte sent to the parsed response with the receipt):
 *   ratio to the baseline, target ≥ 0.5;
 * - server peak RSS growth during the upload (peak − RSS just before it): target < 100 MiB;
 * - time from the last byte sent to the receipt (informational);
 * - server CPU seconds per GiB during the upload, against the baseline's CPU per GiB (informational: where time goes).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { encryptStream } from '../crypto/envelope';
import { signDigest } from '../crypto/signature';
import { parseTimeStampResponse } from '../crypto/timestamp';
import { onExitCleanup } from './support/cleanup';
import { readCpuSeconds, readMachineCpu, readVmKiB, resetPeakRss, RssSampler } from './support/proc-stats';
import { startServerProcess, type ServerProcess } from './support/server-process';
import type { BenchWorld } from './support/bench-server';
import { MiB, mbps, pseudoRandomSource, round } from './support/data';
import type { BenchOptions, BenchResult } from './support/types';
import { copyAsBlobStoreWrites, fsyncPath } from './support/raw-copy';

const DEFAULT_SIZE_MIB = 1024;
const THROUGHPUT_TARGET_RATIO = 0.5;
const RSS_GROWTH_LIMIT_MIB = 100;
/** A small bid sent first through the same path, so the measured upload does not pay for cold code. */
const WARM_UP_BYTES = MiB;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The baseline: the envelope file streamed (default 64 KiB reads, like socket chunks) through SHA-256 into a new
 * file as LocalBlobStore.put writes one. Returns the elapsed time and this process's CPU time.
 */
async function rawStreamToDisk(source: string, dir: string, expectedSha256: string): Promise<{ ms: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const targetDir = path.join(dir, 'bids');
  await fsp.mkdir(targetDir, { recursive: true });
  const target = path.join(targetDir, 'baseline.cms');
  const sha256 = await copyAsBlobStoreWrites(source, target);
  await fsyncPath(targetDir);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await fsp.rm(target, { force: true });
  if (sha256 !== expectedSha256) throw new Error(`baseline copy hashed ${sha256}, expected ${expectedSha256}`);
  return { ms, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

interface PatchTiming {
  status: number;
  body: string;
  /** performance.now() at the first body byte handed to the request, at the last one flushed, at the response's end. */
  firstByte: number;
  lastByte: number;
  response: number;
}

/** One PATCH with the whole file as its body (Content-Length set): the server's single-pass path. */
function patchWholeFile(port: number, urlPath: string, token: string, file: string, size: number): Promise<PatchTiming> {
  return new Promise((resolve, reject) => {
    let firstByte = 0;
    let lastByte = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PATCH',
      path: urlPath,
      agent: false,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(size),
        'Upload-Offset': '0',
      },
    });
    req.on('error', fail);
    req.on('finish', () => {
      lastByte = performance.now();
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const response = performance.now();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), firstByte, lastByte: lastByte || response, response });
      });
    });
    const stamp = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (firstByte === 0) firstByte = performance.now();
        cb(null, chunk);
      },
    });
    // the request's own error (or an early answer) settles the promise; the pipe's failure then is only its echo
    pipeline(fs.createReadStream(file, { highWaterMark: MiB }), stamp, req).catch(() => undefined);
  });
}

async function startUpload(world: BenchWorld, envelope: SealedEnvelope): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${world.port}/api/v1/tenders/${world.tenderId}/sections/${world.sectionId}/bid-uploads`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${world.bidder.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ size: envelope.length, sha256: envelope.sha256, signature: envelope.signature.toString('base64') }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`starting the upload answered HTTP ${res.status}: ${text.slice(0, 500)}`);
  return (JSON.parse(text) as { uploadId: string }).uploadId;
}

interface SealedEnvelope {
  path: string;
  length: number;
  sha256: string;
  signature: Buffer;
}

/** What the bidder's tool does: seal `size` bytes to the bidder and the tender's opening certificate, then sign. */
async function sealEnvelope(world: BenchWorld, size: number, file: string): Promise<SealedEnvelope> {
  const out = fs.createWriteStream(file, { highWaterMark: MiB });
  const sealed = await encryptStream(pseudoRandomSource(size), out, {
    recipients: [world.bidder.encryptionCertificatePem, world.openingCertificatePem],
    size,
  });
  if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
  // fsynced, so no dirty pages of it are written back during the measurements
  await fsyncPath(file);
  const signature = signDigest({
    sha256Hex: sealed.sha256,
    certificatePem: world.bidder.signingCertificatePem,
    privateKeyPem: world.bidder.signingKeyPem,
    signingTime: new Date(world.platformTime),
  });
  return { path: file, length: sealed.length, sha256: sealed.sha256, signature };
}

/** The PATCH with the whole envelope; checks that the answer is a receipt for exactly these bytes. */
async function uploadWhole(world: BenchWorld, envelope: SealedEnvelope, uploadId: string): Promise<PatchTiming> {
  const timing = await patchWholeFile(world.port, `/api/v1/bid-uploads/${uploadId}`, world.bidder.token, envelope.path, envelope.length);
  if (timing.status !== 200) throw new Error(`the upload answered HTTP ${timing.status}: ${timing.body.slice(0, 500)}`);
  const answer = JSON.parse(timing.body) as {
    complete: boolean;
    submission?: { bid: { envelopeSha256: string; envelopeSize: number }; receipt: { token: string } };
  };
  if (!answer.complete || !answer.submission) throw new Error(`the upload did not complete: ${timing.body.slice(0, 500)}`);
  const { bid, receipt } = answer.submission;
  if (bid.envelopeSha256 !== envelope.sha256 || bid.envelopeSize !== envelope.length) {
    throw new Error(`the receipt is for ${bid.envelopeSha256} (${bid.envelopeSize} B), not ${envelope.sha256} (${envelope.length} B)`);
  }
  const stamped = parseTimeStampResponse(Buffer.from(receipt.token, 'base64')).info.sha256Hex;
  if (stamped !== envelope.sha256) throw new Error(`the receipt's time stamp is over ${stamped}, not ${envelope.sha256}`);
  return timing;
}


export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const sizeMiB = opts.sizeMiB ?? DEFAULT_SIZE_MIB;
  const size = Math.round(sizeMiB * MiB);
  if (size < 1) throw new RangeError('--size-mib must give at least one byte');
  const log = opts.log;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-bench-upload-'));
  const unregisterTmp = onExitCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  let server: ServerProcess<BenchWorld> | undefined;
  try {
    log(`starting the platform in a child process (${os.cpus().length} cores here)`);
    server = await startServerProcess<BenchWorld>('bench/support/bench-server.ts', { cwd: projectRoot });
    const world = server.info;
    const pid = server.pid;
    log(`server pid ${pid} on port ${world.port}, blobs in ${world.blobDir}`);

    let t0 = performance.now();
    const envelope = await sealEnvelope(world, size, path.join(tmp, 'bid.cms'));
    log(`sealed ${sizeMiB} MiB into a ${envelope.length}-byte envelope in ${round((performance.now() - t0) / 1000)} s`);
    const workload = `${sizeMiB} MiB bid (envelope ${envelope.length} B), one PATCH over loopback`;

    // warm-up: one small bid through the same path, so the measured upload does not pay for cold code
    const warmUp = await sealEnvelope(world, WARM_UP_BYTES, path.join(tmp, 'warm-up.cms'));
    await uploadWhole(world, warmUp, await startUpload(world, warmUp));
    await fsp.rm(warmUp.path);

    const baselineDir = path.join(tmp, 'baseline-store');
    const before = await rawStreamToDisk(envelope.path, baselineDir, envelope.sha256);
    log(`baseline before: ${round(mbps(envelope.length, before.ms), 1)} MB/s (${round(before.ms)} ms)`);

    const uploadId = await startUpload(world, envelope);
    const idleKiB = readVmKiB(pid, 'VmRSS');
    if (idleKiB === null) throw new Error(`cannot read /proc/${pid}/status`);
    const hwmReset = resetPeakRss(pid);
    const serverCpu0 = readCpuSeconds(pid);
    const clientCpu0 = process.cpuUsage();
    const machine0 = readMachineCpu();
    const sampler = new RssSampler(pid, 20);
    sampler.start();
    t0 = performance.now();
    let timing: PatchTiming;
    try {
      timing = await uploadWhole(world, envelope, uploadId);
    } finally {
      sampler.stop();
    }
    const serverCpu1 = readCpuSeconds(pid);
    const clientCpu = process.cpuUsage(clientCpu0);
    const machine1 = readMachineCpu();
    const hwmKiB = hwmReset ? readVmKiB(pid, 'VmHWM') : null;
    const uploadMs = timing.response - timing.firstByte;
    log(`upload: ${round(mbps(envelope.length, uploadMs), 1)} MB/s (${round(uploadMs)} ms; ${round(timing.firstByte - t0)} ms from the request to its first body byte)`);

    const after = await rawStreamToDisk(envelope.path, baselineDir, envelope.sha256);
    log(`baseline after: ${round(mbps(envelope.length, after.ms), 1)} MB/s (${round(after.ms)} ms)`);
    // the mean of the two runs bracketing the upload: a drift of the disk's speed over the run cancels to first order
    const baselineMs = (before.ms + after.ms) / 2;
    const baselineCpu = (before.cpuSeconds + after.cpuSeconds) / 2;

    const uploadMBps = mbps(envelope.length, uploadMs);
    const baselineMBps = mbps(envelope.length, baselineMs);
    const ratio = uploadMBps / baselineMBps;
    const peakKiB = Math.max(sampler.maxKiB, hwmKiB ?? 0);
    const growthMiB = (peakKiB - idleKiB) / 1024;
    log(
      `server RSS: idle ${round(idleKiB / 1024, 1)} MiB, polled max ${round(sampler.maxKiB / 1024, 1)} MiB over ${sampler.samples} samples, ` +
        (hwmKiB === null ? 'VmHWM reset unavailable' : `VmHWM since reset ${round(hwmKiB / 1024, 1)} MiB`),
    );
    const gib = envelope.length / (1024 * MiB);
    const serverCpu = serverCpu0 !== null && serverCpu1 !== null ? serverCpu1 - serverCpu0 : NaN;
    const seconds = (performance.now() - t0) / 1000;
    const machineBusy = machine0 && machine1 ? (machine1.busy - machine0.busy) / (machine1.total - machine0.total) : NaN;
    log(
      `during the upload: server CPU ${round(serverCpu)} s (${round((100 * serverCpu) / seconds)}% of one core), ` +
        `this process ${round((clientCpu.user + clientCpu.system) / 1e6)} s, machine ${round(100 * machineBusy)}% busy over ${os.cpus().length} cores`,
    );

    return [
      {
        figure: 'upload throughput',
        value: round(uploadMBps, 1),
        unit: 'MB/s',
        baseline: { name: 'raw stream + SHA-256 + fsync to disk, mean of before/after', value: round(baselineMBps, 1), unit: 'MB/s' },
        ratio: round(ratio, 3),
        target: `ratio ≥ ${THROUGHPUT_TARGET_RATIO}`,
        pass: ratio >= THROUGHPUT_TARGET_RATIO,
        workload,
      },
      {
        figure: 'server peak RSS growth',
        value: round(growthMiB, 1),
        unit: 'MiB',
        baseline: { name: 'server RSS at idle, just before the upload', value: round(idleKiB / 1024, 1), unit: 'MiB' },
        target: `< ${RSS_GROWTH_LIMIT_MIB} MiB`,
        pass: growthMiB < RSS_GROWTH_LIMIT_MIB,
        workload: `${workload}; peak = max(VmRSS every 20 ms${hwmKiB === null ? '' : ', VmHWM after reset'})`,
      },
      {
        figure: 'last byte sent → receipt',
        value: round(timing.response - timing.lastByte, 1),
        unit: 'ms',
        target: 'info',
        pass: true,
        workload,
      },
      {
        figure: 'server CPU per GiB uploaded',
        value: round(serverCpu / gib),
        unit: 'CPU s/GiB',
        baseline: { name: 'CPU of the raw stream + SHA-256 + fsync, mean', value: round(baselineCpu / gib), unit: 'CPU s/GiB' },
        ratio: round(serverCpu / baselineCpu, 2),
        target: 'info',
        pass: true,
        workload,
      },
    ];
  } finally {
    const blobDir = server?.info.blobDir;
    await server?.stop();
    if (blobDir) fs.rmSync(blobDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    unregisterTmp();
  }
}
