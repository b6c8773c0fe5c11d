/**
 * The lanes of a run's timeline: the pool slots its attempts ran on (`io-1`, `cpu-2`), io first,
 * then cpu, each by number.
 *
 * @module
 */
import type { Report } from "./types.ts";

/**
 * Every lane an attempt of `report` ran on, in display order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lanesOf } from "./lanes.ts";
 * const attempt = (lane: string) => ({ lane, startMs: 0, endMs: 1 });
 * const report = { jobs: [{ attemptLog: [attempt("cpu-2"), attempt("io-10"), attempt("io-2")] }] };
 * assert(lanesOf(report as never).join() === "io-2,io-10,cpu-2");
 * ```
 */
export function lanesOf(report: Pick<Report, "jobs">): string[] {
  const lanes = new Set<string>();
  for (const job of report.jobs) for (const attempt of job.attemptLog) lanes.add(attempt.lane);
  return [...lanes].sort(compareLanes);
}

const LANE_ORDER = ["io", "cpu", "worker", "process"];

/**
 * io lanes first, then cpu slots, Worker threads and host processes, each by number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareLanes } from "./lanes.ts";
 * const lanes = ["process-7", "worker-2", "cpu-1", "io-10", "io-9"].sort(compareLanes);
 * assert(lanes.join() === "io-9,io-10,cpu-1,worker-2,process-7");
 * ```
 */
export function compareLanes(a: string, b: string): number {
  const [kindA = "", numberA = "0"] = a.split("-");
  const [kindB = "", numberB = "0"] = b.split("-");
  if (kindA === kindB) return Number(numberA) - Number(numberB);
  const rank = (kind: string) => {
    const index = LANE_ORDER.indexOf(kind);
    return index < 0 ? LANE_ORDER.length : index; // unknown kinds last
  };
  return rank(kindA) - rank(kindB) || kindA.localeCompare(kindB);
}
