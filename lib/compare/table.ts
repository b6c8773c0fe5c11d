/**
 * The table `taskpool compare` prints: one row per mode, then any warnings.
 *
 * @module
 */
import type { Comparison } from "./compare.ts";
import { formatBytes, formatDuration } from "../util/format.ts";

/**
 * The comparison as aligned text lines (no trailing newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatComparison } from "./table.ts";
 * const text = formatComparison({ modes: [], runs: [], warnings: [], interrupted: false });
 * assert(text.startsWith("mode"));
 * ```
 */
export function formatComparison(comparison: Comparison): string {
  const header = ["mode", "median", "min-max", "downloads", "compute", "speedup", "peak RSS"];
  const rows = comparison.modes.map((mode) => [
    mode.mode === "auto" ? `auto (${mode.used})` : mode.mode,
    formatDuration(mode.wallMs.median),
    mode.runs > 1
      ? `${formatDuration(mode.wallMs.min)}-${formatDuration(mode.wallMs.max)}`
      : "(1 run)",
    mode.downloadMs ? formatDuration(mode.downloadMs) : "-",
    mode.computeMs ? formatDuration(mode.computeMs) : "-",
    mode.speedup === undefined ? "-" : `${mode.speedup.toFixed(2)}x`,
    formatBytes(mode.peakRssBytes),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) =>
      column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!)
    )
      .join("  ").trimEnd();
  const lines = [line(header), ...rows.map(line)];
  if (rows.length > 0) {
    lines.push(
      "peak RSS: taskpool with its Worker and process hosts; commands of run jobs not counted",
    );
  }
  for (const warning of comparison.warnings) lines.push(`warning: ${warning}`);
  if (comparison.interrupted) lines.push("interrupted: the figures cover the runs that ended");
  return lines.join("\n");
}
