/**
 * taskpool's exit codes, the contract with shell scripts and cron (see the README's table).
 *
 * @module
 */

/**
 * What each exit code means.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT } from "./exit_codes.ts";
 * assert(EXIT.locked === 75);
 * ```
 */
export const EXIT = {
  /** Every job succeeded or was cached. */
  ok: 0,
  /** A job failed, was skipped or was cancelled. */
  jobsFailed: 1,
  /** Bad usage or an invalid job file: nothing ran. */
  usage: 2,
  /**
   * A file the run keeps could not be written (the report, the downloads' state, the job cache):
   * a full disk, a lost permission (EX_IOERR). The summary names it.
   */
  notSaved: 74,
  /** Another run holds the output folder (EX_TEMPFAIL). */
  locked: 75,
  sigint: 130,
  sigterm: 143,
} as const;
