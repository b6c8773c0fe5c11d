/**
 * The expanded jobs the scheduler runs: one entry per unit of work, with every path absolute,
 * every default applied and every fan-out unrolled. Produced by `jobfile/expand.ts`.
 *
 * @module
 */
import type { SourcePosition } from "./errors.ts";

/** What every kind of job carries. */
export interface JobCommon {
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

/** Fetch one URL into a file under the output folder. */
export interface DownloadJob extends JobCommon {
  kind: "download";
  url: string;
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
  /** The most bytes the file may have. */
  maxBytes: number;
  /** Fail when less than 1 KiB arrives in this long, in ms; 0 for never. */
  idleTimeoutMs: number;
  /** The longest wait a Retry-After may impose before the next attempt, in ms. */
  maxWaitMs: number;
  /** Hash the file (SHA-256 into the report and state) even with no checksum to verify. */
  recordSha256: boolean;
}

/** Call an exported function of a module on a Worker. */
export interface ComputeJob extends JobCommon {
  kind: "compute";
  /** The module's URL (file: or a built-in's). */
  moduleUrl: string;
  /** As written in the job file, for messages. */
  module: string;
  exportName: string;
  args: unknown[];
  /**
   * Where it runs: a Worker thread in a host process, a persistent deno host process, or a
   * Worker thread in taskpool's own process.
   */
  isolation: "worker" | "process" | "thread";
  /** Heap cap of the host process, in MiB (process isolation). */
  memoryMb: number | undefined;
  /** Rights beyond reading the module's folder and writing the output; paths absolute. */
  permissions: ComputePermissions;
  /** Where a binary (Uint8Array) result is written: absolute, under the output folder. */
  to?: string;
}

/** What a compute job may do besides reading its module's folder and writing the output. */
export interface ComputePermissions {
  read: string[];
  write: string[];
  /** true for any host, or the hosts (host[:port]) it may reach; false for none. */
  net: boolean | string[];
  /** true for every variable, or the names it may read; false for none. */
  env: boolean | string[];
}

/** Run a program without a shell. */
export interface RunJob extends JobCommon {
  kind: "run";
  argv: [string, ...string[]];
  cwd: string;
  /** Variables added to taskpool's environment, or the whole environment with `clearEnv`. */
  env: Record<string, string>;
  /** Start from an empty environment: the command sees `env` and TASKPOOL_* only. */
  clearEnv: boolean;
  /** Absolute path of the job's stdout+stderr log. */
  logPath: string;
  /** Time between SIGTERM and SIGKILL for its process group; the run's default if unset. */
  killGraceMs?: number;
}

/** Any job. */
export type Job = DownloadJob | ComputeJob | RunJob;

/** The kinds of job. */
export type JobKindName = Job["kind"];

/** Pool limits of a run. */
export interface Concurrency {
  /** Downloads in flight. */
  io: number;
  /** Compute and run jobs at once. */
  cpu: number;
  /** Downloads in flight to one host. */
  perHost: number;
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
}

/** Extra rights of a whole run, declared in the job file (`permissions:` at the top). */
export interface RunPermissions {
  /** More hosts downloads may reach (redirect targets), or true for any. */
  net: boolean | string[];
}
