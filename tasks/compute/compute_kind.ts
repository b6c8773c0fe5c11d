/**
 * Compute jobs: call an exported function of a module with the job's least privileges, on a
 * Worker thread in a host process (`isolation: worker`) or in taskpool's own process
 * (`isolation: thread`), or in a persistent host process (`isolation: process`), or, in the
 * `sequential` and `async` modes, on taskpool's main thread; its JSON value goes
 * into the report, or, for bytes (a Uint8Array), the file `to` they are written to.
 *
 * @module
 */
import { relative } from "../../lib/util/posix_path.ts";
import { sha256Hex } from "../../lib/util/bytes.ts";
import { setImmediate } from "node:timers";
import { ComputeError } from "../../lib/pools/compute_error.ts";
import type { ComputeJob, ComputeResult } from "./job.ts";
import { landsInside } from "../../lib/util/paths.ts";
import { writeFileAtomic } from "../../lib/util/write_atomic.ts";
import type { HostProfile, ProcessPool } from "../../lib/pools/process/process_pool.ts";
import {
  hostKeyOf,
  type WorkerPool,
  type WorkerProfile,
} from "../../lib/pools/worker/worker_pool.ts";
import { hostProfile, threadProfile, withPermissionHint, workerProfile } from "./privileges.ts";
import type { RunResources } from "../../lib/kind_definition.ts";
import { callTask } from "../../lib/pools/call_task.ts";
import { hideStdin } from "../../lib/pools/empty_stdin.ts";
import type { JobKind, TaskContext } from "../../lib/scheduler/kind.ts";
import type { ComputeContext } from "./job.ts";

/** Options for {@linkcode createComputeKind}. */
export interface ComputeKindOptions {
  /** The Workers to run on. */
  workers: WorkerPool;
  /** The host processes to run on. */
  processes: ProcessPool;
  /** Absolute output folder, handed to the function in its context. */
  output: string;
  /** Where jobs run: each on its own `isolation`, or all in one place (a mode). @default "job" */
  place?: RunResources["cpuPlace"];
}

/** The compute kind, bound to its pools. */
export function createComputeKind(
  options: ComputeKindOptions,
): JobKind<ComputeJob, ComputeResult> {
  const { workers, processes, output, place = "job" } = options;
  const whereOf = (job: ComputeJob) => place === "job" ? job.isolation : place;
  // Every job of a group (a repeat or matrix fan-out) shares module, rights and memory: the
  // permission flags are worked out once per group, not once per job.
  const hostProfiles = new Map<string, HostProfile>();
  const workerProfiles = new Map<string, WorkerProfile>();
  const cached = <T>(cache: Map<string, T>, job: ComputeJob, make: () => T): T => {
    let profile = cache.get(job.group);
    if (profile === undefined) cache.set(job.group, profile = make());
    return profile;
  };
  const workerProfileOf = (job: ComputeJob) =>
    cached(
      workerProfiles,
      job,
      () => whereOf(job) === "thread" ? threadProfile(job, output) : workerProfile(job, output),
    );
  return {
    pool: "cpu",
    // Tasks for Workers queue in their host, one host (one set of rights) at a time: its threads
    // keep them within the pool's limit. Not those with a `to`: taskpool writes their bytes
    // after the thread is done, and the next task would start on that thread while the slot is
    // still held.
    ...(workers.aheadPerThread > 0
      ? {
        queueAhead: {
          perSlot: workers.aheadPerThread,
          keyOf: (job) =>
            onWorker(whereOf(job)) && job.to === undefined
              ? hostKeyOf(workerProfileOf(job))
              : undefined,
        },
      }
      : {}),
    // The Worker threads of the first jobs boot while the scheduler sets the run up: a cold
    // host takes a while before its first task starts, and threads in taskpool's own process
    // hold its thread as they are created.
    prepare(ready) {
      const groups = new Set<string>();
      for (const job of ready) {
        if (!onWorker(whereOf(job)) || groups.has(job.group)) continue;
        groups.add(job.group);
        if (!workers.prestart(workerProfileOf(job))) return;
      }
    },
    // Deno names the flag a task lacked; a job gets the right from its permissions.
    run: (job, context) =>
      attempt(job, context).catch((error) => {
        throw withPermissionHint(error);
      }),
  };

  async function attempt(
    job: ComputeJob,
    { signal, started }: TaskContext,
  ): Promise<ComputeResult> {
    const context: ComputeContext = { output, job: job.name };
    const task = {
      moduleUrl: job.moduleUrl,
      exportName: job.exportName,
      args: job.args,
      context,
    };
    const where = whereOf(job);
    if (where === "main") {
      return { result: await settle(await onMainThread(task), job, output), isolation: where };
    }
    if (where === "process") {
      const { value, pid } = await processes.run(task, {
        profile: cached(hostProfiles, job, () => hostProfile(job, output)),
        signal,
      });
      return { result: await settle(value, job, output), pid, isolation: where };
    }
    const { value, workerId } = await workers.run(task, {
      profile: workerProfileOf(job),
      signal,
      ...(started ? { onStart: started } : {}),
    });
    return { result: await settle(value, job, output), worker: workerId, isolation: where };
  }
}

/** Whether jobs run at `where` run on the Worker pool. */
function onWorker(where: ComputeJob["isolation"] | RunResources["cpuPlace"]): boolean {
  return where === "worker" || where === "thread";
}

/** Runs a task on this thread, as the `sequential` and `async` modes do. */
let stdinHidden = false;

async function onMainThread(task: Parameters<typeof callTask>[1]): Promise<unknown> {
  // This process's stdin is the launcher's link, or the job file it read: not the task's.
  if (!stdinHidden) {
    hideStdin();
    stdinHidden = true;
  }
  const reply = await callTask(0, task, setImmediate);
  if (reply.ok) return reply.value;
  throw new ComputeError(reply.error.message, { workerStack: reply.error.stack });
}

/** What goes into the report: the value, or where its bytes were written. */
async function settle(value: unknown, job: ComputeJob, output: string): Promise<unknown> {
  if (!(value instanceof Uint8Array)) {
    if (job.to === undefined) return value;
    // A job that names its file and writes none: what needs it would find nothing there.
    throw new ComputeError(
      `the task returned ${aValue(value)}, not bytes, so nothing was written to compute.to ` +
        `(${relative(output, job.to)}): return a Uint8Array, or leave out to`,
      {},
    );
  }
  if (job.to === undefined) {
    throw new ComputeError(
      `the task returned ${value.byteLength} bytes: set compute.to to write them to a file`,
      {},
    );
  }
  // Checked again now: a symlink may have appeared since the job file was read.
  if (!landsInside(output, job.to)) {
    throw new ComputeError(`would write outside the output folder: ${job.to}`, {});
  }
  await writeFileAtomic(job.to, value);
  return {
    to: relative(output, job.to),
    bytes: value.byteLength,
    sha256: await sha256Hex(value),
  };
}

/** What kind of value `value` is, for a message: "a string", "an array", "nothing". */
function aValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
