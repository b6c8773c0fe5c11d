/**
 * The rights of a run as Deno's permission flags: what the launcher starts the run's child with
 * (lib/sandbox/relaunch.ts), and what `taskpool plan` prints. Working the rights out from a plan
 * is lib/sandbox/grants.ts.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";

/** Deno permissions: each a list, or true for all. */
export interface Grants {
  read: string[];
  write: string[];
  net: string[] | true;
  run: string[];
  env: string[] | true;
  sys: string[];
}

/** A path a run needs granted has a comma, which no Deno flag can carry: exit 2, nothing run. */
export class CommaInPathError extends RangeError implements CodedError {
  override name = "CommaInPathError";
  readonly code = "JOB_FILE";
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
 * @throws {CommaInPathError} for an entry with a comma, which a flag cannot carry
 */
export function grantFlags(grants: Grants): string[] {
  const flags: string[] = [];
  const add = (name: string, value: string[] | true) => {
    if (value === true) return flags.push(`--allow-${name}`);
    if (value.length === 0) return;
    for (const item of value) {
      if (item.includes(",")) {
        throw new CommaInPathError(
          `${item}: Deno's permission flags separate paths with commas and cannot carry a path ` +
            `that has one (--allow-${name}); rename it, or choose a folder without a comma`,
        );
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
