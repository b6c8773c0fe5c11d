/**
 * Compute jobs: call an exported function of a module with the job's least privileges, on a
 * Worker thread (`isolation: worker`) or in a persistent host process (`isolation: process`);
 * its JSON value goes into the report.
 *
 * @module
 */
import type { ComputeJob } from "../lib/job.ts";
import type { ProcessPool } from "../lib/pools/process_pool.ts";
import type { WorkerPool } from "../lib/pools/worker_pool.ts";
import { hostProfile, workerProfile } from "./privileges.ts";
import type { ComputeContext, JobKind } from "./types.ts";

/** Options for {@linkcode createComputeKind}. */
export interface ComputeKindOptions {
  /** The Workers to run on. */
  workers: WorkerPool;
  /** The host processes to run on. */
  processes: ProcessPool;
  /** Absolute output folder, handed to the function in its context. */
  output: string;
}

/** The compute kind, bound to its pools. */
export function createComputeKind(options: ComputeKindOptions): JobKind<ComputeJob> {
  const { workers, processes, output } = options;
  return {
    pool: "cpu",
    async run(job, { signal }) {
      const context: ComputeContext = { output, job: job.name };
      const task = {
        moduleUrl: job.moduleUrl,
        exportName: job.exportName,
        args: job.args,
        context,
      };
      if (job.isolation === "process") {
        const { value, pid } = await processes.run(task, {
          profile: hostProfile(job, output),
          signal,
        });
        return { result: value, pid };
      }
      const { value, workerId } = await workers.run(task, {
        profile: workerProfile(job, output),
        signal,
      });
      return { result: value, worker: workerId };
    },
  };
}
