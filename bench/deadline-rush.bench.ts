/**
 * Deadline rush: every bidder uploading its sealed bid in the last minute, some on bad lines, some too late.
 *
 * Workload: RUSH_BIDDERS bidders (default 300; env) each with its own organisation, certificates and token, one
 * envelope each of SIZE MiB (default 20, `--size-mib`). The platform runs in a child process (bench/support/
 * rush-server.ts) with its clock running, so the bid deadline really passes RUSH_LEAD_SECONDS (default 60) after the
 * rush begins. The bidders are a SEPARATE process (bench/support/rush-client.ts): it seals every envelope to a temp
 * directory first (not timed; deleted afterwards), then on the signal uploads them over loopback with node:http, each
 * bidder starting at a seeded random instant within the first RUSH_SPREAD_SECONDS (default: half the lead, 30 s; 0 =
 * all at the same instant, a burst in which every upload shares the line equally and all end together) — 10% lose their connection halfway and resume from the server's offset, 5% start 2.5 s before the
 * deadline and send their last byte 1.5 s after it (they must be refused with BID_AFTER_DEADLINE and get no bid).
 * With DATABASE_URL/REDIS_URL the platform runs on PostgreSQL and Redis, as the operator runs it.
 *
 * Baseline, measured in the same run: the same envelope files copied by as many concurrent streams as there are
 * bidders, each hashing SHA-256 and writing as the local blob store does (temp file 'wx', fsync, rename, directory
 * fsync) to the same disk — once before and once after the rush, the mean of the two (as bid-upload.bench.ts).
 *
 * After the rush every bidder's bids are read back through the API (GET /bids?tenderId, GET /bids/:id) and every stored
 * envelope on disk is hashed again: a receipt-holding bid must carry the client's SHA-256 in the answer, the time
 * stamp, the bid record and the stored bytes.
 *
 * Figures (targets):
 * - last byte → receipt, p50 (info) and p99 (≤ 1 s), over bids with receipts, as the server sees it: from the moment
 *   the request's body was read to its end (the rush server's 'end' of the request) to the answer leaving it. The
 *   client's figure (its last write flushed → the answer parsed) is shown beside it (info): it also counts the
 *   megabytes each loopback socket still buffers, some seconds' worth when hundreds of uploads share the server;
 * - lost and late are judged by the server's last-byte instant too (EB 27: the server's clock decides);
 * - aggregate upload throughput (receipt-holding envelope bytes / first byte → last receipt) against the baseline:
 *   ratio ≥ 0.3 — 300 connections, 300 database round trips and an audit append each, on a shared 2-core machine;
 * - server peak RSS during the rush (VmHWM after a reset, and VmRSS every 20 ms): < 1 GiB;
 * - lost (last byte arrived more than 1 s — the p99 target — before the deadline, no receipt), late-but-accepted (a
 *   receipt for a bid whose last byte left after the deadline, or a time stamp after it), corrupted (any digest or
 *   stored byte differing from the client's): 0 each;
 * - late bidders refused with BID_AFTER_DEADLINE and without a bid: all of them;
 * - dropped-and-resumed connections that ended with a receipt (info); bids whose last byte left within 1 s before the
 *   deadline (info: either answer is right, the server's clock at the check decides).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { onExitCleanup } from './support/cleanup';
import { MiB, mbps, round } from './support/data';
import { readVmKiB, resetPeakRss, RssSampler } from './support/proc-stats';
import type { ClientMessage, SealedFile } from './support/rush-client';
import type { RushServerInfo, RushStart, RushWorld, ServerPatch } from './support/rush-server';
import { startServerProcess, type ServerProcess } from './support/server-process';
import type { BenchOptions, BenchResult } from './support/types';
import { copyAsBlobStoreWrites, fsyncPath } from './support/raw-copy';

const DEFAULT_SIZE_MIB = 20;
const DEFAULT_BIDDERS = 300;
const DEFAULT_LEAD_SECONDS = 60;
const P99_TARGET_MS = 1000;
const THROUGHPUT_TARGET_RATIO = 0.3;
const RSS_LIMIT_MIB = 1024;
/** Within this much before the deadline a bid may rightly end either way: the server's clock at its check decides. */
const BOUNDARY_MS = P99_TARGET_MS;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file, { highWaterMark: MiB }), hash);
  return hash.digest('hex');
}

/** The baseline: every file copied at once, each through SHA-256 into a new file as LocalBlobStore.put writes one. */
async function concurrentRawStreams(files: SealedFile[], dir: string): Promise<number> {
  await fsp.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  await Promise.all(
    files.map(async (f, i) => {
      const sha256 = await copyAsBlobStoreWrites(f.path, path.join(dir, `${i}.cms`));
      if (sha256 !== f.sha256) throw new Error(`baseline copy of ${f.path} hashed differently`);
    }),
  );
  await fsyncPath(dir);
  const ms = performance.now() - t0;
  await fsp.rm(dir, { recursive: true, force: true });
  return ms;
}

async function getJson(port: number, token: string, urlPath: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${urlPath}`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${urlPath} answered HTTP ${res.status}`);
  return res.json();
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const sizeMiB = opts.sizeMiB ?? DEFAULT_SIZE_MIB;
  const bidders = Number(process.env.RUSH_BIDDERS ?? DEFAULT_BIDDERS);
  const leadSeconds = Number(process.env.RUSH_LEAD_SECONDS ?? DEFAULT_LEAD_SECONDS);
  // arrivals spread over the first half of the last minute by default, so uploads overlap but do not all end at once
  const spreadSeconds = Number(process.env.RUSH_SPREAD_SECONDS ?? leadSeconds / 2);
  if (!(spreadSeconds >= 0 && spreadSeconds < leadSeconds)) throw new RangeError('RUSH_SPREAD_SECONDS must be ≥ 0 and less than RUSH_LEAD_SECONDS');
  if (!Number.isInteger(bidders) || bidders < 1) throw new RangeError('RUSH_BIDDERS must be a positive integer');
  if (!(leadSeconds > 5)) throw new RangeError('RUSH_LEAD_SECONDS must be more than 5');
  const size = Math.round(sizeMiB * MiB);
  const log = opts.log;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-bench-rush-'));
  const unregisterTmp = onExitCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const worldFile = path.join(tmp, 'world.json');
  const sealedDir = path.join(tmp, 'envelopes');
  fs.mkdirSync(sealedDir);
  let server: ServerProcess<RushServerInfo> | undefined;
  let client: ReturnType<typeof spawn> | undefined;
  try {
    log(`starting the platform with ${bidders} bidders (two RSA keys and two certificates each: minutes at 300)`);
    server = await startServerProcess<RushServerInfo>('bench/support/rush-server.ts', {
      cwd: projectRoot,
      readyTimeoutMs: 60 * 60_000,
      env: { RUSH_BIDDERS: String(bidders), RUSH_WORLD_FILE: worldFile },
    });
    const info = server.info;
    const world = JSON.parse(fs.readFileSync(worldFile, 'utf8')) as RushWorld;
    log(`server pid ${info.pid} on port ${info.port}; sealing ${bidders} × ${sizeMiB} MiB in the client process`);

    client = spawn(process.execPath, ['--import', 'tsx', 'bench/support/rush-client.ts'], {
      cwd: projectRoot,
      env: { ...process.env, RUSH_WORLD_FILE: worldFile, RUSH_WORK_DIR: sealedDir, RUSH_SIZE_BYTES: String(size), RUSH_SPREAD_SECONDS: String(spreadSeconds) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = client;
    const unregisterClient = onExitCleanup(() => child.kill('SIGTERM'));
    child.once('exit', () => unregisterClient());
    const messages: ClientMessage[] = [];
    let wake: (() => void) | null = null;
    child.on('message', (m) => {
      messages.push(m as ClientMessage);
      wake?.();
    });
    child.once('exit', (code) => {
      messages.push({ type: 'failed', error: `the client exited (code ${code})` });
      wake?.();
    });
    const nextMessage = async (): Promise<ClientMessage> => {
      while (messages.length === 0) await new Promise<void>((r) => (wake = r));
      return messages.shift()!;
    };

    let t0 = performance.now();
    const sealed = await nextMessage();
    if (sealed.type !== 'sealed') throw new Error(`the client: ${sealed.type === 'failed' ? sealed.error : sealed.type}`);
    const files = sealed.files;
    const totalBytes = files.reduce((a, f) => a + f.size, 0);
    log(`sealed ${files.length} envelopes (${round(totalBytes / MiB)} MiB) in ${round((performance.now() - t0) / 1000, 1)} s`);

    const baselineDir = path.join(tmp, 'baseline-store');
    const before = await concurrentRawStreams(files, baselineDir);
    log(`baseline before: ${round(mbps(totalBytes, before), 1)} MB/s with ${files.length} concurrent streams`);

    const idleKiB = readVmKiB(info.pid, 'VmRSS') ?? NaN;
    const hwmReset = resetPeakRss(info.pid);
    const sampler = new RssSampler(info.pid, 20);
    const rushRes = await fetch(`http://127.0.0.1:${info.controlPort}/rush?leadMs=${leadSeconds * 1000}`, { method: 'POST' });
    if (rushRes.status !== 200) throw new Error(`starting the rush answered HTTP ${rushRes.status}`);
    const rush = (await rushRes.json()) as RushStart;
    sampler.start();
    t0 = performance.now();
    child.send({ type: 'go', deadlineEpochMs: rush.deadlineEpochMs });
    let done: ClientMessage;
    try {
      done = await nextMessage();
    } finally {
      sampler.stop();
    }
    if (done.type !== 'done') throw new Error(`the client: ${done.type === 'failed' ? done.error : done.type}`);
    const hwmKiB = hwmReset ? readVmKiB(info.pid, 'VmHWM') : null;
    const peakKiB = Math.max(sampler.maxKiB, hwmKiB ?? 0);
    log(`rush over in ${round((performance.now() - t0) / 1000, 1)} s; server RSS idle ${round(idleKiB / 1024)} MiB, peak ${round(peakKiB / 1024)} MiB`);

    const after = await concurrentRawStreams(files, baselineDir);
    log(`baseline after: ${round(mbps(totalBytes, after), 1)} MB/s`);
    const baselineMBps = mbps(totalBytes, (before + after) / 2);

    // judge every bid by when its last byte reached the server (EB 27), as the server saw it when it read the body
    // to its end; the client's "sent" instant is earlier by what the socket buffers held
    const patches = (await (await fetch(`http://127.0.0.1:${info.controlPort}/patches`)).json()) as ServerPatch[];
    const lastPatch = new Map<string, ServerPatch>();
    for (const p of patches) if (p.lastByteMs > 0 && p.answerMs >= (lastPatch.get(p.uploadId)?.answerMs ?? 0)) lastPatch.set(p.uploadId, p);
    const arrived = (r: (typeof done.results)[number]) => (r.uploadId && lastPatch.get(r.uploadId)?.lastByteMs) || r.lastByteMs;
    const results = done.results;
    const deadline = rush.deadlineEpochMs;
    const bidDeadline = Date.parse(rush.bidDeadline);
    const withReceipt = results.filter((r) => r.bidId !== null);
    const late = results.filter((r) => r.role === 'late');
    const lost = results.filter((r) => r.bidId === null && arrived(r) < deadline - BOUNDARY_MS);
    const lateAccepted = withReceipt.filter((r) => arrived(r) > deadline || Date.parse(r.genTime!) > bidDeadline);
    const boundary = results.filter((r) => arrived(r) >= deadline - BOUNDARY_MS && arrived(r) <= deadline);
    const lateRefusedRight = late.filter((r) => r.bidId === null && r.code === 'BID_AFTER_DEADLINE');
    const dropped = results.filter((r) => r.role === 'dropped');
    const resumed = dropped.filter((r) => r.bidId !== null && r.resumedFrom !== null);
    for (const r of [...lost, ...lateAccepted]) log(`bid ${r.index} (${r.role}): HTTP ${r.status} ${r.code ?? ''} ${r.error ?? ''}, last byte ${round(r.lastByteMs - deadline)} ms from the deadline`);
    const outcomes = new Map<string, number>();
    for (const r of results) {
      const k = `${r.role} ${r.bidId ? 'receipt' : `HTTP ${r.status} ${r.code ?? ''}`.trim()}`;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    }
    log(`outcomes: ${[...outcomes].map(([k, v]) => `${k} × ${v}`).join(', ')}`);
    const sent = results.filter((r) => r.role !== 'late' && r.firstByteMs > 0);
    if (sent.length > 0) {
      const span = Math.max(...sent.map((r) => r.lastByteMs)) - Math.min(...sent.map((r) => r.firstByteMs));
      log(`bidders' bytes (not late): ${round(mbps(sent.reduce((a, r) => a + r.size, 0), span), 1)} MB/s from the first byte to the last one sent`);
    }
    const errors = results.filter((r) => r.error !== null);
    for (const r of errors.slice(0, 10)) log(`bid ${r.index} (${r.role}): ${r.error}`);

    // corrupted: every digest the platform reports, and the bytes it stored, against the client's
    const corrupted = new Set<number>();
    for (const r of withReceipt) if (r.answerSha256 !== r.sha256 || r.stampedSha256 !== r.sha256) corrupted.add(r.index);
    const byIndex = new Map(results.map((r) => [r.index, r]));
    let unexpectedBids = 0;
    for (let i = 0; i < world.bidders.length; i++) {
      const token = world.bidders[i]!.token;
      const r = byIndex.get(i)!;
      const list = (await getJson(info.port, token, `/bids?tenderId=${world.tenderId}`)) as Array<{ id: string }> | { items: Array<{ id: string }> };
      const bids = Array.isArray(list) ? list : list.items;
      if (r.bidId === null) {
        if (bids.length > 0) unexpectedBids++;
        continue;
      }
      if (bids.length !== 1 || bids[0]!.id !== r.bidId) corrupted.add(i);
      const bid = await getJson(info.port, token, `/bids/${r.bidId}`);
      if (bid.envelopeSha256 !== r.sha256 || bid.envelopeSize !== r.size) corrupted.add(i);
      const stored = path.join(info.blobDir, 'bids', world.tenderId, `${r.bidId}.cms`);
      if ((await sha256File(stored).catch(() => 'missing')) !== r.sha256) corrupted.add(i);
    }
    if (unexpectedBids > 0) log(`${unexpectedBids} bidders without a receipt nevertheless have a bid`);

    const onTime = withReceipt.filter((r) => arrived(r) <= deadline);
    const serverLatencies = onTime
      .map((r) => lastPatch.get(r.uploadId!))
      .filter((p): p is ServerPatch => p !== undefined && p.status === 200)
      .map((p) => p.answerMs - p.lastByteMs)
      .sort((a, b) => a - b);
    if (serverLatencies.length !== onTime.length) log(`${onTime.length - serverLatencies.length} receipts without the server's timing`);
    const clientLatencies = onTime.map((r) => r.answerMs - r.lastByteMs).sort((a, b) => a - b);
    const p50 = percentile(serverLatencies, 50);
    const p99 = percentile(serverLatencies, 99);
    const clientP50 = percentile(clientLatencies, 50);
    const clientP99 = percentile(clientLatencies, 99);
    const firstByte = Math.min(...onTime.map((r) => r.firstByteMs));
    const lastReceipt = Math.max(...onTime.map((r) => r.answerMs));
    const receivedBytes = onTime.reduce((a, r) => a + r.size, 0);
    const uploadMBps = mbps(receivedBytes, lastReceipt - firstByte);
    const ratio = uploadMBps / baselineMBps;
    const before_ = onTime.map((r) => deadline - arrived(r));
    log(
      `${onTime.length} receipts; last on-time byte ${round(Math.min(...before_) / 1000, 1)} s before the deadline; ` +
        `${late.length} late, ${dropped.length} dropped (${resumed.length} resumed with a receipt), ${errors.length} client errors`,
    );

    const workload = `${results.length} bidders × ${sizeMiB} MiB over loopback, arriving over ${spreadSeconds} s, deadline ${leadSeconds} s after the rush began${process.env.DATABASE_URL ? ', PostgreSQL' : ', PGlite'}${process.env.REDIS_URL ? ' + Redis' : ''}`;
    return [
      { figure: 'last byte → receipt p50', value: round(p50, 1), unit: 'ms', target: 'info', pass: Number.isFinite(p50), workload: `${workload}; server side, ${serverLatencies.length} receipts` },
      { figure: 'last byte → receipt p99', value: round(p99, 1), unit: 'ms', target: `≤ ${P99_TARGET_MS} ms`, pass: p99 <= P99_TARGET_MS, workload: `${workload}; server side, ${serverLatencies.length} receipts` },
      {
        figure: 'last byte sent → receipt, client p50/p99',
        value: round(clientP99, 1),
        unit: 'ms',
        target: 'info',
        pass: true,
        workload: `p50 ${round(clientP50, 1)} ms; includes the bytes still in the loopback socket buffers when the client's last write returned`,
      },
      {
        figure: 'aggregate upload throughput',
        value: round(uploadMBps, 1),
        unit: 'MB/s',
        baseline: { name: `${files.length} concurrent raw streams + SHA-256 + fsync, mean of before/after`, value: round(baselineMBps, 1), unit: 'MB/s' },
        ratio: round(ratio, 3),
        target: `ratio ≥ ${THROUGHPUT_TARGET_RATIO}`,
        pass: ratio >= THROUGHPUT_TARGET_RATIO,
        workload: `${workload}; first byte → last receipt, ${round(receivedBytes / MiB)} MiB received`,
      },
      {
        figure: 'server peak RSS',
        value: round(peakKiB / 1024, 1),
        unit: 'MiB',
        baseline: { name: 'server RSS at idle, just before the rush', value: round(idleKiB / 1024, 1), unit: 'MiB' },
        target: `< ${RSS_LIMIT_MIB} MiB`,
        pass: peakKiB / 1024 < RSS_LIMIT_MIB,
        workload: `${workload}; max(VmRSS every 20 ms${hwmKiB === null ? '' : ', VmHWM after reset'})`,
      },
      { figure: 'lost bids', value: lost.length, unit: 'bids', target: '0', pass: lost.length === 0, workload: `no receipt, last byte arrived > ${BOUNDARY_MS} ms before the deadline` },
      { figure: 'late bids accepted', value: lateAccepted.length + unexpectedBids, unit: 'bids', target: '0', pass: lateAccepted.length + unexpectedBids === 0, workload: 'a receipt for a last byte or a time stamp after the deadline, or a bid without a receipt' },
      { figure: 'corrupted bids', value: corrupted.size, unit: 'bids', target: '0', pass: corrupted.size === 0, workload: 'answer, time stamp, bid record or stored bytes ≠ client SHA-256' },
      {
        figure: 'late bidders refused (BID_AFTER_DEADLINE)',
        value: lateRefusedRight.length,
        unit: `of ${late.length}`,
        target: 'all',
        pass: lateRefusedRight.length === late.length,
        workload: 'start 2.5 s before the deadline, last byte 1.5 s after it',
      },
      {
        figure: 'dropped and resumed',
        value: resumed.length,
        unit: `of ${dropped.length}`,
        target: 'info',
        pass: true,
        workload: `cut halfway through the second request; boundary bids (last byte < ${BOUNDARY_MS} ms before the deadline): ${boundary.length}`,
      },
    ];
  } finally {
    if (client && client.exitCode === null) client.kill('SIGTERM');
    const blobDir = server?.info.blobDir;
    await server?.stop();
    if (blobDir) fs.rmSync(blobDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    unregisterTmp();
  }
}
