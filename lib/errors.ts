/**
 * What every error of taskpool's has in common, and what `main.ts` makes of one.
 *
 * Each error class lives beside the code that throws it (the job file's in `lib/jobfile/`,
 * HTTP's in `lib/http/`, a kind's in its folder under `tasks/`), extends the nearest built-in and
 * carries a `code`: the {@linkcode CodedError} shape. This file reads that code, for the report's
 * `error.code` ({@linkcode errorCode}) and for the process's exit code ({@linkcode exitCodeOf}),
 * so it never needs to know the classes.
 *
 * @module
 */
import { EXIT } from "./exit_codes.ts";

/**
 * The shape every taskpool error has: an `Error` (of the nearest built-in class) with a short,
 * stable, machine-readable `code` such as `HTTP_404` or `INVALID_JOB_FILE`.
 */
export interface CodedError extends Error {
  readonly code: string;
}

/** Bad command-line usage: an unknown flag, a missing argument, a bad value. Exit code 2. */
export class UsageError extends TypeError implements CodedError {
  override name = "UsageError";
  readonly code = "USAGE";
}

/**
 * A run stopped by SIGINT or SIGTERM: the reason of the run's signal. Exit code 130 or 143.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeOf, InterruptedError } from "./errors.ts";
 * assert.equal(exitCodeOf(new InterruptedError("SIGTERM")), 143);
 * ```
 */
export class InterruptedError extends Error implements CodedError {
  override name = "InterruptedError";
  readonly code = "INTERRUPTED";
  readonly signal: "SIGINT" | "SIGTERM";

  constructor(signal: "SIGINT" | "SIGTERM") {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

/**
 * Whether `error` is one of taskpool's own errors, with one of `codes` if any are given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasCode, UsageError } from "./errors.ts";
 * assert(hasCode(new UsageError("x"), "USAGE"));
 * assert(!hasCode(new TypeError("x")));
 * ```
 */
export function hasCode(error: unknown, ...codes: string[]): error is CodedError {
  if (!(error instanceof Error) || !("code" in error) || typeof error.code !== "string") {
    return false;
  }
  return codes.length === 0 || codes.includes(error.code);
}

/** The system's errors of a disk that takes nothing more: exit 74. */
export const UNWRITABLE: ReadonlySet<unknown> = new Set(["ENOSPC", "EDQUOT", "EFBIG", "EROFS"]);

/** Codes whose error means the command was used wrongly or its job file is bad: exit 2. */
const USAGE_CODES = ["USAGE", "INVALID_JOB_FILE", "JOB_FILE"];

/**
 * The exit code for a command that ended by throwing `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeOf, UsageError } from "./errors.ts";
 * assert.equal(exitCodeOf(new UsageError("unknown flag --x")), 2);
 * assert.equal(exitCodeOf(new Error("out of luck")), 1);
 * assert.equal(exitCodeOf(Object.assign(new Error("No space left"), { code: "ENOSPC" })), 74);
 * ```
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof InterruptedError) {
    return error.signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
  }
  if (UNWRITABLE.has(systemErrorCode(error))) return EXIT.notSaved;
  // Try again later: another run holds the output folder, or a service was not there.
  if (hasCode(error, "LOCKED", "UNAVAILABLE")) return EXIT.locked;
  if (hasCode(error, ...USAGE_CODES)) return EXIT.usage;
  return EXIT.jobsFailed;
}

/**
 * A short machine-readable code for an error, used in the report's `error.code`: a taskpool
 * error's own `code`, else one that names what the runtime threw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorCode } from "./errors.ts";
 * assert.equal(errorCode(new DOMException("late", "TimeoutError")), "TIMEOUT");
 * assert.equal(errorCode(new TypeError("error sending request")), "NETWORK");
 * assert.equal(errorCode(new RangeError("bad")), "RANGE_ERROR");
 * ```
 */
export function errorCode(error: unknown): string {
  if (hasCode(error)) return error.code;
  if (error instanceof Error || error instanceof DOMException) {
    if (error.name === "TimeoutError") return "TIMEOUT";
    if (error.name === "AbortError") return "ABORTED";
    if (error.name === "NotCapable" || error.name === "PermissionDenied") return "PERMISSION";
    if (error instanceof TypeError) return "NETWORK";
    const system = systemErrorCode(error);
    if (system !== undefined) return system;
    return error.name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }
  return "UNKNOWN";
}

/**
 * The system's name for the error of a file or socket operation (`ENOSPC`): Deno's `code`, or,
 * for the errors Deno gives none (a file over `ulimit -f`, a full quota), the Linux number its
 * message ends with. Undefined for other errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemErrorCode } from "./errors.ts";
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * assert.equal(systemErrorCode(full), "ENOSPC");
 * const large = new Error("File too large (os error 27): writefile 'a.part'");
 * assert.equal(systemErrorCode(large), Deno.build.os === "linux" ? "EFBIG" : undefined);
 * assert.equal(systemErrorCode(new Error("no")), undefined);
 * ```
 */
export function systemErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if ("code" in error && typeof error.code === "string") return error.code;
  if (Deno.build.os !== "linux") return undefined;
  const number = /\(os error (\d+)\)/.exec(error.message)?.[1];
  return number === undefined ? undefined : LINUX_ERRORS[number];
}

/** Linux's numbers of the file system errors Deno gives no `code`. */
const LINUX_ERRORS: Record<string, string> = {
  "27": "EFBIG",
  "30": "EROFS",
  "122": "EDQUOT",
};

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error || error instanceof DOMException) return error.message;
  return String(error);
}

/** One problem of a job file, as {@linkcode failureJson} lists it. */
export interface ProblemJson {
  message: string;
  file?: string;
  line?: number;
  column?: number;
  field?: string;
}

/**
 * What `--json` prints on stdout for a command that failed before it had a summary (a job file
 * with errors, bad usage, a locked output folder): the exit code, and the error's code and
 * message, with each problem of a job file (its file, line, column and field) when it has them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureJson, UsageError } from "./errors.ts";
 * assert.deepEqual(failureJson(2, new UsageError("unknown flag --x")), {
 *   exitCode: 2,
 *   error: { code: "USAGE", message: "unknown flag --x" },
 * });
 * ```
 */
export function failureJson(
  exitCode: number,
  error: unknown,
): { exitCode: number; error: { code: string; message: string; problems?: ProblemJson[] } } {
  const listed = error instanceof AggregateError ? error.errors : [];
  const problems = listed.map((each: Record<string, unknown>): ProblemJson => {
    const problem: ProblemJson = { message: errorMessage(each) };
    for (const key of ["file", "line", "column", "field"] as const) {
      const value = each?.[key];
      if ((typeof value === "string" && value !== "") || typeof value === "number") {
        (problem as unknown as Record<string, unknown>)[key] = value;
      }
    }
    return problem;
  });
  return {
    exitCode,
    error: {
      code: errorCode(error),
      message: errorMessage(error),
      ...(problems.length > 0 ? { problems } : {}),
    },
  };
}
