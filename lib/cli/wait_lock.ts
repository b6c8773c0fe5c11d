/**
 * `--wait-lock [SECONDS]`, shared by the commands that write an output folder: wait for the
 * run that holds its lock instead of exiting 75. Without a value it waits as long as it takes.
 *
 * @module
 */
import { DURATION_PATTERN, parseDuration } from "../util/duration.ts";
import { UsageError } from "../errors.ts";

/** Its `parseArgs` option (the value is filled in by {@linkcode expandWaitLock}). */
export const WAIT_LOCK_FLAG = { "wait-lock": { type: "string" } } as const;

/** Its line of a command's help. */
export const WAIT_LOCK_HELP =
  `      --wait-lock [SECS] wait (forever, or SECS: 30, 2m) for a run holding the output
                         folder instead of exiting 75`;

const FOREVER = "forever";
const SECONDS = new RegExp(`^(\\d+(\\.\\d+)?|${DURATION_PATTERN.slice(1, -1)})$`);

/**
 * Gives a bare `--wait-lock` its value, so `parseArgs` does not take the next argument (the job
 * file, say) for it: a number or duration right after it is its value, anything else is not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandWaitLock } from "./wait_lock.ts";
 * assert(expandWaitLock(["--wait-lock", "jobs.yaml"]).join(" ") === "--wait-lock=forever jobs.yaml");
 * assert(expandWaitLock(["--wait-lock", "30", "jobs.yaml"]).join(" ") === "--wait-lock=30 jobs.yaml");
 * ```
 */
export function expandWaitLock(args: string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      out.push(...args.slice(index));
      break;
    }
    if (arg !== "--wait-lock") {
      out.push(arg);
      continue;
    }
    const next = args[index + 1];
    // A negative number too: its value, for waitLockMs to refuse, not an unknown flag.
    if (next !== undefined && (SECONDS.test(next) || /^-\d/.test(next))) {
      out.push(`--wait-lock=${next}`);
      index++;
    } else {
      out.push(`--wait-lock=${FOREVER}`);
    }
  }
  return out;
}

/**
 * Milliseconds to wait for the lock: 0 without the flag, Infinity for a bare one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitLockMs } from "./wait_lock.ts";
 * assert(waitLockMs(undefined) === 0 && waitLockMs("forever") === Infinity);
 * assert(waitLockMs("2.5") === 2500 && waitLockMs("1m") === 60_000);
 * ```
 * @throws {UsageError} for a value that is not seconds or a duration
 */
export function waitLockMs(value: string | undefined): number {
  if (value === undefined) return 0;
  if (value === FOREVER) return Infinity;
  if (!SECONDS.test(value)) {
    throw new UsageError(
      `--wait-lock takes seconds (30) or a duration (500ms, 2m): got "${value}"`,
    );
  }
  return /^\d/.test(value) && !/[a-z]/.test(value)
    ? Math.round(Number(value) * 1000)
    : parseDuration(value);
}
