/**
 * The one small shape every job kind has, so the scheduler can run any of them without
 * knowing HTTP, Workers or processes. A new kind is one new file and one registry line.
 *
 * @module
 */
import type { Job, JobKindName } from "../lib/job.ts";

/** The pools a job can need: async I/O, or a CPU slot (a Worker or a subprocess). */
export type PoolName = "io" | "cpu";

/** What a task gets for one attempt. */
export interface TaskContext {
  /** Aborted on timeout, fail-fast or interrupt; pass it to everything that waits. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

/** What a successful attempt returns: plain data for the report. */
export interface TaskResult {
  /** Bytes written (downloads). */
  bytes?: number;
  /** Path written, relative to the output folder (downloads). */
  path?: string;
  /** Hex SHA-256 of what was written (downloads). */
  sha256?: string;
  /** The returned value (compute). */
  result?: unknown;
  /** The Worker that ran it (compute). */
  worker?: number;
  /** The process exit code (run). */
  exitCode?: number;
  /** The process id (run). */
  pid?: number;
}

/** One job kind: which pool it needs and how to run one attempt. */
export interface JobKind<J extends Job = Job> {
  pool: PoolName;
  /** Runs one attempt; honours `context.signal` and lets its reason propagate. */
  run(job: J, context: TaskContext): Promise<TaskResult>;
  /** Whether a failed attempt is worth another (when retries are left). @default always */
  isRetryable?(error: unknown): boolean;
}

/** One kind for each job kind name. */
export type KindRegistry = { [K in JobKindName]: JobKind<Extract<Job, { kind: K }>> };

/** A context passed as the last argument to compute functions: `fn(...args, context)`. */
export interface ComputeContext {
  /** Absolute path of the run's output folder. */
  output: string;
  /** The job's name. */
  job: string;
}
