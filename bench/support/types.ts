/**
 * The contract between `bench/run.ts` and every `bench/*.bench.ts`: a benchmark module exports `run(opts)` and
 * answers with figures, each measured against a baseline taken in the same run (machines here are noisy), with the
 * workload it was measured on and whether it met its target.
 */

export interface BenchResult {
  /** What was measured, e.g. "upload throughput". */
  figure: string;
  value: number;
  unit: string;
  /** The reference measured in the same run, when the figure is judged against one. */
  baseline?: { name: string; value: number; unit: string };
  /** value / baseline.value, when that ratio is what the target is about. */
  ratio?: number;
  /** The target as a reader should see it, e.g. "ratio ≥ 0.5", "< 100 MiB", "info". */
  target: string;
  pass: boolean;
  /** The workload size and shape, e.g. "1024 MiB envelope, one PATCH". */
  workload: string;
}

export interface BenchOptions {
  /** Workload size in MiB from `--size-mib`; each benchmark has its own default. */
  sizeMiB?: number;
  /** Progress and detail lines (to stderr, so the table on stdout stays clean). */
  log(line: string): void;
}

export interface BenchModule {
  run(opts: BenchOptions): Promise<BenchResult[]>;
}
