/**
 * The JSON report's shape: the public contract that `report.json`, `taskpool report`, the HTML
 * timeline and the trace read.
 *
 * @module
 */
import type { Concurrency } from "../jobfile/job.ts";
import type { Mode, ResolvedMode } from "../run/modes.ts";
import type { JobStatus } from "../scheduler/events.ts";

/**
 * The report format version; bumped only on an incompatible change. Version 2 leaves a job's
 * `attemptLog` out of report.json when it says nothing the entry does not (see
 * {@linkcode ReportJobBase.attemptLog}); `readReport` reads both.
 */
export const REPORT_VERSION = 2;

/** A failure as the report states it. */
export interface ReportError {
  message: string;
  /** Stable code: `HTTP_503`, `TIMEOUT`, `EXIT_CODE`, `COMPUTE`, `SKIPPED`, ... */
  code: string;
  /** The Worker's stack (compute) or the last lines of stderr (run). */
  detail?: string;
}

/** One attempt as the report states it. */
export interface ReportAttempt {
  lane: string;
  startMs: number;
  endMs: number;
  error?: ReportError;
  /** The wait before the next attempt (back-off or the server's Retry-After). */
  retryDelayMs?: number;
}

/** What the report says of every job, whatever its kind. */
export interface ReportJobBase {
  name: string;
  /** The job-file entry it came from (differs from name for fan-out members). */
  group: string;
  /** Its kind's name: `download`, `compute`, `run`, or another registered kind's. */
  kind: string;
  status: JobStatus;
  attempts: number;
  /** Waiting for a slot after becoming ready; null if it never became ready. */
  queuedMs: number | null;
  /** Since run start; null if it never started. */
  startMs: number | null;
  endMs: number;
  durationMs: number;
  /** The pool slot of the last attempt, such as `io-3`. */
  lane: string | null;
  /**
   * Each attempt, in order. Left out of report.json (version 2) when it says nothing the entry
   * does not: no attempt (`[]`), or one that did not fail, on the entry's `lane`, from its
   * `startMs` to its `endMs`. Reports read back with `readReport` always have it.
   */
  attemptLog: ReportAttempt[];
  error?: ReportError;
  /** Cancelled because the run was interrupted (SIGINT, SIGTERM): a rerun should do it. */
  interrupted?: true;
  /**
   * Where it ran, when not in this run's process: the worker of a distributed run
   * (`NAME@HOST:PID`), or the run of a merged report it came from (see `Report.merged`).
   */
  ranOn?: string;
}

/**
 * The fields a kind adds to its jobs' entries (see each kind's `report`): those of the three
 * built-in kinds are listed, so readers of the report can use them typed; a kind may add others.
 */
export interface ReportKindFields {
  // download
  /** The URL, with any password hidden. */
  url?: string;
  path?: string;
  /** Bytes received over the network (0 when cached; the rest when resumed). */
  bytes?: number;
  /** Size of the file on disk. */
  size?: number;
  sha256?: string;
  /**
   * Why nothing was done: the checksum matched, the server said 304 (downloads), or the job,
   * its inputs and its outputs are as they were at its last success (`unchanged`).
   */
  cached?: "checksum" | "not-modified" | "unchanged";
  /** Bytes kept from an earlier attempt that the final one resumed from. */
  resumedFrom?: number;
  /** Redirects followed, in order. */
  redirects?: string[];
  /** The source that served the file, when the job has mirrors. */
  servedBy?: string;
  /** The sources that failed before it in the final attempt, with why. */
  failedSources?: { url: string; error: string }[];
  /** How many ranges the file came in, when it was split (`segments:`). */
  segments?: number;
  /** The request headers, secret-looking values shown as ***. */
  headers?: Record<string, string>;
  // compute
  /** Where it ran: `worker`, `process`, or `main` (taskpool's main thread, in the sequential
   * and async modes). */
  isolation?: "worker" | "process" | "thread" | "main";
  /** The Worker that ran it (isolation worker). */
  worker?: number;
  /** The host process that ran it (isolation process). */
  pid?: number;
  result?: unknown;
  // run
  exitCode?: number;
  log?: string;
  [field: string]: unknown;
}

/** One expanded job in the report: the common fields and its kind's. */
export type ReportJob = ReportJobBase & ReportKindFields;

/** Counts by status. */
export interface ReportSummary {
  total: number;
  ok: number;
  /** Jobs with nothing to do: the file on disk was current. */
  cached: number;
  failed: number;
  skipped: number;
  cancelled: number;
  /** Bytes downloaded. */
  bytes: number;
}

/** The whole report. */
export interface Report {
  version: typeof REPORT_VERSION;
  file: string;
  output: string;
  startedAt: string;
  wallMs: number;
  exitCode: number;
  interrupted: boolean;
  /** The highest resident memory of the taskpool process seen during the run (sampled). */
  peakRssBytes: number;
  /**
   * The highest resident memory of taskpool with its Worker and process hosts (sampled; a host's
   * figure is the latest it sent). Commands that `run` jobs start are not counted.
   */
  peakTotalRssBytes: number;
  /** The pool limits the run used (its mode's). */
  concurrency: Concurrency;
  /** The concurrency mode: asked for, used (`auto` resolved), and why. */
  mode: ReportMode;
  /**
   * The machine: its `name` (hostname, when it may be read) and the process that ran the jobs,
   * which `taskpool merge` uses to tell machines apart.
   */
  host: {
    cores: number;
    deno: string;
    v8: string;
    os: string;
    arch: string;
    name?: string;
    pid?: number;
  };
  /** The static shard the run was (`--shard K/N`), as `K/N`. */
  shard?: string;
  /**
   * What the run could not save, each naming its file (the downloads' state, the job cache): the
   * exit code is then 74. A run whose report could not be written says so on stderr only.
   */
  unsaved?: string[];
  /** The reports a merged report was made of (`taskpool merge`), in order. */
  merged?: MergedSource[];
  summary: ReportSummary;
  jobs: ReportJob[];
}

/** One report of those `taskpool merge` combined. */
export interface MergedSource {
  /** The name its lanes and jobs carry in the merged report: its shard, else its machine. */
  label: string;
  /** The report file as given. */
  path: string;
  file: string;
  startedAt: string;
  wallMs: number;
  exitCode: number;
  shard?: string;
  host: Report["host"];
}

/** The concurrency mode of a run, as reported. */
export interface ReportMode {
  requested: Mode;
  used: ResolvedMode;
  why: string;
}
