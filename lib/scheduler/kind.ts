/**
 * What the scheduler runs: the small runtime shape every job kind has, so the scheduler can run
 * any of them without knowing HTTP, Workers or processes. The rest of a kind (its part of the job
 * file, its grants, its report fields) is its {@linkcode ../kind_definition.ts | KindDefinition}.
 *
 * @module
 */
import type { Job } from "../jobfile/job.ts";

/** The pools a job can need: async I/O, or a CPU slot (a Worker or a subprocess). */
export type PoolName = "io" | "cpu";

/** What a task gets for one attempt. */
export interface TaskContext {
  /** Aborted on timeout, fail-fast or interrupt; pass it to everything that waits. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
  /** Reports bytes received so far (downloads), for the progress display. */
  progress?: (bytes: number) => void;
  /**
   * How each job this one needs ended in this run, by name (all succeeded, or it would not
   * run). Absent when the kind is called outside the scheduler.
   */
  needs?: ReadonlyMap<string, "ok" | "cached">;
  /**
   * Says the attempt really begins now. Only kinds with {@linkcode JobKind.queueAhead} call it
   * (when the job leaves the queue where it runs); the attempt's start time, slot and `timeout`
   * count from then. For other kinds the scheduler has called it already; calling it again does
   * nothing. Absent when the kind is called outside the scheduler.
   */
  started?: () => void;
}

/**
 * What a successful attempt returns: plain data for the report. Each kind's result extends this
 * with its own fields (a download's size and digest, a compute job's value, a command's exit
 * code); what every kind may say is here.
 */
export interface TaskResult {
  /**
   * Nothing needed doing: the file on disk is current (`checksum`, `not-modified`), or the job
   * and its inputs are unchanged since it last succeeded and its outputs exist (`unchanged`).
   * The job is `cached`.
   */
  cached?: "checksum" | "not-modified" | "unchanged";
  /** Bytes received over the network by the successful attempt, for progress and totals. */
  bytes?: number;
  /** Where it ran, when that was not this process (a distributed run's worker). */
  ranOn?: string;
}

/**
 * Admission by key on top of a pool's limit, such as a per-host connection limit: a queued job
 * starts only when its pool has a free slot and its gate lets its key in.
 */
export interface Gate<J extends Job = Job> {
  /** The key a job is admitted under, such as its URL's host. */
  keyOf(job: J): string;
  /** Takes a slot for `key` if one is free now; false leaves the job queued. */
  tryEnter(key: string): boolean;
  /** Gives back the slot taken by `tryEnter`. */
  leave(key: string): void;
  /** Calls `listener` whenever a key that was closed may open (a pause ended). */
  onOpen(listener: () => void): void;
}

/**
 * Lets a kind take jobs before a slot of its pool is free and queue them where they run (the
 * Worker host processes), so that a slot never idles for a round trip between two tiny jobs.
 * The kind must start no more of them at once than the pool's limit, and call
 * `context.started()` as each begins.
 */
export interface QueueAhead<J extends Job = Job> {
  /** Jobs that may be taken ahead, per slot of the pool. */
  perSlot: number;
  /**
   * Jobs with the same key may queue together (they run on the same pool with the same
   * rights); undefined when this job may not be taken ahead.
   */
  keyOf(job: J): string | undefined;
}

/** One job kind at run time: which pool it needs and how to run one attempt. */
export interface JobKind<J extends Job = Job, R extends TaskResult = TaskResult> {
  pool: PoolName;
  /** Extra admission within the pool (per-host limits). @default none */
  gate?: Gate<J>;
  /** Jobs taken ahead of a free slot. @default none: a job is taken when a slot is free */
  queueAhead?: QueueAhead<J>;
  /**
   * Told once, as the run begins, of this kind's jobs that can start at once (they need no
   * other job), so that it can start what they run on (Worker threads, a host process) while
   * the run is still being set up. A hint: `run` must not depend on it. @default nothing
   */
  prepare?(ready: readonly J[]): void;
  /** Runs one attempt; honours `context.signal` and lets its reason propagate. */
  run(job: J, context: TaskContext): Promise<R>;
  /** Whether a failed attempt is worth another (when retries are left). @default always */
  isRetryable?(error: unknown): boolean;
  /** The least delay before retrying after `error` (a server's Retry-After), in ms. */
  retryDelayMs?(error: unknown, job: J): number | undefined;
  /** Persists what the kind learnt during the run (validators) and frees its resources. */
  close?(): Promise<void>;
}

/** The run-time kinds of a run, by kind name. */
export type KindRegistry = ReadonlyMap<string, JobKind>;
