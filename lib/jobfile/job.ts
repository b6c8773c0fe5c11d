/**
 * The expanded jobs the scheduler runs: one entry per unit of work, with every path absolute,
 * every default applied and every fan-out unrolled. Produced by `jobfile/expand.ts`, with each
 * kind's own fields added by its expansion.
 *
 * @module
 */
import type { SourcePosition } from "./errors.ts";

/**
 * One expanded job, whatever its kind: what the scheduler, the report and the run need of it. A
 * kind's own job type (in its folder under `tasks/`) extends this with its fields.
 */
export interface Job {
  /** The kind's name: the key that made the job-file entry this kind (`download`, `run`, ...). */
  kind: string;
  /** Unique name; fan-out members are `<group>/<member>`. */
  name: string;
  /** The job-file entry this came from. */
  group: string;
  /** Names of the expanded jobs that must succeed first. */
  needs: string[];
  /** Extra attempts after a failed one. */
  retries: number;
  /** Time limit of one attempt, in ms; undefined for none. */
  timeoutMs: number | undefined;
  /** Base back-off before a retry, in ms. */
  backoffMs: number;
  /** Where the job-file entry stands, for messages. */
  source: SourcePosition | undefined;
  /** What makes it incremental (compute and run jobs that declare `inputs` or `outputs`). */
  cache?: JobCacheSpec;
}

/** A job's declared files: it is `cached` while they and its definition are unchanged. */
export interface JobCacheSpec {
  /** Absolute globs of what it reads. */
  inputs: string[];
  /** Absolute paths of what it writes (under the output folder). */
  outputs: string[];
}

/** Pool limits of a run. */
export interface Concurrency {
  /** Downloads in flight. */
  io: number;
  /** Compute and run jobs at once. */
  cpu: number;
  /** Downloads in flight to one host. */
  perHost: number;
  /** Bytes a second all downloads together may receive; undefined for no limit. */
  bandwidth?: number | undefined;
  /** Bytes a second the downloads from one host may receive; undefined for no limit. */
  perHostBandwidth?: number | undefined;
  /** The least time between the starts of two requests to one host, in ms. */
  perHostIntervalMs?: number | undefined;
}

/** Everything a run needs: the expanded jobs and where results go. */
export interface Plan {
  /** The job file as the user named it. */
  file: string;
  /** Absolute output folder. */
  output: string;
  /** Absolute report path (`{date}` and `{time}` filled in). */
  report: string;
  /** The report path as given, when it has `{date}` or `{time}`: what `--keep-reports` prunes. */
  reportPattern?: string | undefined;
  concurrency: Concurrency;
  jobs: Job[];
  /** Absolute paths of the files read to build it: the job file (not stdin), URL lists. */
  sources: string[];
  /** Rights the run itself needs beyond what its jobs imply (the job file's `permissions:`). */
  permissions: RunPermissions;
  /** TLS settings of the run's downloads. */
  tls?: RunTls | undefined;
  /** The static shard this plan is (`--shard K/N`), as `K/N`. */
  shard?: string | undefined;
}

/** TLS settings of a run: `tls:` in the job file, and `DENO_CERT`. */
export interface RunTls {
  /** Certificate authorities to trust besides the system's, as PEM text. */
  caCerts: string[];
}

/** Extra rights of a whole run, declared in the job file (`permissions:` at the top). */
export interface RunPermissions {
  /** More hosts downloads may reach (redirect targets), or true for any. */
  net: boolean | string[];
}
