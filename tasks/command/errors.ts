/**
 * What a command job fails with, with the `code` the report shows.
 *
 * @module
 */
import type { CodedError } from "../../lib/errors.ts";
import { printable } from "../../lib/util/printable.ts";

/** Options for {@linkcode CommandFailedError}. */
export interface CommandFailedErrorOptions {
  exitCode: number;
  signal: string | null;
  /** The last lines the command wrote to stderr. */
  stderrTail: string;
}

/** A command job that exited non-zero or was killed by a signal. */
export class CommandFailedError extends Error implements CodedError {
  override name = "CommandFailedError";
  get code(): string {
    return this.signal ? "KILLED" : "EXIT_CODE";
  }
  readonly exitCode: number;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(argv0: string, options: CommandFailedErrorOptions) {
    const { exitCode, signal, stderrTail } = options;
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    // Its last lines as one line, without the colours or cursor moves a program's stderr has.
    const tail = stderrTail
      ? `: ${stderrTail.trim().split("\n").slice(-3).map(printable).join(" | ")}`
      : "";
    super(`${argv0} ${how}${tail}`);
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}
