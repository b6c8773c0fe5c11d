/**
 * The `--trace PATH` and `--html PATH` flags that `run`, `compare`, `demo` and `report` share:
 * the runs' timeline as a Chrome trace and as a self-contained HTML page.
 *
 * @module
 */
import { type LabelledReport, writeTimelineHtml } from "../report/html.ts";
import { writeTrace } from "../report/trace.ts";

/** Their `parseArgs` options. */
export const TIMELINE_FLAGS = {
  trace: { type: "string" },
  html: { type: "string" },
} as const;

/** Their lines of a command's help. */
export const TIMELINE_HELP =
  `      --html PATH        write the timeline as one HTML page (lanes, hover details, zoom)
      --trace PATH       write the timeline as a Chrome trace (Perfetto, chrome://tracing)`;

/** Where the timelines go; absent flags write nothing. */
export interface TimelinePaths {
  trace?: string | undefined;
  html?: string | undefined;
}

/**
 * Writes the timelines asked for, each atomically; resolves with the paths written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTimelines } from "./timelines.ts";
 * assert((await writeTimelines({}, [], "nothing")).length === 0);
 * ```
 */
export async function writeTimelines(
  paths: TimelinePaths,
  runs: LabelledReport[],
  title: string,
  kinds: readonly string[] = [],
): Promise<string[]> {
  const written: string[] = [];
  if (paths.trace) {
    await writeTrace(paths.trace, runs);
    written.push(paths.trace);
  }
  if (paths.html) {
    await writeTimelineHtml(paths.html, runs, { title, kinds });
    written.push(paths.html);
  }
  return written;
}
