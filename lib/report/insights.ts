/**
 * What a finished report says about concurrency: per pool, the time jobs waited for a slot
 * against the time they ran, and the effective concurrency (the average and the peak number of
 * attempts under way at once).
 *
 * @module
 */
import type { Report } from "./types.ts";

/** One pool's figures. */
export interface PoolInsight {
  /** `io` or `cpu` (the lanes' prefix). */
  pool: string;
  attempts: number;
  /** Sum over jobs of the wait for a slot after becoming ready, in ms. */
  queuedMs: number;
  /** Sum over attempts of their running time, in ms. */
  runningMs: number;
  /** Running time over wall time: the average number of attempts under way. */
  averageConcurrency: number;
  /** The most attempts under way at once. */
  peakConcurrency: number;
  /** The average number of attempts under way in each of `buckets` equal slices of the run. */
  concurrencyOverTime: number[];
}

/** Options for {@linkcode poolInsights}. */
export interface InsightOptions {
  /** Slices of the run for `concurrencyOverTime`. @default 40 */
  buckets?: number;
}

/**
 * Per-pool figures of `report`, io first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { poolInsights } from "./insights.ts";
 * const job = (lane: string, startMs: number, endMs: number) =>
 *   ({ queuedMs: 1, attemptLog: [{ lane, startMs, endMs }] });
 * const report = { wallMs: 10, jobs: [job("io-1", 0, 10), job("io-2", 0, 5)] } as never;
 * const [io] = poolInsights(report);
 * assert(io!.averageConcurrency === 1.5 && io!.peakConcurrency === 2);
 * ```
 */
export function poolInsights(report: Report, options: InsightOptions = {}): PoolInsight[] {
  const { buckets = 40 } = options;
  const pools = new Map<string, { queuedMs: number; spans: [number, number][] }>();
  for (const job of report.jobs) {
    for (const attempt of job.attemptLog) {
      const pool = attempt.lane.split("-")[0]!;
      let entry = pools.get(pool);
      if (!entry) pools.set(pool, entry = { queuedMs: 0, spans: [] });
      entry.spans.push([attempt.startMs, attempt.endMs]);
    }
    const pool = job.attemptLog[0]?.lane.split("-")[0];
    if (pool !== undefined && job.queuedMs !== null) pools.get(pool)!.queuedMs += job.queuedMs;
  }
  return [...pools]
    .sort(([a], [b]) => b.localeCompare(a)) // io before cpu
    .map(([pool, { queuedMs, spans }]) => {
      const runningMs = spans.reduce((sum, [start, end]) => sum + (end - start), 0);
      return {
        pool,
        attempts: spans.length,
        queuedMs,
        runningMs,
        averageConcurrency: report.wallMs > 0 ? runningMs / report.wallMs : 0,
        peakConcurrency: peakOverlap(spans),
        concurrencyOverTime: overTime(spans, report.wallMs, buckets),
      };
    });
}

/** The average number of open intervals in each of `buckets` equal slices of [0, wallMs]. */
function overTime(spans: [number, number][], wallMs: number, buckets: number): number[] {
  const sums = new Array<number>(buckets).fill(0);
  if (wallMs <= 0) return sums;
  const width = wallMs / buckets;
  for (const [start, end] of spans) {
    const first = Math.max(0, Math.floor(start / width));
    const last = Math.min(buckets - 1, Math.floor(end / width));
    for (let i = first; i <= last; i++) {
      const overlap = Math.min(end, (i + 1) * width) - Math.max(start, i * width);
      if (overlap > 0) sums[i]! += overlap;
    }
  }
  return sums.map((sum) => sum / width);
}

/** The most intervals open at one instant (an end at t closes before a start at t opens). */
function peakOverlap(spans: [number, number][]): number {
  const edges = spans.flatMap(([start, end]) => [[start, 1], [end, -1]] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, step] of edges) peak = Math.max(peak, open += step);
  return peak;
}
