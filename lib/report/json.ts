/**
 * The report as the JSON text of report.json.
 *
 * @module
 */
import type { Report } from "./types.ts";

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
      const lines = jobs.slice(start, start + jobsPerChunk).map((job) => JSON.stringify(job));
      const last = start + jobsPerChunk >= jobs.length;
      yield `${lines.join(`,\n${JOB_INDENT}`)}${last ? "\n  ]" : `,\n${JOB_INDENT}`}`;
    }
  }
  yield after;
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
