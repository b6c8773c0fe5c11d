/**
 * Command-line parsing shared by the subcommands: strict, as `node:util` parseArgs is (unknown
 * flags, missing values and values that look like flags are errors), with its errors as
 * {@linkcode UsageError} (exit code 2). Its own parser, because importing `node:util` starts
 * Deno's Node compatibility layer, some 20 ms of every command.
 *
 * @module
 */
import { parseRate } from "../util/rate.ts";
import { UsageError } from "../errors.ts";
import { type Mode, MODES } from "../run/modes.ts";
import { expandWaitLock } from "./wait_lock.ts";
import { closest } from "../jobfile/suggest.ts";

/** One flag: `--name VALUE` (string) or `--name` (boolean), maybe `-x` too, maybe repeated. */
export interface FlagOption {
  readonly type: "string" | "boolean";
  /** A one-letter alias: `-o DIR`, `-oDIR`, `-qj4`. */
  readonly short?: string;
  /** Repeatable: the values are collected in order. */
  readonly multiple?: boolean;
  /**
   * A string flag whose value may be left out: its value then. It is left out when nothing or
   * another flag follows the flag, or when what follows is the command's only positional.
   */
  readonly bare?: string;
}

/** A command's flags by long name. */
export type FlagOptions = Readonly<Record<string, FlagOption>>;

type FlagValue<O extends FlagOption> = O["type"] extends "boolean" ? boolean : string;

/** The values of the flags given, by long name. */
export type FlagValues<T extends FlagOptions> = {
  -readonly [K in keyof T]?: T[K] extends { readonly multiple: true } ? FlagValue<T[K]>[]
    : FlagValue<T[K]>;
};

/**
 * Parses `args` strictly; unknown flags and missing values are usage errors. A bare
 * `--wait-lock` gets its value first (see `wait_lock.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandArgs } from "./args.ts";
 * const { values, positionals } = parseCommandArgs(["jobs.yaml", "-qj4", "--only=a"], {
 *   quiet: { type: "boolean", short: "q" },
 *   concurrency: { type: "string", short: "j" },
 *   only: { type: "string", multiple: true },
 * });
 * assert.deepEqual({ ...values }, { quiet: true, concurrency: "4", only: ["a"] });
 * assert.deepEqual(positionals, ["jobs.yaml"]);
 * assert.throws(() => parseCommandArgs(["--nope"], {}), /unknown option --nope/);
 * ```
 * @throws {UsageError} for a flag that is unknown, lacks its value or has one it takes not
 */
export function parseCommandArgs<const T extends FlagOptions>(
  args: string[],
  options: T,
): { values: FlagValues<T>; positionals: string[] } {
  try {
    const expanded = expandWaitLock(args);
    const parsed = parseFlags(expanded, options);
    // `--rerun-failed jobs.yaml`: with no positional left, the argument was the positional.
    if (parsed.positionals.length > 0) return parsed;
    const index = expanded.findIndex((arg, at) =>
      arg.startsWith("--") && options[arg.slice(2)]?.bare !== undefined &&
      expanded[at + 1] !== undefined && !expanded[at + 1]!.startsWith("-")
    );
    if (index < 0) return parsed;
    const bare = [...expanded];
    bare[index] = `${expanded[index]}=${options[expanded[index]!.slice(2)]!.bare}`;
    return parseFlags(bare, options);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    // main.ts prints it after "taskpool: ", and the command's help after it.
    throw new UsageError(error.message, { cause: error });
  }
}

class FlagError extends Error {}

/** Whether `arg` reads as a flag: `-x` or `--name`, not `-` (stdin) nor a negative number. */
function looksLikeFlag(arg: string): boolean {
  return arg.length > 1 && arg.startsWith("-") && !/^-\d/.test(arg);
}

function parseFlags<T extends FlagOptions>(
  args: string[],
  options: T,
): { values: FlagValues<T>; positionals: string[] } {
  const values: Record<string, unknown> = Object.create(null);
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.short !== undefined) byShort.set(option.short, name);
  }
  const set = (name: string, value: string | boolean) => {
    if (!options[name]!.multiple) values[name] = value;
    else ((values[name] ??= []) as unknown[]).push(value);
  };
  /** The long name of `flag` (`--name` or `-x`), or an error. */
  const known = (flag: string): string => {
    const name = flag.startsWith("--") ? flag.slice(2) : byShort.get(flag.slice(1));
    if (name !== undefined && Object.hasOwn(options, name)) return name;
    const guess = flag.startsWith("--")
      ? closest(flag.slice(2).split("=")[0]!, Object.keys(options))
      : undefined;
    throw new FlagError(
      `unknown option ${flag}` + (guess ? ` (did you mean --${guess}?)` : "") +
        `; a file named so goes after --, as in: -- ${flag}`,
    );
  };
  /** The value of string flag `flag`: the next argument, which may not look like a flag. */
  const valueAfter = (flag: string, index: number): string => {
    const value = args[index + 1];
    if (value === undefined) throw new FlagError(`${flag} needs a value, and none follows it`);
    // A negative number is a value (for the flag to refuse by its own rule), not a flag.
    if (looksLikeFlag(value)) {
      const spelled = flag.startsWith("--") ? `${flag}=${value}` : `--${known(flag)}=${value}`;
      throw new FlagError(
        `${flag} needs a value, and ${value} follows it (a value that starts with - is ` +
          `written ${spelled})`,
      );
    }
    return value;
  };

  /** Whether the flag at `index` has nothing after it, or another flag. */
  const isBareAt = (index: number) => {
    const next = args[index + 1];
    return next === undefined || looksLikeFlag(next);
  };

  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      positionals.push(...args.slice(index + 1));
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positionals.push(arg);
    } else if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const flag = equals === -1 ? arg : arg.slice(0, equals);
      const name = known(flag);
      if (options[name]!.type === "boolean") {
        if (equals !== -1) throw new FlagError(`Option '${flag}' does not take an argument`);
        set(name, true);
      } else if (equals !== -1) {
        set(name, arg.slice(equals + 1));
      } else if (options[name]!.bare !== undefined && isBareAt(index)) {
        set(name, options[name]!.bare!);
      } else {
        set(name, valueAfter(flag, index++));
      }
    } else {
      // -q, -qv, -j4, -qj 4: booleans until one that takes a value, which takes the rest.
      for (let at = 1; at < arg.length; at++) {
        const flag = `-${arg[at]}`;
        const name = known(flag);
        if (options[name]!.type === "boolean") {
          set(name, true);
          continue;
        }
        const rest = arg.slice(at + 1);
        set(name, rest !== "" ? rest : valueAfter(flag, index++));
        break;
      }
    }
  }
  return { values: values as FlagValues<T>, positionals };
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
    throw new UsageError(`${command} needs a ${what} (or - for stdin)`);
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `${command} takes one ${what}: got ${positionals.length} (${positionals.join(" ")})`,
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
