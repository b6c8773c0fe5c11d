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
  const jobs = report.jobs.length === 0
    ? "[]"
    : `[\n    ${report.jobs.map((job) => JSON.stringify(job)).join(",\n    ")}\n  ]`;
  const rest = JSON.stringify({ ...report, jobs: JOBS_MARK }, null, 2);
  return `${rest.replace(JSON.stringify(JOBS_MARK), () => jobs)}\n`;
}
