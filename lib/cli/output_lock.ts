/**
 * Takes the output folder's lock for a command, saying on stderr whom it waits for.
 *
 * @module
 */
import { acquireRunLock, type RunLock } from "../run/run_lock.ts";
import type { CliIo } from "./io.ts";
import { formatDuration } from "../util/format.ts";

/** Options for {@linkcode lockOutput}. */
export interface LockOutputOptions {
  /** What the lock file records, such as `taskpool run jobs.yaml`. */
  command: string;
  /** How long to wait, in ms (`--wait-lock`); 0 fails at once. */
  waitMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * The lock of `output`, held until disposed.
 *
 * @throws {LockedError} when another run holds it past the wait
 */
export function lockOutput(
  output: string,
  io: CliIo,
  options: LockOutputOptions,
): Promise<RunLock> {
  const { command, waitMs, signal } = options;
  return acquireRunLock(output, {
    command,
    waitMs,
    signal,
    onWait: (owner) => {
      const who = owner ? `pid ${owner.pid} on ${owner.host} (${owner.command})` : "another run";
      const limit = Number.isFinite(waitMs) ? ` for up to ${formatDuration(waitMs)}` : "";
      io.stderr(`taskpool: ${output} is in use by ${who}; waiting${limit}\n`);
    },
  });
}
