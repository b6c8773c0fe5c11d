/**
 * A download job as the plan holds it, and what one returns.
 *
 * @module
 */
import type { Job } from "../../lib/jobfile/job.ts";
import type { TaskResult } from "../../lib/scheduler/kind.ts";

/** Fetch one URL into a file under the output folder. */
export interface DownloadJob extends Job {
  kind: "download";
  url: string;
  /** More URLs of the same file, tried in order after `url` fails (`mirrors:`). */
  mirrors?: string[];
  /**
   * The checksum file to take the expected digest from at run time: an http(s) URL, fetched
   * once per run. (A local checksum file is read when the plan is made, into `sha256` or
   * `sha512`.)
   */
  checksumsUrl?: string;
  /** The name the checksum file is searched for (the target's, then the URL's file name). */
  checksumNames?: string[];
  /** Why the job cannot be verified, found when the plan was made: it fails with this. */
  unverifiable?: string;
  /** Ranges fetched at once over as many connections (`segments:`); 1 for one stream. */
  segments?: number;
  /**
   * Whether the server's `Content-Disposition` file name may replace the one taken from the
   * URL: true when the job file gave no file name (`to:` absent or a folder).
   */
  nameFromServer?: boolean;
  /** Absolute target path (inside the output folder). */
  path: string;
  /** The target relative to the output folder, as reported. */
  relativePath: string;
  /** Expected lowercase hex SHA-256, if the job file gave one. */
  sha256: string | undefined;
  /** Expected lowercase hex SHA-512, if the job file gave one. */
  sha512: string | undefined;
  /** Request headers, `${VAR}` already filled in. May hold secrets: show them redacted. */
  headers: Record<string, string>;
  /**
   * Names (lower case) of the headers whose values came from the environment (`${VAR}`): as
   * secret as an Authorization header, whatever their name.
   */
  secretHeaders: string[];
  /** The most bytes the file may have. */
  maxBytes: number;
  /** Fail when less than 1 KiB arrives in this long, in ms; 0 for never. */
  idleTimeoutMs: number;
  /** The longest wait a Retry-After may impose before the next attempt, in ms. */
  maxWaitMs: number;
  /** Hash the file (SHA-256 into the report and state) even with no checksum to verify. */
  recordSha256: boolean;
  /** Give the file its server's Last-Modified time (`remote_time:`, curl's `-R`). */
  remoteTime?: true;
}

/** What a successful download returns. */
export interface DownloadResult extends TaskResult {
  /** Size of the file on disk. */
  size?: number;
  /** Path written, relative to the output folder. */
  path?: string;
  /** Hex SHA-256 of what was written. */
  sha256?: string;
  /** Redirects followed, in order. */
  redirects?: string[];
  /** Bytes already on disk that this attempt resumed from. */
  resumedFrom?: number;
  /** The source that served the file, when the job has mirrors. */
  servedBy?: string;
  /** The sources that failed before it, in this attempt, with why. */
  failedSources?: { url: string; error: string }[];
  /** Ranges the file came in, when it was split (`segments:`). */
  segments?: number;
}
