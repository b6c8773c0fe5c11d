/**
 * The rights of a run as Deno's permission flags: what the launcher starts the run's child with
 * (lib/sandbox/relaunch.ts), and what `taskpool plan` prints. Working the rights out from a plan
 * is lib/sandbox/grants.ts.
 *
 * @module
 */

/** Deno permissions: each a list, or true for all. */
export interface Grants {
  read: string[];
  write: string[];
  net: string[] | true;
  run: string[];
  env: string[] | true;
  sys: string[];
}

/**
 * Deno's flags for `grants`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantFlags } from "./grant_flags.ts";
 * const flags = grantFlags({
 *   read: ["/out"], write: ["/out"], net: [], run: [], env: ["PATH"], sys: ["hostname"],
 * });
 * assert(flags.join(" ") ===
 *   "--allow-read=/out --allow-write=/out --allow-env=PATH --allow-sys=hostname");
 * ```
 * @throws {RangeError} for an entry with a comma, which a flag cannot carry
 */
export function grantFlags(grants: Grants): string[] {
  const flags: string[] = [];
  const add = (name: string, value: string[] | true) => {
    if (value === true) return flags.push(`--allow-${name}`);
    if (value.length === 0) return;
    for (const item of value) {
      if (item.includes(",")) {
        throw new RangeError(`--allow-${name} cannot carry an entry with a comma: ${item}`);
      }
    }
    flags.push(`--allow-${name}=${value.join(",")}`);
  };
  add("read", grants.read);
  add("write", grants.write);
  add("net", grants.net);
  add("run", grants.run);
  add("env", grants.env);
  add("sys", grants.sys);
  return flags;
}
