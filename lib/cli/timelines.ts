/**
 * The `--trace PATH` and `--html PATH` flags that `run`, `compare`, `demo` and `report` share:
 * the runs' timeline as a Chrome trace and as a self-contained HTML page.
 *
 * @module
 */

/** Their `parseArgs` options. */
export const TIMELINE_FLAGS = {
  trace: { type: "string" },
  html: { type: "string" },
} as const;

/** Their lines of a command's help. */
export const TIMELINE_HELP =
  `      --html PATH        write the timeline as one HTML page (lanes, hover details, zoom)
      --trace PATH       write the timeline as a Chrome trace (Perfetto, chrome://tracing)`;
