/**
 * One line of text per notable job event: a start, a retry, an end. Plain output prints them
 * all, timestamped; the terminal display prints retries and failures above its bars.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { RunEvent } from "../scheduler/events.ts";
import { formatBytes, formatDuration } from "../util/format.ts";

/**
 * Whether `event` is bad news (a retry or a failure): the lines a terminal display and
 * `--quiet` keep. Cheap, so displays can skip building the other lines.
 */
export function isBadNews(event: RunEvent): boolean {
  return event.type === "job-retrying" ||
    (event.type === "job-finished" && event.outcome.status === "failed");
}

/** What a line says, and whether it is bad news (a failure or a retry). */
export interface EventLine {
  text: string;
  severity: "info" | "retry" | "failure";
}

/**
 * The line for `event`, or undefined if it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventLine } from "./lines.ts";
 * const job = { name: "a", kind: "run", needs: [] } as never;
 * const line = eventLine({ type: "job-started", at: 0, job, attempt: 2, lane: "cpu-1" });
 * assert(line?.text === "start     a on cpu-1 (attempt 2)");
 * ```
 */
export function eventLine(
  event: RunEvent,
  options: { color?: boolean } = {},
): EventLine | undefined {
  const paint = (code: number, text: string) =>
    options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  switch (event.type) {
    case "job-started": {
      const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : "";
      return { text: `start     ${event.job.name} on ${event.lane}${attempt}`, severity: "info" };
    }
    case "job-retrying":
      return {
        text: `${paint(33, "retry")}     ${event.job.name}: ${errorMessage(event.error)} ` +
          `(attempt ${event.attempt} failed; next in ${formatDuration(event.delayMs)})`,
        severity: "retry",
      };
    case "job-finished": {
      const { outcome, job } = event;
      const ranOn = outcome.result?.ranOn ??
        (outcome.error as { worker?: unknown } | undefined)?.worker;
      const where = typeof ranOn === "string" ? ` on ${ranOn}` : "";
      const took = outcome.startMs === undefined
        ? ""
        : ` ${formatDuration(outcome.endMs - outcome.startMs)}${where}`;
      if (outcome.status === "failed") {
        return {
          text: `${paint(31, "failed")}    ${job.name}${took}: ${errorMessage(outcome.error)}`,
          severity: "failure",
        };
      }
      const size = outcome.result?.bytes === undefined
        ? ""
        : ` ${formatBytes(outcome.result.bytes)}`;
      const why = outcome.status === "cached"
        ? ` (${outcome.result?.cached === "checksum" ? "checksum matches" : "not modified"})`
        : outcome.error === undefined
        ? ""
        : `: ${errorMessage(outcome.error)}`;
      return {
        text: `${outcome.status.padEnd(9)} ${job.name}${took}${size}${why}`,
        severity: "info",
      };
    }
    default:
      return undefined;
  }
}
