/**
 * Command-line parsing shared by the subcommands: `node:util` parseArgs in strict mode, with its
 * errors turned into {@linkcode UsageError} (exit code 2).
 *
 * @module
 */
import { parseRate } from "../util/rate.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";
import { type Mode, MODES } from "../run/modes.ts";
import { expandWaitLock } from "./wait_lock.ts";

/**
 * Parses `args` strictly; unknown flags and missing values are usage errors. A bare
 * `--wait-lock` gets its value first (see `wait_lock.ts`).
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args: expandWaitLock(args), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`taskpool ${command}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A whole number of at least 1 from a flag value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveInteger } from "./args.ts";
 * assert(positiveInteger("--cpu", "4") === 4);
 * ```
 * @throws {UsageError} for anything else
 */
export function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${flag} must be a whole number of at least 1: got "${value}"`);
  }
  return Number(value);
}

/**
 * Bytes a second from `--limit-rate` (`4MiB/s`, `500k`, `1048576`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateArg } from "./args.ts";
 * assert.equal(rateArg("4MiB/s"), 4 * 2 ** 20);
 * assert.equal(rateArg(undefined), undefined);
 * ```
 * @throws {UsageError} for a value that is not a rate
 */
export function rateArg(value: string | undefined, flag = "--limit-rate"): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseRate(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
  } catch (error) {
    throw new UsageError(`${flag} ${(error as Error).message}`);
  }
}

/** The single positional argument a command needs. */
export function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length === 0) {
    throw new UsageError(`taskpool ${command}: missing ${what} (use - for stdin)`);
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `taskpool ${command}: expected one ${what}: got ${positionals.length} (${
        positionals.join(" ")
      })`,
    );
  }
  return positionals[0]!;
}

/**
 * A concurrency mode from `--mode`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modeArg } from "./args.ts";
 * assert(modeArg("async") === "async" && modeArg(undefined) === "auto");
 * ```
 * @throws {UsageError} for a name that is not a mode
 */
export function modeArg(value: string | undefined): Mode {
  if (value === undefined) return "auto";
  if ((MODES as readonly string[]).includes(value)) return value as Mode;
  throw new UsageError(`--mode must be one of ${MODES.join(", ")}: got "${value}"`);
}

/**
 * Modes from a comma-separated `--modes` list, in the order given, each once.
 *
 * @throws {UsageError} for an empty list or a name that is not a mode
 */
export function modesArg(value: string): Mode[] {
  const names = value.split(",").map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError("--modes needs at least one mode");
  return [...new Set(names.map(modeArg))];
}
