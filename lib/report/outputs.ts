/**
 * A run's timelines, besides its report: the Chrome trace and the HTML page, each written
 * atomically, for `--trace PATH` and `--html PATH`.
 *
 * @module
 */
import { type LabelledReport, writeTimelineHtml } from "./html.ts";
import { writeTrace } from "./trace.ts";

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
 * import { writeTimelines } from "./outputs.ts";
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
