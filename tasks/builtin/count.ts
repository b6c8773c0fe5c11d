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
 * import count from "./count.ts";
 * console.assert(count(1000) === 1000);
 * ```
 */
export default function count(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`count needs a whole number n >= 0: got ${n}`);
  }
  let result = 0;
  for (let i = 0; i < n; i++) result += 1;
  return result;
}
