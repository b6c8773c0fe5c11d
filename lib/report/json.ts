/**
 * The report as the JSON text of report.json.
 *
 * @module
 */
import type { Report, ReportAttempt, ReportJob } from "./types.ts";

/** Stands for the jobs in the pretty-printed rest of the report, then gives way to them. */
const JOBS_MARK = "\u0000jobs";

/**
 * `report` as JSON text: pretty-printed, except that each job's record is one line: a report of
 * many jobs stays compact and quick to write, and `grep` finds a job's whole record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportJson } from "./json.ts";
 * const report = { version: 1, jobs: [{ name: "a", status: "ok" }] } as never;
 * const text = reportJson(report);
 * assert(text === '{\n  "version": 1,\n  "jobs": [\n    {"name":"a","status":"ok"}\n  ]\n}\n');
 * ```
 */
export function reportJson(report: Report): string {
  return [...reportJsonChunks(report)].join("");
}

/**
 * {@linkcode reportJson}'s text in pieces, so that a report of many jobs can be written without
 * the whole text in memory at once: the report around its jobs, then `jobsPerChunk` job lines at a
 * time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportJson, reportJsonChunks } from "./json.ts";
 * const jobs = Array.from({ length: 5 }, (_, i) => ({ name: `j${i}`, status: "ok" }));
 * const report = { version: 1, jobs, wallMs: 3 } as never;
 * const chunks = [...reportJsonChunks(report, 2)];
 * assert.equal(chunks.length, 5); // before the jobs, three pieces of jobs, after them
 * assert.equal(chunks.join(""), reportJson(report));
 * ```
 */
export function* reportJsonChunks(report: Report, jobsPerChunk = 1000): Generator<string> {
  const { jobs } = report;
  const { before, after } = reportJsonFrame(report);
  if (jobs.length === 0) {
    yield `${before}[]`;
  } else {
    yield `${before}[\n${JOB_INDENT}`;
    for (let start = 0; start < jobs.length; start += jobsPerChunk) {
      const lines = jobs.slice(start, start + jobsPerChunk).map(jobLine);
      const last = start + jobsPerChunk >= jobs.length;
      yield `${lines.join(`,\n${JOB_INDENT}`)}${last ? "\n  ]" : `,\n${JOB_INDENT}`}`;
    }
  }
  yield after;
}

/**
 * A job's line in report.json: its entry as JSON, without an `attemptLog` that says nothing the
 * entry does not (no attempt, or one clean attempt with the entry's lane and times), which is a
 * fifth of a download's line. {@linkcode withAttemptLog} puts it back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jobLine, withAttemptLog } from "./json.ts";
 * const job = { name: "a", startMs: 1, endMs: 5, lane: "io-1",
 *   attemptLog: [{ lane: "io-1", startMs: 1, endMs: 5 }] } as never;
 * assert.equal(jobLine(job), '{"name":"a","startMs":1,"endMs":5,"lane":"io-1"}');
 * assert.deepEqual(withAttemptLog(JSON.parse(jobLine(job))), job);
 * const retried = { ...job as object, attemptLog: [{ lane: "io-1", startMs: 1, endMs: 2,
 *   error: { message: "503", code: "HTTP_503" } }, { lane: "io-1", startMs: 3, endMs: 5 }] };
 * assert.deepEqual(JSON.parse(jobLine(retried as never)), retried);
 * ```
 */
export function jobLine(job: ReportJob): string {
  if (!saysMore(job)) {
    const { attemptLog: _, ...rest } = job;
    return JSON.stringify(rest);
  }
  return JSON.stringify(job);
}

/** `job` with its `attemptLog`, put back where report.json (version 2) left it out. */
export function withAttemptLog(job: ReportJob): ReportJob {
  if (Array.isArray(job.attemptLog)) return job;
  const { lane, startMs, endMs } = job;
  const attemptLog: ReportAttempt[] = lane === null || startMs === null || lane === undefined
    ? []
    : [{ lane, startMs, endMs }];
  return { ...job, attemptLog };
}

/** Whether `job`'s attempt log says more than its entry's lane and times. */
function saysMore({ attemptLog, lane, startMs, endMs }: ReportJob): boolean {
  if (!Array.isArray(attemptLog)) return true; // none to leave out
  if (attemptLog.length === 0) return lane !== null;
  if (attemptLog.length > 1) return true;
  const [only] = attemptLog as [ReportAttempt];
  return only.error !== undefined || only.retryDelayMs !== undefined || only.lane !== lane ||
    only.startMs !== startMs || only.endMs !== endMs;
}

/** The indent of a job's line in report.json. */
export const JOB_INDENT = "    ";

/**
 * The text of report.json around its jobs, whose list (`[`, the lines, `]`) goes between `before`
 * and `after`: one job a line, each after {@linkcode JOB_INDENT}, the last followed by `\n  ]`.
 */
export function reportJsonFrame(report: Omit<Report, "jobs">): { before: string; after: string } {
  const rest = JSON.stringify({ ...report, jobs: JOBS_MARK }, null, 2);
  const at = rest.indexOf(JSON.stringify(JOBS_MARK));
  return {
    before: rest.slice(0, at),
    after: `${rest.slice(at + JSON.stringify(JOBS_MARK).length)}\n`,
  };
}
