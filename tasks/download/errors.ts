/**
 * What a download can fail with beyond HTTP itself, each with the `code` the report shows.
 *
 * @module
 */
import type { CodedError } from "../../lib/errors.ts";
import { formatWait } from "../../lib/util/format.ts";

/** Downloaded bytes that are not what was promised: a checksum mismatch. Not resumable. */
export class IntegrityError extends Error implements CodedError {
  override name = "IntegrityError";
  readonly code = "INTEGRITY";
}
/** A transfer that received (almost) nothing for `idle_timeout`: a stall or a slow drip. */
export class IdleTimeoutError extends Error implements CodedError {
  override name = "IdleTimeoutError";
  readonly code = "IDLE_TIMEOUT";
}
/** A body larger than `max_bytes` allows. Retrying cannot help. */
export class TooLargeError extends RangeError implements CodedError {
  override name = "TooLargeError";
  readonly code = "TOO_LARGE";
}
/** Too many redirects, a loop, or a redirect to something that is not http(s). */
export class RedirectError extends Error implements CodedError {
  override name = "RedirectError";
  readonly code = "REDIRECT";
}
/**
 * Something a job reached for that the run's permissions do not grant (they come from the job
 * file: see lib/sandbox/grants.ts), such as a redirect to a host the file does not name.
 */
export class OutsideGrantsError extends Error implements CodedError {
  override name = "OutsideGrantsError";
  readonly code = "PERMISSION";
}

/**
 * A server that asked to be asked again later than the job's `max_wait` allows (`Retry-After`):
 * the job fails at once, with no further attempt against the server's wish; the next run (say,
 * cron's) tries again.
 */
export class RetryLaterError extends Error implements CodedError {
  override name = "RetryLaterError";
  readonly code = "RETRY_LATER";
  readonly status: number;
  readonly retryAfterMs: number;

  constructor(url: string, status: number, retryAfterMs: number, maxWaitMs: number) {
    super(
      `GET ${url} answered HTTP ${status}: server asked to retry after ` +
        `${formatWait(retryAfterMs)}, more than max_wait ${formatWait(maxWaitMs)}`,
    );
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The job cannot be verified: its checksum file does not list it, or could not be had. */
export class UnlistedError extends Error implements CodedError {
  override readonly name: string = "UnlistedError";
  readonly code: string = "CHECKSUM_UNLISTED";
}

/** The job's checksum file lists its file twice, with digests that differ: no retry helps. */
export class ChecksumConflictError extends UnlistedError {
  override readonly name = "ChecksumConflictError";
  override readonly code = "CHECKSUM_CONFLICT";
}

/** A file stands where a download's folder must be: no retry helps. */
export class NotAFolderError extends RangeError implements CodedError {
  override readonly name = "NotAFolderError";
  readonly code = "NOT_A_FOLDER";
}

/** A folder stands where a download's file must go: no retry helps. */
export class FolderInTheWayError extends RangeError implements CodedError {
  override readonly name = "FolderInTheWayError";
  readonly code = "FOLDER_IN_THE_WAY";
}

/** The server's file name (`Content-Disposition`) is one another job of the run wrote. */
export class NameClashError extends Error implements CodedError {
  override readonly name = "NameClashError";
  readonly code = "NAME_CLASH";
}
