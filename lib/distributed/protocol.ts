/**
 * What coordinators and workers say to each other through Redis. Everything in it is plain JSON,
 * and nothing in it is secret: `${VAR}` in the job file travels unexpanded and is expanded by the
 * worker from its own environment.
 *
 * - A coordinator pushes each attempt of a plan job onto its pool's intake list
 *   ({@linkcode intakeKey}), an {@linkcode IntakeEntry} as JSON. It needs no more than plain
 *   Redis commands for that, so it loads no queue library.
 * - Workers move the entries into BullMQ's queue of that pool, one job each, its id the attempt's
 *   ({@linkcode remoteJobId}): BullMQ takes an id it already has as the same job, so an entry sent
 *   twice runs once. BullMQ's leases then give a job whose worker died to another.
 * - A worker keeps the outcome under {@linkcode outcomeKey}, returns it as the BullMQ job's
 *   return value (BullMQ then drops the job) and announces it on {@linkcode DONE_CHANNEL}; the
 *   coordinator reads the outcome, else the job's hash ({@linkcode jobKey}), for what it did not
 *   hear.
 * - A coordinator cancels an attempt with a mark ({@linkcode cancelKey}) that a worker reads
 *   before it starts the job, and a message on {@linkcode CANCEL_CHANNEL} for a worker running it.
 *
 * @module
 */
import type { Job } from "../jobfile/job.ts";
import type { TaskResult } from "../scheduler/kind.ts";

/** The key prefix of everything taskpool keeps in Redis (BullMQ's queues included). */
export const PREFIX = "taskpool";

/** The queue of each pool: downloads on `io`, compute and commands on `cpu`. */
export const QUEUES = { io: "io", cpu: "cpu" } as const;

/** The list a coordinator pushes a pool's attempts onto, for the workers to queue. */
export function intakeKey(pool: keyof typeof QUEUES): string {
  return `${PREFIX}:intake:${pool}`;
}

/** The hash in which BullMQ keeps a job of a pool's queue (its data, state and return value). */
export function jobKey(pool: keyof typeof QUEUES, id: string): string {
  return `${PREFIX}:${QUEUES[pool]}:${id}`;
}

/** Set while an attempt is cancelled: a worker that takes it runs nothing. */
export function cancelKey(id: string): string {
  return `${PREFIX}:cancelled:${id}`;
}

/**
 * The outcome of an attempt a worker finished, as JSON. BullMQ drops the job once it completes,
 * so a finished attempt costs Redis this key (a few hundred bytes) instead of the job's hash with
 * its data (some 2 KB): a coordinator that missed the announcement, or picks the run up, reads
 * it here, and a worker that meets the attempt again (an entry pushed twice) runs nothing.
 */
export function outcomeKey(id: string): string {
  return `${PREFIX}:outcome:${id}`;
}

/** How long outcomes, cancel marks and failed jobs are kept, in seconds. */
export const KEEP_SECONDS = 7 * 86400;

/** The channel a coordinator announces cancelled jobs on (their BullMQ job ids). */
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;

/**
 * The channel workers say on which jobs they started: `WORKER\nID\nID...`, the jobs of a moment
 * in one message.
 */
export const STARTED_CHANNEL = `${PREFIX}:starting`;

/**
 * The channel workers announce each outcome on, once Redis has recorded it: `ID\nOUTCOME` (the
 * outcome as JSON). A coordinator that misses one finds the outcome by asking for the job.
 */
export const DONE_CHANNEL = `${PREFIX}:done`;

/** One attempt on an intake list. */
export interface IntakeEntry {
  /** Its BullMQ job id ({@linkcode remoteJobId}). */
  id: string;
  data: RemoteJobData;
  /**
   * Take out the job of that id first: it was cancelled by another coordinator of the run, and
   * this one, which picked the run up, wants it run.
   */
  replace?: true;
}

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
  /**
   * Only where the outcome is: under {@linkcode outcomeKey}. A large one (a compute job's big
   * result) is announced and returned to BullMQ so, and crosses Redis once each way.
   */
  stored?: true;
}

/** The JSON length from which an outcome is announced as {@linkcode RemoteOutcome.stored}. */
export const LARGE_OUTCOME = 64 * 1024;

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
