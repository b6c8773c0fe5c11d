/**
 * Transfer rates as job files and `--limit-rate` write them: a size per second (`500KiB/s`,
 * `4MiB/s`, `1GB/s`), a bare number of bytes per second, or curl's and wget's shorthand
 * (`500k`, `4M`, `1G`: binary units, as theirs are).
 *
 * @module
 */
import { parseSize } from "./size.ts";

/** The pattern a rate string must match (also used by the JSON Schema). */
export const RATE_PATTERN =
  "^\\d+(\\.\\d+)?\\s*((B|[kK]B|[kK]iB|MB|MiB|GB|GiB|TB|TiB)(/s)?|[kKmMgG]|/s)?$";

const SHORTHAND: Record<string, string> = { k: "KiB", m: "MiB", g: "GiB" };

/**
 * Bytes per second from a rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRate } from "./rate.ts";
 * assert.equal(parseRate("4MiB/s"), 4 * 2 ** 20);
 * assert.equal(parseRate("500k"), 500 * 1024);
 * assert.equal(parseRate("1GB/s"), 1e9);
 * assert.equal(parseRate(1000), 1000);
 * assert.throws(() => parseRate("fast"), RangeError);
 * assert.throws(() => parseRate(0), RangeError);
 * ```
 * @throws {RangeError} when the value is not a rate above zero
 */
export function parseRate(value: number | string): number {
  let bytes: number;
  if (typeof value === "number") {
    bytes = value;
  } else {
    const text = value.trim();
    if (!new RegExp(RATE_PATTERN).test(text)) {
      throw new RangeError(`must be a rate such as 500KiB/s, 4MiB/s or 1GB/s: got "${value}"`);
    }
    const size = text.replace(/\/s$/, "").trim();
    const unit = /[kKmMgG]$/.exec(size)?.[0];
    bytes = unit === undefined
      ? (/^\d+(\.\d+)?$/.test(size) ? Number(size) : parseSize(size))
      : parseSize(`${size.slice(0, -1)}${SHORTHAND[unit.toLowerCase()]}`);
  }
  if (!Number.isFinite(bytes) || bytes < 1) {
    throw new RangeError(`must be a rate of at least 1 byte a second: got ${value}`);
  }
  return Math.round(bytes);
}
