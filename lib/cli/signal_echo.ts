/**
 * Telling a repeated signal from its echo. A program started by `deno task` (or `npm run`) gets
 * each Ctrl-C twice, a few ms apart: from the terminal, and passed on by
 * the task runner. Taken as two, the second would make taskpool exit at once instead of
 * cancelling cleanly. Under a task runner, a repeat within {@linkcode ECHO_MS} is the same one;
 * a person's second Ctrl-C comes later than that.
 *
 * @module
 */

/** The longest gap between a signal and its echo, in ms. */
export const ECHO_MS = 100;

/**
 * A filter that says whether a signal is the echo of the last one of its kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signalEchoFilter } from "./signal_echo.ts";
 * const isEcho = signalEchoFilter({ underTaskRunner: true });
 * assert(!isEcho("SIGINT") && isEcho("SIGINT"));
 * assert(!signalEchoFilter({ underTaskRunner: false })("SIGINT"));
 * ```
 */
export function signalEchoFilter(
  options: { underTaskRunner?: boolean } = {},
): (signal: Deno.Signal) => boolean {
  const { underTaskRunner = startedByTaskRunner() } = options;
  const last = new Map<Deno.Signal, number>();
  return (signal) => {
    if (!underTaskRunner) return false;
    const now = performance.now();
    if (now - (last.get(signal) ?? -Infinity) < ECHO_MS) return true;
    last.set(signal, now);
    return false;
  };
}

/** `deno task` and `npm run` set INIT_CWD for what they start. */
function startedByTaskRunner(): boolean {
  try {
    return Deno.env.get("INIT_CWD") !== undefined;
  } catch {
    return false; // not allowed to look: a relaunched run, whose signals come from its launcher
  }
}
