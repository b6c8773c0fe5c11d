/**
 * The typed events a run emits as jobs change state. The progress display and the report
 * builder consume them; nothing else couples to the scheduler.
 *
 * @module
 */
import type { Job } from "../jobfile/job.ts";
import type { PoolName, TaskResult } from "./kind.ts";

/** Final states of a job. */
export type JobStatus = "ok" | "cached" | "failed" | "skipped" | "cancelled";

/** Statuses that count as success: dependents may start. */
export function succeeded(status: JobStatus): boolean {
  return status === "ok" || status === "cached";
}

/** One attempt of a job. */
export interface AttemptRecord {
  /** ms since the run started. */
  startMs: number;
  endMs: number;
  /** The pool slot it ran on, such as `io-3` or `cpu-1`. */
  lane: string;
  /** Why it failed; absent for the successful attempt. */
  error?: unknown;
  /** The wait before the next attempt, in ms, when there was one. */
  retryDelayMs?: number;
}

/** How a job ended. */
export interface JobOutcome {
  status: JobStatus;
  attempts: AttemptRecord[];
  /** When it became ready (all needs ok), ms since run start; undefined if it never did. */
  readyMs: number | undefined;
  /** Start of the first attempt. */
  startMs: number | undefined;
  endMs: number;
  result: TaskResult | undefined;
  /** Why it failed, was skipped or was cancelled. */
  error?: unknown;
}

/** Everything a run reports while it goes. Times are ms since the run started. */
export type RunEvent =
  | {
    type: "run-started";
    at: number;
    jobs: readonly Job[];
    limits: Record<PoolName, number>;
    /** The pool each kind of job runs on (the mode decides), by kind name. */
    pools: Record<string, PoolName>;
    /** The kinds whose jobs move files: progress counts them as files, with bytes. */
    transfers: readonly string[];
  }
  | { type: "job-queued"; at: number; job: Job; pool: PoolName }
  | { type: "job-started"; at: number; job: Job; attempt: number; lane: string }
  | {
    type: "job-retrying";
    at: number;
    job: Job;
    attempt: number;
    error: unknown;
    delayMs: number;
  }
  | { type: "job-progress"; at: number; job: Job; bytes: number }
  | {
    type: "job-finished";
    at: number;
    job: Job;
    /** The job's place in the run's jobs (those of `run-started`). */
    index: number;
    outcome: JobOutcome;
  }
  | { type: "run-finished"; at: number };

/** A consumer of run events. */
export type RunEventListener = (event: RunEvent) => void;
