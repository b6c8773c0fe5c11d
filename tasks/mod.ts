/**
 * The registry of job kinds: one line per kind.
 *
 * @module
 */
import type { HttpTransport } from "../lib/http/transport.ts";
import type { ProcessPool } from "../lib/pools/process/process_pool.ts";
import type { WorkerPool } from "../lib/pools/worker/worker_pool.ts";
import { createCommandKind } from "./command/mod.ts";
import { createComputeKind } from "./compute/mod.ts";
import { createDownloadKind } from "./download/mod.ts";
import type { DownloadState } from "./download/state.ts";
import type { ComputePlace } from "../lib/run/modes.ts";
import type { KindRegistry } from "../lib/scheduler/kind.ts";
import { withJobCache } from "../lib/incremental/cached_kind.ts";
import type { JobCache } from "../lib/incremental/job_cache.ts";
import type { JobStatus } from "../lib/scheduler/events.ts";

/** Options for {@linkcode createKinds}. */
export interface CreateKindsOptions {
  /** Absolute output folder. */
  output: string;
  /** The Workers compute jobs run on. */
  workers: WorkerPool;
  /** The host processes compute jobs with `isolation: process` run in. */
  processes: ProcessPool;
  /** Shared HTTP transport for downloads. */
  http?: HttpTransport;
  /** Time between SIGTERM and SIGKILL for run jobs. */
  killGraceMs?: number;
  /** What downloads remember between runs. */
  downloadState?: DownloadState;
  /** Downloads in flight to one host. */
  perHost?: number;
  /** Download again whatever is on disk. */
  force?: boolean;
  /** Where compute jobs run (a mode's choice). @default "job": each on its own isolation */
  computePlace?: ComputePlace;
  /** Downloads take the cpu pool's slots too: one job at a time overall (sequential mode). */
  oneAtATime?: boolean;
  /** What incremental compute and run jobs remember; without it they always run. */
  jobCache?: JobCache;
  /** The status of a job that finished in this run (for the job cache). */
  statusOf?: (name: string) => JobStatus | undefined;
}

/** Every job kind, bound to this run's resources. */
export function createKinds(options: CreateKindsOptions): KindRegistry {
  const { output, workers, processes, http, killGraceMs, downloadState, perHost, force } = options;
  const download = createDownloadKind({
    output,
    ...(http ? { http } : {}),
    ...(downloadState ? { state: downloadState } : {}),
    ...(perHost !== undefined ? { perHost } : {}),
    ...(force !== undefined ? { force } : {}),
  });
  const compute = createComputeKind({
    workers,
    processes,
    output,
    ...(options.computePlace ? { place: options.computePlace } : {}),
  });
  const run = createCommandKind({ output, ...(killGraceMs !== undefined ? { killGraceMs } : {}) });
  const { jobCache, statusOf = () => undefined } = options;
  const cached = jobCache ? { cache: jobCache, statusOf, force: force ?? false } : undefined;
  return {
    download: options.oneAtATime ? { ...download, pool: "cpu" } : download,
    compute: cached ? withJobCache(compute, cached) : compute,
    run: cached ? withJobCache(run, cached) : run,
  };
}
