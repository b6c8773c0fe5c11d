/**
 * Short human forms of durations and byte counts, for the terminal.
 *
 * @module
 */

/**
 * A short human form of milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./format.ts";
 * assert(formatDuration(950) === "950ms");
 * assert(formatDuration(12_345) === "12.35s");
 * assert(formatDuration(125_000) === "2m05s");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
}

/**
 * A wait as a person writes it: whole hours, minutes or seconds when it is one, as a job file
 * says a duration (`24h`, `1m`, `90s`); otherwise as {@linkcode formatDuration}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatWait } from "./format.ts";
 * assert.equal(formatWait(86_400_000), "24h");
 * assert.equal(formatWait(60_000), "1m");
 * assert.equal(formatWait(90_000), "90s");
 * assert.equal(formatWait(1500), "1.50s");
 * ```
 */
export function formatWait(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return formatDuration(ms);
}

/**
 * A short human form of a byte count, or of a rate's bytes (whole bytes below 1 KiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./format.ts";
 * assert.equal(formatBytes(512), "512 B");
 * assert.equal(formatBytes(242.057), "242 B");
 * assert.equal(formatBytes(1536), "1.5 KiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}
