/**
 * Reading a report back from disk, for `taskpool report` and `taskpool merge`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Report } from "./types.ts";

/**
 * Reads a report; an unreadable or foreign file is a usage error (exit 2).
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
  if (report?.version !== 1 || !Array.isArray(report.jobs) || typeof report.summary !== "object") {
    throw new UsageError(`${path} is not a taskpool report (version 1)`);
  }
  return report;
}
