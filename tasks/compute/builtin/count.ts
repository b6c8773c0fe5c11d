/**
 * The classic CPU-bound loop from the concurrency tutorials:
 * `for _ in range(n): result += 1`.
 *
 * @module
 */

/**
 * Counts to `n` one step at a time and returns `n`. Pure CPU work, no I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import count from "./count.ts";
 * assert(count(1000) === 1000);
 * ```
 */
export default function count(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`count needs a whole number n >= 0: got ${n}`);
  }
  let result = 0;
  // In rounds of at most 2^29 steps, each counted in small integers: a counter past 2^30 no
  // longer fits V8's small integers, and the loop fell back to slow code now and then
  // (count(2.7e9) took 3.6 s in one call of four, 0.8-1 s in the others).
  while (result < n) result += countRound(Math.min(n - result, ROUND));
  return result;
}

/** The most steps counted in one call of {@linkcode countRound}. */
const ROUND = 2 ** 29;

/** Counts `steps` (at most {@linkcode ROUND}) one at a time. */
function countRound(steps: number): number {
  let done = 0;
  for (let i = 0; i < steps; i++) done += 1;
  return done;
}
