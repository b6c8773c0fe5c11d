/**
 * Reading the environment where a run may not be granted all of it.
 *
 * @module
 */

/**
 * A variable's value; undefined when it is unset or this process may not read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEnv } from "./env.ts";
 * assert.equal(readEnv("TASKPOOL_SURELY_UNSET_VARIABLE"), undefined);
 * ```
 */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted: the run was not given that variable
  }
}
