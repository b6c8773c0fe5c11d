/**
 * A compute job as the plan holds it, what one returns, and the context its function gets.
 *
 * @module
 */
import type { Job } from "../../lib/jobfile/job.ts";
import type { TaskResult } from "../../lib/scheduler/kind.ts";

/** Call an exported function of a module on a Worker. */
export interface ComputeJob extends Job {
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

/** What a successful compute job returns. */
export interface ComputeResult extends TaskResult {
  /** The returned value (or what was written to `to`). */
  result?: unknown;
  /** Where it ran. */
  isolation?: "worker" | "process" | "thread" | "main";
  /** The Worker that ran it. */
  worker?: number;
  /** The host process that ran it. */
  pid?: number;
}

/** A context passed as the last argument to compute functions: `fn(...args, context)`. */
export interface ComputeContext {
  /** Absolute path of the run's output folder. */
  output: string;
  /** The job's name. */
  job: string;
}
