/**
 * Document similarity (rule similar-bids): does the analysis of a tender's bids scale with the number of bids?
 *
 * Workload: N synthetic bids of ~SIZE MiB of UTF-8 text each (default 2, `--size-mib`), generated deterministically in
 * memory one bid at a time — construction-bid-like Chinese from a generated vocabulary of some 3 000 words with figures,
 * each bid starting with the same 20 000-character tender form (boilerplate every bidder carries). Planted among them:
 * near duplicates (another bidder's text with 2 % of its clauses rewritten) and containment (the first stretch
 * of another bidder's text (62 % of it) inside a bid of its own). Run at N = 100 and N = 300.
 *
 * Measured per run, as the rule does it: each bid's bytes decoded as UTF-8 in 64 KiB chunks and streamed into its
 * sketch (MinHash signature + winnowed fingerprints; the text is then dropped), then the comparison of all sketches
 * (LSH candidates, the sorted fingerprint index), then the exact verification of every candidate pair on its two texts
 * (regenerated: the rule reads them from the packages again). Generating the text is not measured.
 *
 * Figures:
 * - time per bid at 300 over time per bid at 100: ≤ 1.5 (linear would be 1, quadratic 3). CPU time of this process
 *   (process.cpuUsage) over the measured sections, so that other work on a shared machine does not skew one run
 *   against the other; the wall times are shown beside it;
 * - sketching speed (MB/s of UTF-8) against SHA-256 and against plain UTF-8 decoding of the same bytes, same run: info;
 * - the planted pairs found, and nothing else: all;
 * - sketch memory per bid: info (what is kept of a bid between its pass and the comparison).
 */
import crypto from 'node:crypto';
import { boilerplateLimit, similarPairs } from '../src/monitoring/similarity/compare';
import { Sketcher, type Sketch } from '../src/monitoring/similarity/sketch';
import { verifyPair } from '../src/monitoring/similarity/verify';
import { MiB, round } from './support/data';
import type { BenchOptions, BenchResult } from './support/types';
import { seededRandom } from '../src/shared/seeded-random';

const DEFAULT_SIZE_MIB = 2;
const SIZES = [100, 300] as const;
const RATIO_TARGET = 1.5;
const CHUNK = 64 * 1024;
const TH = { minSimilarity: 0.8, minContainment: 0.5, boilerplateShare: 0.5 };

type Plant = { kind: 'near' | 'contain'; from: number; to: number };
/** bid `to` is made from bid `from`. */
const PLANTS: Plant[] = [
  { kind: 'near', from: 3, to: 17 },
  { kind: 'near', from: 40, to: 77 },
  { kind: 'contain', from: 10, to: 55 },
  { kind: 'contain', from: 60, to: 91 },
  { kind: 'near', from: 150, to: 260 },
  { kind: 'near', from: 201, to: 299 },
  { kind: 'contain', from: 120, to: 233 },
];

const CHARS = '工程施工质量安全进度计划材料设备混凝土钢筋模板脚手架基坑支护防水屋面给排水电气消防通风空调竣工验收监理建设单位项目经理部技术负责人劳动力机械塔吊临时用电设施环境保护扬尘噪声夜间冬季雨季测量放线沉降观测成品应急预案危险源交底样板分部分项隐蔽复试养护浇筑砌体抹灰门窗幕墙装饰保温节能绿色文明标准规范合同工期造价结算变更签证索赔'.split('');
const VOCAB = (() => {
  const r = seededRandom(7);
  const words = new Set<string>();
  while (words.size < 3000) {
    const n = 2 + Math.floor(r() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += CHARS[Math.floor(r() * CHARS.length)];
    words.add(w);
  }
  return [...words];
})();

/** About `chars` characters of clauses of vocabulary words and figures. */
function prose(seed: number, chars: number): string {
  const r = seededRandom(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const words = 4 + Math.floor(r() * 8);
    let s = '';
    for (let i = 0; i < words; i++) s += VOCAB[Math.floor(r() * VOCAB.length)] + (r() < 0.25 ? String(Math.floor(r() * 10000)) : '');
    s += r() < 0.15 ? '。\n' : '，';
    parts.push(s);
    n += s.length;
  }
  return parts.join('');
}

const FORM = prose(1, 20_000);

/** Bid i's text, ~targetChars characters; planted bids are made from their source's text. */
function bidText(i: number, targetChars: number): string {
  const plant = PLANTS.find((p) => p.to === i);
  if (!plant) return FORM + prose(1000 + i, targetChars - FORM.length);
  const source = bidText(plant.from, targetChars);
  if (plant.kind === 'near') {
    const r = seededRandom(5000 + i);
    return source
      .split('，')
      .map((s) => (r() < 0.02 ? prose(9000 + Math.floor(r() * 1e6), s.length) : s))
      .join('，');
  }
  const own = prose(1000 + i, targetChars - FORM.length);
  // 62 % of the source: more than half of it is inside the other bid (containment ≥ 0.5), Jaccard about 0.45
  const stretch = source.slice(FORM.length, FORM.length + Math.round(0.62 * (source.length - FORM.length)));
  return FORM + own.slice(0, own.length - stretch.length) + stretch;
}

/** Characters of text that make about `bytes` of UTF-8 (measured on a sample). */
function charsFor(bytes: number): number {
  const sample = prose(42, 100_000);
  return Math.round((bytes * sample.length) / Buffer.byteLength(sample, 'utf8'));
}

/** Wall and CPU milliseconds since a mark (CPU: this process's user + system time). */
function mark() {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(cpu);
    return { wall: performance.now() - wall, cpu: (c.user + c.system) / 1000 };
  };
}

interface RunResult {
  bids: number;
  bytes: number;
  /** CPU milliseconds of the measured work (sketch + compare + verify). */
  cpuMs: number;
  sketchMs: number;
  compareMs: number;
  verifyMs: number;
  shaMs: number;
  decodeMs: number;
  sketchBytes: number;
  found: string[];
  planted: string[];
}

function sketchBytes(s: Sketch): number {
  return s.signature.byteLength + s.fingerprints.byteLength;
}

function runOnce(bids: number, chars: number, log: (l: string) => void): RunResult {
  const sketches: Sketch[] = [];
  let bytes = 0;
  let sketchMs = 0;
  let shaMs = 0;
  let decodeMs = 0;
  let kept = 0;
  let cpuMs = 0;
  let cpuAt = 0;
  for (let i = 0; i < bids; i++) {
    const data = Buffer.from(bidText(i, chars), 'utf8');
    bytes += data.length;
    const stop = mark();
    const sketcher = new Sketcher();
    const decoder = new TextDecoder('utf-8');
    for (let off = 0; off < data.length; off += CHUNK) sketcher.push(decoder.decode(data.subarray(off, off + CHUNK), { stream: true }));
    sketcher.push(decoder.decode());
    const sketch = sketcher.finish()!;
    const took = stop();
    sketchMs += took.wall;
    cpuMs += took.cpu;
    sketches.push(sketch);
    kept += sketchBytes(sketch);
    // baselines on the same bytes, same chunks
    let t0 = performance.now();
    crypto.createHash('sha256').update(data).digest();
    shaMs += performance.now() - t0;
    t0 = performance.now();
    const plain = new TextDecoder('utf-8');
    let n = 0;
    for (let off = 0; off < data.length; off += CHUNK) n += plain.decode(data.subarray(off, off + CHUNK), { stream: true }).length;
    if (n < 0) throw new Error('unreachable');
    decodeMs += performance.now() - t0;
    if ((i + 1) % 50 === 0) {
      log(`  ${i + 1}/${bids} bids sketched, ${round((cpuMs - cpuAt) / 50)} ms CPU a bid`);
      cpuAt = cpuMs;
    }
  }
  let stop = mark();
  const groups = sketches.map((_, i) => i);
  const { pairs } = similarPairs(sketches, groups, { minSimilarity: TH.minSimilarity, minContainment: TH.minContainment, maxGroups: boilerplateLimit(bids, TH.boilerplateShare) });
  const compared = stop();
  const compareMs = compared.wall;
  cpuMs += compared.cpu;
  let verifyMs = 0;
  const found: string[] = [];
  for (const p of pairs) {
    const [a, b] = [bidText(p.i, chars), bidText(p.j, chars)];
    stop = mark();
    const v = verifyPair(a, b);
    const verified = stop();
    verifyMs += verified.wall;
    cpuMs += verified.cpu;
    const kind = v.similarity >= TH.minSimilarity ? 'near' : Math.max(v.containmentAinB, v.containmentBinA) >= TH.minContainment ? 'contain' : null;
    if (kind) found.push(`${kind}:${p.i}-${p.j}`);
    log(`  candidate ${p.i}-${p.j}: estimated J=${round(p.similarity, 3)} C=${round(Math.max(p.containmentIinJ, p.containmentJinI), 3)}; verified J=${round(v.similarity, 3)} C=${round(Math.max(v.containmentAinB, v.containmentBinA), 3)} → ${kind ?? 'dropped'}`);
  }
  const planted = PLANTS.filter((p) => p.to < bids).map((p) => `${p.kind}:${Math.min(p.from, p.to)}-${Math.max(p.from, p.to)}`);
  return { bids, bytes, cpuMs, sketchMs, compareMs, verifyMs, shaMs, decodeMs, sketchBytes: kept, found: found.sort(), planted: planted.sort() };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const sizeMiB = opts.sizeMiB ?? DEFAULT_SIZE_MIB;
  const chars = charsFor(sizeMiB * MiB);
  opts.log(`similarity: ${chars} characters (~${sizeMiB} MiB UTF-8) a bid; warming up`);
  runOnce(10, Math.min(chars, 200_000), () => {});
  const runs: RunResult[] = [];
  for (const n of SIZES) {
    opts.log(`similarity: ${n} bids`);
    const r = runOnce(n, chars, opts.log);
    const total = r.sketchMs + r.compareMs + r.verifyMs;
    opts.log(`  wall: sketch ${round(r.sketchMs)} ms, compare ${round(r.compareMs)} ms, verify ${round(r.verifyMs)} ms, ${round(total / n)} ms a bid; CPU ${round(r.cpuMs / n)} ms a bid`);
    runs.push(r);
  }
  const [small, large] = runs as [RunResult, RunResult];
  const perBid = (r: RunResult) => r.cpuMs / r.bids;
  const wallPerBid = (r: RunResult) => (r.sketchMs + r.compareMs + r.verifyMs) / r.bids;
  const ratio = perBid(large) / perBid(small);
  const mbPerS = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
  const sketchRate = mbPerS(large.bytes, large.sketchMs);
  const workload = (r: RunResult) => `${r.bids} bids × ${round(r.bytes / r.bids / MiB)} MiB text, ${PLANTS.filter((p) => p.to < r.bids).length} planted pairs`;
  const allFound = runs.every((r) => JSON.stringify(r.found) === JSON.stringify(r.planted));
  return [
    {
      figure: 'analysis CPU time per bid, 300 bids',
      value: round(perBid(large)),
      unit: 'ms/bid',
      baseline: { name: 'per bid, 100 bids', value: round(perBid(small)), unit: 'ms/bid' },
      ratio: round(ratio),
      target: `ratio ≤ ${RATIO_TARGET}`,
      pass: ratio <= RATIO_TARGET,
      workload: `${workload(large)} vs ${workload(small)}; sketch + compare + verify; wall ${round(wallPerBid(large))} vs ${round(wallPerBid(small))} ms/bid`,
    },
    {
      figure: 'sketching speed (UTF-8 decode + shingles + MinHash + winnowing)',
      value: round(sketchRate),
      unit: 'MB/s',
      baseline: { name: 'SHA-256 of the same bytes', value: round(mbPerS(large.bytes, large.shaMs)), unit: 'MB/s' },
      ratio: round(sketchRate / mbPerS(large.bytes, large.shaMs)),
      target: 'info',
      pass: true,
      workload: workload(large),
    },
    {
      figure: 'sketching speed against plain UTF-8 decoding',
      value: round(sketchRate),
      unit: 'MB/s',
      baseline: { name: 'TextDecoder alone', value: round(mbPerS(large.bytes, large.decodeMs)), unit: 'MB/s' },
      ratio: round(sketchRate / mbPerS(large.bytes, large.decodeMs)),
      target: 'info',
      pass: true,
      workload: workload(large),
    },
    {
      figure: 'planted pairs found (and nothing else)',
      value: large.found.length,
      unit: 'pairs',
      baseline: { name: 'planted', value: large.planted.length, unit: 'pairs' },
      target: 'all, at 100 and 300',
      pass: allFound,
      workload: runs.map((r) => `${r.bids}: found ${r.found.join(' ') || 'none'}`).join('; '),
    },
    {
      figure: 'sketch kept per bid',
      value: round(large.sketchBytes / large.bids / 1024),
      unit: 'KiB',
      target: 'info',
      pass: true,
      workload: `${workload(large)}; all sketches ${round(large.sketchBytes / MiB)} MiB`,
    },
  ];
}
