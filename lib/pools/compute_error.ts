/**
 * What a compute task fails with, in either pool, with the `code` the report shows.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";
import { printable } from "../util/printable.ts";

/**
 * A compute job's function threw, or its worker died under it. The message is the task's own
 * words, made {@linkcode printable}: no escape sequence or line break of it reaches the terminal.
 */
export class ComputeError extends Error implements CodedError {
  override name = "ComputeError";
  readonly code = "COMPUTE";
  /** The stack as the worker saw it (module path and line). */
  readonly workerStack: string | undefined;

  constructor(message: string, options: { workerStack?: string | undefined; cause?: unknown }) {
    super(printable(message), { cause: options.cause });
    this.workerStack = options.workerStack;
  }
}
