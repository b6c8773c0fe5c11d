/**
 * What coordinators and workers say to each other through Redis: one BullMQ job per attempt of
 * a plan job, and its outcome as the job's return value. Everything in it is plain JSON, and
 * nothing in it is secret: `${VAR}` in the job file travels unexpanded and is expanded by the
 * worker from its own environment.
 *
 * @module
 */
import type { Job } from "../jobfile/job.ts";
import type { TaskResult } from "../scheduler/kind.ts";

/** One attempt of a plan job, as queued. */
export interface RemoteJobData {
  /** The run it belongs to. */
  run: string;
  /** The plan job: its paths as on the coordinator, its `${VAR}` unexpanded. */
  job: Job;
  /** 1 for the first attempt. */
  attempt: number;
  /** How the jobs it needs ended. */
  needs: [string, "ok" | "cached"][];
  /** Where the coordinator's job file folder and output are: workers map them onto theirs. */
  origin: { baseDir: string; output: string };
  /** SHA-256 of each file that defines the job (its module), by path relative to `baseDir`. */
  digests: Record<string, string>;
}

/** An error as a worker reports it. */
export interface RemoteError {
  message: string;
  code: string;
  /** Whether another attempt may succeed, as the job's kind judges on the worker. */
  retryable: boolean;
  /** The least delay before the next attempt (a server's Retry-After), in ms. */
  retryDelayMs?: number;
  /** A Worker's stack or a command's stderr tail. */
  detail?: string;
}

/** What a worker returns for an attempt. */
export interface RemoteOutcome {
  /** The worker that ran it: `NAME@HOST:PID`. */
  worker: string;
  result?: TaskResult;
  error?: RemoteError;
  /**
   * The attempt was stopped, not finished: its coordinator cancelled it (a timeout,
   * `--fail-fast`, an interrupt). A coordinator that did not cancel it (one that picked the run
   * up) queues it again.
   */
  cancelled?: true;
}

/** The BullMQ job id of an attempt: the same on every coordinator that runs the run again. */
export function remoteJobId(run: string, name: string, attempt: number): string {
  return `${run}|${name}|${attempt}`;
}

/** An attempt that failed on a worker, for the coordinator's scheduler and report. */
export class RemoteJobError extends Error {
  override readonly name = "RemoteJobError";
  readonly code: string;
  readonly retryable: boolean;
  readonly retryDelayMs: number | undefined;
  readonly worker: string;
  /** Shown as the report's `detail` (the name the report reads it by). */
  readonly stderrTail: string | undefined;

  constructor(error: RemoteError, worker: string) {
    super(error.message);
    this.code = error.code;
    this.retryable = error.retryable;
    this.retryDelayMs = error.retryDelayMs;
    this.worker = worker;
    this.stderrTail = error.detail;
  }
}
