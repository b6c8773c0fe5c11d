/**
 * Command-line parsing shared by the subcommands: `node:util` parseArgs in strict mode, with its
 * errors turned into {@linkcode UsageError} (exit code 2).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** Parses `args` strictly; unknown flags and missing values are usage errors. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`taskpool ${command}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A whole number of at least 1 from a flag value.
 *
 * @example
 * ```ts
 * import { positiveInteger } from "./args.ts";
 * console.assert(positiveInteger("--cpu", "4") === 4);
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
