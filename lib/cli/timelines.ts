/**
 * The `--trace PATH` and `--html PATH` flags that `run`, `compare`, `demo` and `report` share:
 * the runs' timeline as a Chrome trace and as a self-contained HTML page.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { resolve } from "../util/posix_path.ts";
import { isFolder } from "../util/paths.ts";

/** Their `parseArgs` options. */
export const TIMELINE_FLAGS = {
  trace: { type: "string" },
  html: { type: "string" },
} as const;

/** Their lines of a command's help. */
export const TIMELINE_HELP =
  `      --html PATH        write the timeline as one HTML page (lanes, hover details, zoom)
      --trace PATH       write the timeline as a Chrome trace (Perfetto, chrome://tracing)`;

/**
 * Refuses `--trace` and `--html` paths that would write over each other or a folder, or over a
 * file the command has a use for: `taken(path)` says what an absolute path is (`"is the run's report"`),
 * or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTimelinePaths } from "./timelines.ts";
 * const taken = (path: string) => path === "/r.json" ? "is the report" : undefined;
 * checkTimelinePaths({ trace: "/t.json", html: "/t.html" }, taken);
 * assert.throws(() => checkTimelinePaths({ html: "/r.json" }, taken), /--html \/r.json is the report/);
 * assert.throws(() => checkTimelinePaths({ trace: "/t", html: "/t" }, taken), /--html \/t is where --trace writes it too/);
 * ```
 * @throws {UsageError} naming the flag and what its path is
 */
export function checkTimelinePaths(
  paths: { trace?: string | undefined; html?: string | undefined },
  taken: (path: string) => string | undefined,
): void {
  const flags = new Map<string, string>();
  for (const flag of ["trace", "html"] as const) {
    const given = paths[flag];
    if (given === undefined) continue;
    const path = resolve(given);
    const other = flags.get(path);
    const what = other !== undefined
      ? `is where ${other} writes it too`
      : isFolder(path)
      ? "is a folder, not a file"
      : taken(path);
    if (what !== undefined) throw new UsageError(`--${flag} ${given} ${what}`);
    flags.set(path, `--${flag}`);
  }
}
