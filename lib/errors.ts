/**
 * The error classes a caller must tell apart. Each extends the nearest built-in and carries
 * data, so `main.ts` can turn it into text and an exit code without parsing messages.
 *
 * @module
 */
import type { LockOwner } from "./run/run_lock.ts";

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
export class JobFileError extends SyntaxError {
  override name = "JobFileError";
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
export class InvalidJobFileError extends AggregateError {
  override name = "InvalidJobFileError";
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

/** Bad command-line usage: an unknown flag, a missing argument, a bad value. */
export class UsageError extends TypeError {
  override name = "UsageError";
}

/** Options for {@linkcode HttpStatusError}. */
export interface HttpStatusErrorOptions {
  status: number;
  url: string;
  /** The first bytes of the response body, as text. */
  bodyExcerpt?: string;
  /** The server's `Retry-After`, in ms from when the response arrived. */
  retryAfterMs?: number | undefined;
}

/** A response whose status is not 2xx. */
export class HttpStatusError extends Error {
  override name = "HttpStatusError";
  readonly status: number;
  readonly url: string;
  readonly bodyExcerpt: string;
  readonly retryAfterMs: number | undefined;

  constructor(options: HttpStatusErrorOptions) {
    const { status, url, bodyExcerpt = "", retryAfterMs } = options;
    const excerpt = bodyExcerpt ? `: ${JSON.stringify(bodyExcerpt)}` : "";
    const after = retryAfterMs === undefined ? "" : ` (Retry-After ${formatSeconds(retryAfterMs)})`;
    super(`GET ${url} answered HTTP ${status}${after}${excerpt}`);
    this.status = status;
    this.url = url;
    this.bodyExcerpt = bodyExcerpt;
    this.retryAfterMs = retryAfterMs;
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/**
 * A transfer that failed on the wire: a refused, reset or closed connection. Extends
 * `TypeError`, as fetch's network errors do. Worth another attempt; bytes already written are
 * still good.
 */
export class NetworkError extends TypeError {
  override name = "NetworkError";
}

/** A server that does not speak HTTP/1.1 as it must: a malformed head or framing. */
export class ProtocolError extends NetworkError {
  override name = "ProtocolError";
}

/** Downloaded bytes that are not what was promised: a checksum mismatch. Not resumable. */
export class IntegrityError extends Error {
  override name = "IntegrityError";
}

/** A body that ended before its declared length (a reset or closed connection). Resumable. */
export class IncompleteBodyError extends Error {
  override name = "IncompleteBodyError";
}

/** A transfer that received (almost) nothing for `idle_timeout`: a stall or a slow drip. */
export class IdleTimeoutError extends Error {
  override name = "IdleTimeoutError";
}

/** A body larger than `max_bytes` allows. Retrying cannot help. */
export class TooLargeError extends RangeError {
  override name = "TooLargeError";
}

/** Too many redirects, a loop, or a redirect to something that is not http(s). */
export class RedirectError extends Error {
  override name = "RedirectError";
}

/**
 * Something a job reached for that the run's permissions do not grant (they come from the job
 * file: see lib/sandbox/grants.ts), such as a redirect to a host the file does not name.
 */
export class OutsideGrantsError extends Error {
  override name = "OutsideGrantsError";
}

/** Options for {@linkcode CommandFailedError}. */
export interface CommandFailedErrorOptions {
  exitCode: number;
  signal: string | null;
  /** The last lines the command wrote to stderr. */
  stderrTail: string;
}

/** A command job that exited non-zero or was killed by a signal. */
export class CommandFailedError extends Error {
  override name = "CommandFailedError";
  readonly exitCode: number;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(argv0: string, options: CommandFailedErrorOptions) {
    const { exitCode, signal, stderrTail } = options;
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const tail = stderrTail ? `: ${stderrTail.trim().split("\n").slice(-3).join(" | ")}` : "";
    super(`${argv0} ${how}${tail}`);
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

/** A compute job's function threw, or its worker died under it. */
export class ComputeError extends Error {
  override name = "ComputeError";
  /** The stack as the worker saw it (module path and line). */
  readonly workerStack: string | undefined;

  constructor(message: string, options: { workerStack?: string | undefined; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.workerStack = options.workerStack;
  }
}

/** A job succeeded but a file it declared in `outputs` is not there. */
export class MissingOutputError extends Error {
  override name = "MissingOutputError";
}

/** A run stopped by fail-fast: the reason given to the signals of jobs still running. */
export class FailFastError extends Error {
  override name = "FailFastError";
}

/** A run stopped by SIGINT or SIGTERM. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  readonly signal: "SIGINT" | "SIGTERM";

  constructor(signal: "SIGINT" | "SIGTERM") {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

/**
 * Another run holds the output folder's lock (exit code 75, EX_TEMPFAIL: try again later).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LockedError } from "./errors.ts";
 * const owner = { pid: 7, host: "box", since: "2026-11-22T03:00:00.000Z", command: "taskpool run a.yaml" };
 * assert(new LockedError("/out", owner, 0).message.includes("pid 7 on box"));
 * ```
 */
export class LockedError extends Error {
  override name = "LockedError";
  readonly output: string;
  readonly owner: LockOwner | undefined;

  constructor(output: string, owner: LockedError["owner"], waitedMs: number) {
    const who = owner
      ? `pid ${owner.pid} on ${owner.host} (${owner.command}), since ${owner.since}`
      : "another run";
    const waited = waitedMs > 0 ? ` after waiting ${(waitedMs / 1000).toFixed(1)}s` : "";
    const advice = waitedMs > 0 ? "" : "; --wait-lock [SECONDS] waits for it";
    super(`${output} is in use by ${who}${waited}${advice}`);
    this.output = output;
    this.owner = owner;
  }
}

/**
 * A short machine-readable code for an error, used in the report's `error.code`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorCode, HttpStatusError } from "./errors.ts";
 * assert(errorCode(new HttpStatusError({ status: 404, url: "http://x/" })) === "HTTP_404");
 * ```
 */
export function errorCode(error: unknown): string {
  if (error instanceof HttpStatusError) return `HTTP_${error.status}`;
  if (error instanceof IntegrityError) return "INTEGRITY";
  if (error instanceof IncompleteBodyError) return "INCOMPLETE";
  if (error instanceof IdleTimeoutError) return "IDLE_TIMEOUT";
  if (error instanceof TooLargeError) return "TOO_LARGE";
  if (error instanceof RedirectError) return "REDIRECT";
  if (error instanceof OutsideGrantsError) return "PERMISSION";
  if (error instanceof CommandFailedError) return error.signal ? "KILLED" : "EXIT_CODE";
  if (error instanceof ComputeError) return "COMPUTE";
  if (error instanceof FailFastError) return "FAIL_FAST";
  if (error instanceof MissingOutputError) return "MISSING_OUTPUT";
  if (error instanceof InterruptedError) return "INTERRUPTED";
  if (error instanceof ProtocolError) return "PROTOCOL";
  if (error instanceof Error || error instanceof DOMException) {
    if (error.name === "TimeoutError") return "TIMEOUT";
    if (error.name === "AbortError") return "ABORTED";
    if (error.name === "NotCapable" || error.name === "PermissionDenied") return "PERMISSION";
    if (error instanceof TypeError) return "NETWORK";
    if ("code" in error && typeof error.code === "string") return error.code;
    return error.name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }
  return "UNKNOWN";
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error || error instanceof DOMException) return error.message;
  return String(error);
}
