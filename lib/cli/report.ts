/**
 * `taskpool report REPORT.json`: a finished run's summary again, with where the time went per
 * pool (waiting for a slot against running) and the effective concurrency.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { formatDuration } from "../util/format.ts";
import { poolInsights } from "../report/insights.ts";
import type { Report } from "../report/types.ts";
import { readReport } from "../report/read.ts";
import { runsOf } from "../report/merge.ts";
import { formatSummary } from "../report/summary.ts";
import { onePositional, parseCommandArgs } from "./args.ts";
import { checkTimelinePaths, TIMELINE_FLAGS, TIMELINE_HELP } from "./timelines.ts";
import { resolve } from "../util/posix_path.ts";
import { writeTimelines } from "../report/outputs.ts";
import type { CliIo } from "./io.ts";
import type { Kinds } from "../kind_definition.ts";

/** Help text of `taskpool report`. */
export const REPORT_HELP =
  `Usage: taskpool report REPORT.json [--slowest N] [--html PATH] [--trace PATH]

Prints a finished run's summary again (slowest jobs, failures, the final line), the mode it ran
in, and per pool the time jobs waited for a slot against the time they ran, with the effective
concurrency (average and peak attempts at once). Exit code: the run's own.

Options:
      --slowest N        how many of the slowest jobs to list (default 5)
${TIMELINE_HELP}
`;

/** Runs `taskpool report`; resolves with the run's exit code. */
export async function reportCommand(
  args: string[],
  io: CliIo,
  kinds: Kinds,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    slowest: { type: "string" },
    ...TIMELINE_FLAGS,
  });
  const path = onePositional("report", positionals, "report file");
  const report = await readReport(path);
  checkTimelinePaths(
    values,
    (timeline) => timeline === resolve(path) ? "is the report it reads" : undefined,
  );
  const slowest = values.slowest === undefined ? 5 : Number(values.slowest);
  if (!Number.isInteger(slowest) || slowest < 0) {
    throw new UsageError(`--slowest must be a whole number: got "${values.slowest}"`);
  }
  const lines = [
    `${report.file}: run of ${report.startedAt}, ${report.summary.total} jobs`,
    ...poolInsights(report).flatMap((pool) => {
      const limit = limitOf(report, pool.pool);
      return [
        `${pool.pool.padEnd(4)} ${pool.attempts} attempts: queued ${
          formatDuration(pool.queuedMs)
        }, running ${formatDuration(pool.runningMs)}; concurrency ${
          pool.averageConcurrency.toFixed(1)
        } on average, ${pool.peakConcurrency} at most (limit ${limit})`,
        `     |${sparkline(pool.concurrencyOverTime, Math.max(limit, pool.peakConcurrency))}| ` +
        `attempts under way over the run's ${formatDuration(report.wallMs)}, 0 to ${limit}`,
      ];
    }),
    formatSummary(report, { color: io.color, slowest }),
  ];
  io.stdout(`${lines.join("\n")}\n`);
  const written = await writeTimelines(
    { trace: values.trace, html: values.html },
    runsOf(report),
    `taskpool run of ${report.file}`,
    kinds.map((kind) => kind.name),
  );
  for (const timeline of written) io.stderr(`taskpool: timeline written to ${timeline}\n`);
  return report.exitCode;
}

function limitOf(report: Report, pool: string): number {
  return pool === "io" || pool === "cpu" ? report.concurrency[pool] : 0;
}

const LEVELS = " ▁▂▃▄▅▆▇█";

/**
 * `values` as a row of block characters, `top` the full block (a blank for nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparkline } from "./report.ts";
 * assert(sparkline([0, 1, 2, 4], 4) === " ▂▄█");
 * ```
 */
export function sparkline(values: number[], top: number): string {
  const steps = LEVELS.length - 1;
  return values.map((value) => {
    const level = top > 0 ? Math.round((value / top) * steps) : 0;
    return LEVELS[Math.max(value > 0 ? 1 : 0, Math.min(steps, level))];
  }).join("");
}
