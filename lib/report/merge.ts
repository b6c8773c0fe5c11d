/**
 * One report from many (`taskpool merge`): the reports of static shards or of several machines
 * that ran parts of one job file, on one time axis (the earliest start is 0), each job saying
 * which run it came from (`ranOn`), with totals and an exit code over all of them.
 *
 * A job that appears in more than one report (a shard run again with `--rerun-failed`, say)
 * keeps its best outcome: succeeded (`ok`, `cached`) before `failed`, before `cancelled` and
 * `skipped`; among equals, the one that ended last. Reports of different job files are merged
 * too; a name both files use is two jobs, each named after its file (`b.yaml:t`).
 *
 * @module
 */
import { EXIT } from "../exit_codes.ts";
import type { JobStatus } from "../scheduler/events.ts";
import type { LabelledReport } from "./html.ts";
import { summarize } from "./model.ts";
import { basename } from "../util/posix_path.ts";
import { type MergedSource, type Report, REPORT_VERSION, type ReportJob } from "./types.ts";

/** A report and the path it was read from. */
export interface ReportInput {
  path: string;
  report: Report;
}

const RANK: Record<JobStatus, number> = { ok: 0, cached: 0, failed: 1, cancelled: 2, skipped: 3 };

/**
 * The reports merged into one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeReports } from "./merge.ts";
 * const report = (shard: string, at: string, status: "ok" | "failed") => ({
 *   version: 1, file: "jobs.yaml", output: "/out", startedAt: at, wallMs: 100, exitCode: 0,
 *   interrupted: false, peakRssBytes: 1, peakTotalRssBytes: 1, shard,
 *   concurrency: { io: 4, cpu: 2, perHost: 8 }, mode: { requested: "auto", used: "workers", why: "" },
 *   host: { cores: 2, deno: "2", v8: "1", os: "linux", arch: "x86_64" },
 *   summary: { total: 1, ok: 1, cached: 0, failed: 0, skipped: 0, cancelled: 0, bytes: 0 },
 *   jobs: [{ name: `j${shard}`, group: "j", kind: "run", status, attempts: 1, queuedMs: 0,
 *     startMs: 10, endMs: 20, durationMs: 10, lane: "cpu-1", attemptLog: [] }],
 * });
 * const merged = mergeReports([
 *   { path: "a.json", report: report("1/2", "2026-01-01T00:00:00.000Z", "ok") },
 *   { path: "b.json", report: report("2/2", "2026-01-01T00:00:01.000Z", "failed") },
 * ] as never);
 * assert.equal(merged.wallMs, 1100);
 * assert.equal(merged.jobs[1]!.startMs, 1010);
 * assert.equal(merged.jobs[1]!.ranOn, "shard 2/2");
 * assert.equal(merged.exitCode, 1);
 * ```
 */
export function mergeReports(inputs: readonly ReportInput[]): Report {
  if (inputs.length === 0) throw new RangeError("nothing to merge");
  const starts = inputs.map(({ report }) => Date.parse(report.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...inputs.map(({ report }, i) => starts[i]! + report.wallMs));
  const labels = labelsOf(inputs);
  // Reports of different job files may each have a job of one name: two jobs, kept apart, each
  // named after its file then (`b.yaml:t`). Within one file, one name is one job.
  const filesOf = new Map<string, Set<string>>();
  for (const { report } of inputs) {
    for (const job of report.jobs) {
      filesOf.set(job.name, (filesOf.get(job.name) ?? new Set()).add(report.file));
    }
  }
  const best = new Map<string, ReportJob>();
  inputs.forEach(({ report }, i) => {
    const offset = starts[i]! - start;
    for (const job of report.jobs) {
      const shared = filesOf.get(job.name)!.size > 1;
      const name = shared ? `${basename(report.file)}:${job.name}` : job.name;
      const shifted = shiftJob(shared ? { ...job, name } : job, offset, labels[i]!);
      const known = best.get(name);
      if (!known || better(shifted, known)) best.set(name, shifted);
    }
  });
  // Jobs in the order of the first report that has them.
  const jobs = [...best.values()];
  const summary = summarize(jobs);
  const succeeded = summary.ok + summary.cached;
  const first = inputs[0]!.report;
  const files = [...new Set(inputs.map(({ report }) => report.file))];
  const merged: MergedSource[] = inputs.map(({ path, report }, i) => ({
    label: labels[i]!,
    path,
    file: report.file,
    startedAt: report.startedAt,
    wallMs: report.wallMs,
    exitCode: report.exitCode,
    ...(report.shard ? { shard: report.shard } : {}),
    host: report.host,
  }));
  return {
    version: REPORT_VERSION,
    file: files.join(", "),
    output: first.output,
    startedAt: new Date(start).toISOString(),
    wallMs: round(end - start),
    exitCode: succeeded === jobs.length ? EXIT.ok : EXIT.jobsFailed,
    interrupted: inputs.some(({ report }) => report.interrupted),
    peakRssBytes: Math.max(...inputs.map(({ report }) => report.peakRssBytes)),
    peakTotalRssBytes: Math.max(...inputs.map(({ report }) => report.peakTotalRssBytes)),
    concurrency: first.concurrency,
    mode: first.mode,
    host: first.host,
    merged,
    summary,
    jobs,
  };
}

/**
 * The runs a report's timeline draws: one per merged source or per worker of a distributed run
 * (its jobs on their own lanes), or the report itself.
 */
export function runsOf(report: Report): LabelledReport[] {
  const labels = report.merged?.length
    ? report.merged.map((source) => source.label)
    : [...new Set(report.jobs.flatMap((job) => job.ranOn === undefined ? [] : [job.ranOn]))];
  if (labels.length === 0) return [{ label: `${report.mode?.used ?? "a"} run`, report }];
  const runs = labels.map((label) => ({
    label,
    report: { ...report, jobs: report.jobs.filter((job) => job.ranOn === label) },
  }));
  // Jobs that ran nowhere (skipped, cancelled before a worker took them) in a group of their own.
  const nowhere = report.jobs.filter((job) => job.ranOn === undefined);
  if (nowhere.length > 0) runs.push({ label: "not run", report: { ...report, jobs: nowhere } });
  return runs;
}

/** A name per input: its shard, else its machine and process, else its file; made unique. */
function labelsOf(inputs: readonly ReportInput[]): string[] {
  const labels = inputs.map(({ path, report }) =>
    report.shard
      ? `shard ${report.shard}`
      : report.host.name
      ? `${report.host.name}${report.host.pid ? `:${report.host.pid}` : ""}`
      : path
  );
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} (${n})`;
  });
}

function shiftJob(job: ReportJob, offset: number, label: string): ReportJob {
  const shift = (ms: number | null) => (ms === null ? null : round(ms + offset));
  return {
    ...job,
    startMs: shift(job.startMs),
    endMs: round(job.endMs + offset),
    attemptLog: job.attemptLog.map((attempt) => ({
      ...attempt,
      startMs: round(attempt.startMs + offset),
      endMs: round(attempt.endMs + offset),
    })),
    ranOn: label,
  };
}

function better(candidate: ReportJob, known: ReportJob): boolean {
  const rank = RANK[candidate.status] - RANK[known.status];
  return rank < 0 || (rank === 0 && candidate.endMs > known.endMs);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
