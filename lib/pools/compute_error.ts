/**
 * What a compute task fails with, in either pool, with the `code` the report shows.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";

/** A compute job's function threw, or its worker died under it. */
export class ComputeError extends Error implements CodedError {
  override name = "ComputeError";
  readonly code = "COMPUTE";
  /** The stack as the worker saw it (module path and line). */
  readonly workerStack: string | undefined;

  constructor(message: string, options: { workerStack?: string | undefined; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.workerStack = options.workerStack;
  }
}
