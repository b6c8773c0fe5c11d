/**
 * Compute jobs: call an exported function of a module on the Worker pool; its JSON value goes
 * into the report.
 *
 * @module
 */
import type { ComputeJob } from "../lib/job.ts";
import type { WorkerPool } from "../lib/pools/worker_pool.ts";
import type { ComputeContext, JobKind } from "./types.ts";

/** Options for {@linkcode createComputeKind}. */
export interface ComputeKindOptions {
  /** The Workers to run on. */
  workers: WorkerPool;
  /** Absolute output folder, handed to the function in its context. */
  output: string;
}

/** The compute kind, bound to a Worker pool. */
export function createComputeKind(options: ComputeKindOptions): JobKind<ComputeJob> {
  const { workers, output } = options;
  return {
    pool: "cpu",
    async run(job, { signal }) {
      const context: ComputeContext = { output, job: job.name };
      const { value, workerId } = await workers.run({
        moduleUrl: job.moduleUrl,
        exportName: job.exportName,
        args: job.args,
        context,
      }, { signal });
      return { result: value, worker: workerId };
    },
  };
}
