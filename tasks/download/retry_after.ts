/**
 * The `Retry-After` header: a number of seconds, or an HTTP date.
 *
 * @module
 */

/**
 * Milliseconds to wait from a `Retry-After` value, or undefined when there is none or it
 * cannot be read. A date in the past means 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./retry_after.ts";
 * assert(parseRetryAfter("120") === 120_000);
 * const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
 * assert(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now) === 30_000);
 * assert(parseRetryAfter("soon") === undefined);
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": not a valid form
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
