/**
 * The terminal summary printed at the end of a run: counts, wall time, the slowest jobs and
 * the failures with their reasons (the first 20; the rest counted), then one final line whose
 * wording scripts may rely on.
 *
 * @module
 */
import { formatBytes, formatDuration } from "../util/format.ts";
import type { Report } from "./types.ts";

/**
 * What a summary is made of: a report, whose `jobs` may be only those the summary names (every
 * one that did not succeed, and the slowest that did: a run's `named`).
 */
export type SummaryOf = Omit<Report, "jobs"> & {
  jobs: readonly Report["jobs"][number][];
  /** The run's report.json could not be written. */
  notWritten?: true;
};

/** The failures a summary lists one by one; it counts the rest. */
export const MOST_FAILURES_LISTED = 20;

/** Options for {@linkcode formatSummary}. */
export interface SummaryOptions {
  /** Use ANSI colours. @default false */
  color?: boolean;
  /** Where the report was written, for the last line. */
  reportPath?: string;
  /** How many of the slowest jobs to list. @default 5 */
  slowest?: number;
}

/**
 * The summary of a report, as lines of text (no trailing newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finalLine } from "./summary.ts";
 * const summary = { total: 4, ok: 2, cached: 1, failed: 1, skipped: 0, cancelled: 0, bytes: 0 };
 * assert(finalLine(summary, 1234) === "taskpool: FAILED 4 jobs: 2 ok, 1 cached, 1 failed, 0 skipped, 0 cancelled in 1.23s");
 * ```
 */
export function formatSummary(report: SummaryOf, options: SummaryOptions = {}): string {
  const { color = false, reportPath, slowest = 5 } = options;
  const paint = (code: number, text: string) => color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const lines: string[] = [];
  const { summary } = report;

  const ran = report.jobs.filter((job) => job.startMs !== null && job.status === "ok");
  if (ran.length > 1 && slowest > 0) {
    const top = ran.toSorted((a, b) => b.durationMs - a.durationMs).slice(0, slowest);
    lines.push(
      `slowest: ${
        top.map((job) => `${job.name} ${formatDuration(job.durationMs)}${where(job)}`).join(", ")
      }`,
    );
  }
  const failures = report.jobs.filter((job) => job.status === "failed");
  for (const job of failures.slice(0, MOST_FAILURES_LISTED)) {
    const tries = job.attempts > 1 ? ` (after ${job.attempts} attempts)` : "";
    lines.push(
      `${paint(31, "failed")}  ${job.name}${where(job)}: ${
        job.error?.message ?? "unknown"
      }${tries}`,
    );
  }
  if (failures.length > MOST_FAILURES_LISTED) {
    const more = failures.length - MOST_FAILURES_LISTED;
    const reasons = report.notWritten ? "" : " (each with its reason in the report)";
    lines.push(`${paint(31, "failed")}  ${more} more${reasons}`);
  }
  const skipped = report.jobs.filter((job) => job.status === "skipped");
  if (skipped.length > 0) {
    const names = skipped.slice(0, 8).map((job) => job.name).join(", ");
    const more = skipped.length > 8 ? ` and ${skipped.length - 8} more` : "";
    lines.push(`${paint(33, "skipped")} ${names}${more} (a job they need did not succeed)`);
  }
  const cancelled = report.jobs.filter((job) => job.status === "cancelled");
  if (cancelled.length > 0) {
    const names = cancelled.slice(0, 8).map((job) => job.name).join(", ");
    const more = cancelled.length > 8 ? ` and ${cancelled.length - 8} more` : "";
    const why = cancelled[0]?.error?.message;
    lines.push(`${paint(33, "cancelled")} ${names}${more}${why ? `: ${why}` : ""}`);
  }
  if (summary.bytes > 0) {
    const seconds = report.wallMs / 1000;
    const rate = seconds > 0 ? `, ${formatBytes(summary.bytes / seconds)}/s` : "";
    lines.push(`downloaded ${formatBytes(summary.bytes)}${rate}`);
  }
  if (summary.cached > 0) {
    lines.push(`cached  ${summary.cached} already up to date (use --force to download again)`);
  }
  if (report.mode.why) {
    lines.push(`mode: ${report.mode.used} (${report.mode.why})`);
  }
  if (reportPath) lines.push(`report: ${reportPath}`);
  const last = finalLine(summary, report.wallMs);
  lines.push(report.exitCode === 0 ? paint(32, last) : paint(31, last));
  return lines.join("\n");
}

/** Which run of a merged report a job came from, for its line. */
function where(job: Report["jobs"][number]): string {
  return job.ranOn === undefined ? "" : ` (${job.ranOn})`;
}

/** The last line of every run, in a fixed form: `taskpool: OK|FAILED N jobs: ...`. */
export function finalLine(summary: Report["summary"], wallMs: number): string {
  const verdict = summary.ok + summary.cached === summary.total ? "OK" : "FAILED";
  return `taskpool: ${verdict} ${summary.total} jobs: ${summary.ok} ok, ${summary.cached} cached, ` +
    `${summary.failed} failed, ` +
    `${summary.skipped} skipped, ${summary.cancelled} cancelled in ${formatDuration(wallMs)}`;
}
