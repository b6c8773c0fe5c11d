/**
 * Durations as job files write them: a number of seconds, or a string such as `500ms`,
 * `30s`, `2m`, `1h`, or a sum like `1m30s`.
 *
 * @module
 */

/** The pattern a duration string must match (also used by the JSON Schema). */
export const DURATION_PATTERN = "^(\\d+(\\.\\d+)?(ms|s|m|h))+$";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Milliseconds from a job-file duration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert(parseDuration("500ms") === 500);
 * assert(parseDuration("1m30s") === 90_000);
 * assert(parseDuration(2.5) === 2500);
 * ```
 * @throws {RangeError} when the value is not a duration
 */
export function parseDuration(value: number | string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`Duration must be a non-negative number of seconds: got ${value}`);
    }
    return Math.round(value * 1000);
  }
  if (!new RegExp(DURATION_PATTERN).test(value)) {
    throw new RangeError(`Duration must look like 500ms, 30s, 2m or 1h: got "${value}"`);
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return Math.round(total);
}
