/**
 * Reading a report back from disk, for `taskpool report` and `taskpool merge`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { withAttemptLog } from "./json.ts";
import { type Report, REPORT_VERSION } from "./types.ts";

/**
 * Reads a report, of this version or the one before; an unreadable or foreign file is a usage
 * error (exit 2). Each job has its `attemptLog`, also where report.json leaves it out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readReport } from "./read.ts";
 * await assert.rejects(readReport("/nonexistent/report.json"), /cannot read/);
 * ```
 */
export async function readReport(path: string): Promise<Report> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let report: Report;
  try {
    report = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const version = (report as { version?: unknown })?.version;
  if (
    (version !== 1 && version !== REPORT_VERSION) || !Array.isArray(report.jobs) ||
    typeof report.summary !== "object"
  ) {
    throw new UsageError(
      `${path} is not a taskpool report (version 1 or ${REPORT_VERSION}` +
        (typeof version === "number" ? `; it says version ${version}` : "") + ")",
    );
  }
  report.jobs = report.jobs.map(withAttemptLog);
  return report;
}
