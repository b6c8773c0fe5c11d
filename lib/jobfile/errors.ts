/**
 * The errors of reading a job file: one problem pinned to its place, and all of a file's
 * problems together. Both mean exit code 2: nothing ran.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";

/** Where in a job file something stands: 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Options for {@linkcode JobFileError}. */
export interface JobFileErrorOptions {
  /** The job file as the user named it (`-` for stdin). */
  file: string;
  /** Position of the offending node; omitted for file-level problems. */
  position?: SourcePosition | undefined;
  /** Field path such as `jobs[3].download.url`; empty for the document itself. */
  field?: string;
  /** A suggestion, such as the closest known key. */
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * One problem in a job file, pinned to file, line, column and field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JobFileError } from "./errors.ts";
 * const error = new JobFileError("must be an http(s) URL: got \"ftp://x\"", {
 *   file: "jobs.yaml",
 *   position: { line: 12, column: 9 },
 *   field: "jobs[3].download.url",
 * });
 * assert(error.toString() === 'jobs.yaml:12:9: jobs[3].download.url must be an http(s) URL: got "ftp://x"');
 * ```
 */
export class JobFileError extends SyntaxError implements CodedError {
  override name = "JobFileError";
  readonly code = "JOB_FILE";
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string;
  readonly hint: string | undefined;
  /** The message without location, as the schema phrased it. */
  readonly detail: string;

  constructor(detail: string, options: JobFileErrorOptions) {
    const { file, position, field = "", hint } = options;
    const where = position ? `${file}:${position.line}:${position.column}` : file;
    const subject = field ? `${field} ` : "";
    const suggestion = hint ? ` (${hint})` : "";
    super(`${where}: ${subject}${detail}${suggestion}`, { cause: options.cause });
    this.file = file;
    this.line = position?.line;
    this.column = position?.column;
    this.field = field;
    this.hint = hint;
    this.detail = detail;
  }

  override toString(): string {
    return this.message;
  }
}

/** The most job file errors spelt out in a message (all are in `errors`). */
const SHOWN_ERRORS = 20;

/** Every problem found in a job file, reported together. */
export class InvalidJobFileError extends AggregateError implements CodedError {
  override name = "InvalidJobFileError";
  readonly code = "INVALID_JOB_FILE";
  declare readonly errors: JobFileError[];
  /** The job file as the user named it. */
  readonly file: string;

  constructor(file: string, errors: JobFileError[]) {
    const count = errors.length === 1 ? "1 error" : `${errors.length} errors`;
    const shown = errors.slice(0, SHOWN_ERRORS).map((e) => `  ${e.message}`);
    if (errors.length > SHOWN_ERRORS) shown.push(`  … and ${errors.length - SHOWN_ERRORS} more`);
    super(errors, `${file}: ${count}\n${shown.join("\n")}`);
    this.file = file;
  }
}
