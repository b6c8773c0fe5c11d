/**
 * The lanes of a run's timeline: the pool slots its attempts ran on (`io-1`, `cpu-2`), io first,
 * then cpu, each by number.
 *
 * @module
 */
import type { Report } from "./model.ts";

/**
 * Every lane an attempt of `report` ran on, in display order.
 *
 * @example
 * ```ts
 * import { lanesOf } from "./lanes.ts";
 * const attempt = (lane: string) => ({ lane, startMs: 0, endMs: 1 });
 * const report = { jobs: [{ attemptLog: [attempt("cpu-2"), attempt("io-10"), attempt("io-2")] }] };
 * console.assert(lanesOf(report as never).join() === "io-2,io-10,cpu-2");
 * ```
 */
export function lanesOf(report: Pick<Report, "jobs">): string[] {
  const lanes = new Set<string>();
  for (const job of report.jobs) for (const attempt of job.attemptLog) lanes.add(attempt.lane);
  return [...lanes].sort(compareLanes);
}

/** io lanes first, then cpu, each by number. */
export function compareLanes(a: string, b: string): number {
  const [poolA = "", numberA = "0"] = a.split("-");
  const [poolB = "", numberB = "0"] = b.split("-");
  return poolA === poolB ? Number(numberA) - Number(numberB) : poolB.localeCompare(poolA);
}
