/**
 * SIGINT and SIGTERM for a command that runs jobs: the first cancels the run cleanly through an
 * `AbortSignal` (with an {@linkcode InterruptedError} as its reason), a second exits at once.
 *
 * @module
 */
import { InterruptedError } from "../errors.ts";
import { EXIT } from "../exit_codes.ts";
import type { CliIo } from "./io.ts";
import { runHardExitHooks } from "../util/exit_hooks.ts";
import { signalEchoFilter } from "./signal_echo.ts";

/** The signal a command passes to its runs; dispose of it to stop listening. */
export interface Interrupts extends Disposable {
  signal: AbortSignal;
  /** Says "cancelling" through `note` from now on (a progress display, which keeps its block). */
  sayThrough(note: (text: string) => void): void;
}

/**
 * Listens for SIGINT and SIGTERM until disposed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenForInterrupts } from "./interrupts.ts";
 * using interrupts = listenForInterrupts({ stderr: () => {}, stdout: () => {}, stderrIsTty: false, color: false });
 * assert(!interrupts.signal.aborted);
 * ```
 */
export function listenForInterrupts(io: CliIo): Interrupts {
  const controller = new AbortController();
  const isEcho = signalEchoFilter();
  let say = (text: string) => io.stderr(`\n${text}`);
  const handlers = INTERRUPTS.map((signal) => {
    const handler = () => {
      if (isEcho(signal)) return; // `deno task` passing on a Ctrl-C we got from the terminal
      if (controller.signal.aborted) {
        // A second signal: the user wants out now. Files under final names are complete (they
        // are renamed there only when verified). The hooks write the report as it stands and
        // kill the commands; the Worker and process hosts end when their stdin closes with us.
        runHardExitHooks();
        Deno.exit(signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint);
      }
      say(`taskpool: ${signal} received, cancelling (again to exit at once)\n`);
      controller.abort(new InterruptedError(signal));
    };
    Deno.addSignalListener(signal, handler);
    if (signal === "SIGTERM") terminationHandlers.add(handler);
    return { signal, handler };
  });
  return {
    signal: controller.signal,
    sayThrough(note) {
      say = note;
    },
    [Symbol.dispose]() {
      for (const { signal, handler } of handlers) {
        Deno.removeSignalListener(signal, handler);
        terminationHandlers.delete(handler);
      }
    },
  };
}

const INTERRUPTS = ["SIGINT", "SIGTERM"] as const;

/** The SIGTERM handlers of the commands listening now. */
const terminationHandlers = new Set<() => void>();

/**
 * Acts as if SIGTERM had arrived (the launcher of a relaunched run has gone): a command that
 * listens cancels its run; with none listening, the process exits with 143.
 */
export function raiseTermination(): void {
  if (terminationHandlers.size === 0) Deno.exit(EXIT.sigterm);
  for (const handler of terminationHandlers) handler();
}
