/**
 * What the HTML timeline shows of a run: its lanes, and per job the facts a hover tells (times,
 * bytes, attempts, error), each attempt placed on its lane. Only what the page needs, so a run of
 * 10,000 jobs stays a few MB.
 *
 * @module
 */
import type { Report, ReportJob, ReportSummary } from "./types.ts";
import { compareLanes } from "./lanes.ts";

/** One attempt: its lane's index in `lanes`, start and end (ms since the run started), error. */
export type TimelineAttempt = [lane: number, startMs: number, endMs: number, error?: string];

/** One job, as its bars and hover show it. */
export interface TimelineJob {
  name: string;
  kind: string;
  status: string;
  queuedMs: number | null;
  startMs: number | null;
  endMs: number;
  attempts: TimelineAttempt[];
  error?: string;
  bytes?: number;
  size?: number;
  url?: string;
  path?: string;
  cached?: string;
  isolation?: string;
  worker?: number;
  pid?: number;
  exitCode?: number;
}

/** One run: a block of lanes on the page. */
export interface TimelineRun {
  label: string;
  file: string;
  startedAt: string;
  wallMs: number;
  exitCode: number;
  mode: string;
  why: string;
  summary: ReportSummary;
  lanes: string[];
  jobs: TimelineJob[];
}

/**
 * The timeline of `report`, labelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timelineOf } from "./timeline.ts";
 * const job = {
 *   name: "a", kind: "run", status: "failed", queuedMs: 0, startMs: 1, endMs: 5,
 *   attemptLog: [{ lane: "cpu-1", startMs: 1, endMs: 5, error: { message: "exit 3", code: "EXIT_CODE" } }],
 *   error: { message: "exit 3", code: "EXIT_CODE" }, exitCode: 3,
 * };
 * const run = timelineOf("run", { jobs: [job], mode: { used: "workers", why: "" } } as never);
 * assert(run.lanes[0] === "cpu-1");
 * assert(JSON.stringify(run.jobs[0]!.attempts) === '[[0,1,5,"exit 3"]]');
 * ```
 */
export function timelineOf(label: string, report: Report): TimelineRun {
  // Where each attempt ran: its thread or process when the report says (the last attempt of a
  // compute job), else its pool slot.
  const placed = report.jobs.map((job) =>
    job.attemptLog.map((attempt, index) =>
      index === job.attemptLog.length - 1 ? ranOn(job) ?? attempt.lane : attempt.lane
    )
  );
  const lanes = [...new Set(placed.flat())].sort(compareLanes);
  const laneIndex = new Map(lanes.map((lane, index) => [lane, index]));
  return {
    label,
    file: report.file,
    startedAt: report.startedAt,
    wallMs: report.wallMs,
    exitCode: report.exitCode,
    mode: report.mode?.used ?? "",
    why: report.mode?.why ?? "",
    summary: report.summary,
    lanes,
    jobs: report.jobs.map((job, jobIndex) => {
      const entry: TimelineJob = {
        name: job.name,
        kind: job.kind,
        status: job.status,
        queuedMs: job.queuedMs,
        startMs: job.startMs,
        endMs: job.endMs,
        attempts: job.attemptLog.map((attempt, index) => {
          const bar: TimelineAttempt = [
            laneIndex.get(placed[jobIndex]![index]!)!,
            attempt.startMs,
            attempt.endMs,
          ];
          if (attempt.error) bar.push(attempt.error.message);
          return bar;
        }),
      };
      if (job.error) entry.error = `${job.error.message} (${job.error.code})`;
      for (const key of ["bytes", "size", "url", "path", "cached", "worker", "pid"] as const) {
        if (job[key] !== undefined) Object.assign(entry, { [key]: job[key] });
      }
      if (job.isolation !== undefined) entry.isolation = job.isolation;
      if (job.exitCode !== undefined) entry.exitCode = job.exitCode;
      return entry;
    }),
  };
}

/** The Worker thread or host process a compute job ran on, as a lane name. */
function ranOn(job: ReportJob): string | undefined {
  const onWorker = job.isolation === "worker" || job.isolation === "thread";
  if (onWorker && job.worker !== undefined) return `worker-${job.worker}`;
  if (job.isolation === "process" && job.pid !== undefined) return `process-${job.pid}`;
  return undefined;
}
