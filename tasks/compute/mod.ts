/**
 * The compute kind, whole: `compute:` in a job file calls an exported function of a module with
 * the job's least privileges, on a Worker, in a host process, or on a thread in taskpool's own
 * process, on the cpu pool.
 *
 * @module
 */
import { expandCompute } from "./expand.ts";
import type { ComputeJob, ComputeResult } from "./job.ts";
import { moduleFiles } from "./module_files.ts";
import { moduleFolder } from "./privileges.ts";
import { computeSpec } from "./spec.ts";
import { filePath } from "../../lib/util/own_files.ts";
import type { KindDefinition } from "../../lib/kind_definition.ts";
import { RUNNER_FILES } from "../../lib/pools/worker/runner_files.ts";
import { parseSize } from "../../lib/util/size.ts";
import { MIN_HEAP_MIB } from "../../lib/pools/heap.ts";

/** The compute kind. */
export const compute: KindDefinition<ComputeJob, ComputeResult> = {
  name: "compute",
  spec: computeSpec,
  pool: "cpu",
  defaultRetries: 0,
  check(value, path, fail) {
    if (value.memory === undefined) return;
    let bytes: number;
    try {
      bytes = parseSize(value.memory as number | string);
    } catch {
      return; // not a size: the schema says so
    }
    if (bytes < MIN_HEAP_MIB * 2 ** 20) {
      const bare = typeof value.memory === "number"
        ? ` bytes (a number is bytes: ${value.memory}MiB is ${value.memory} MiB)`
        : "";
      fail(
        [...path, "memory"],
        `must be at least ${MIN_HEAP_MIB}MiB: got ${value.memory}${bare}`,
      );
    }
  },
  expand: expandCompute,
  writes: (job) => job.to,
  reads: (job) => modulePath(job.moduleUrl),
  grant(job, grants, { execPath }) {
    // Its host process gets its own flags; the sequential and async modes run it on taskpool's
    // main thread, which then needs its rights too.
    grants.read.add(moduleFolder(job.moduleUrl));
    grants.run.add(execPath);
    // With isolation thread, its Workers start here: a Worker has no right its parent lacks.
    if (job.isolation === "thread") { for (const file of RUNNER_FILES) grants.read.add(file); }
    const { permissions } = job;
    for (const path of permissions.read) grants.read.add(path);
    for (const path of permissions.write) grants.write.add(path);
    if (permissions.net === true) grants.anyHost = true;
    else if (permissions.net !== false) {
      for (const host of permissions.net) {
        grants.hosts.add(host);
      }
    }
    if (permissions.env === true) grants.anyVariable = true;
    else if (permissions.env !== false) {
      for (const name of permissions.env) {
        grants.env.add(name);
      }
    }
  },
  describe: (job) => `${job.module}#${job.exportName}(${JSON.stringify(job.args).slice(1, -1)})`,
  report(job, outcome) {
    const result = outcome.result as ComputeResult | undefined;
    const succeeded = outcome.status === "ok" || outcome.status === "cached";
    return {
      isolation: result?.isolation ?? job.isolation,
      ...(result?.worker !== undefined ? { worker: result.worker } : {}),
      ...(result?.pid !== undefined ? { pid: result.pid } : {}),
      ...(succeeded ? { result: result?.result ?? null } : {}),
    };
  },
  // A compute job's module is part of its definition: its file and the local files it imports.
  definitionFiles: (job) =>
    job.moduleUrl.startsWith("file:") ? moduleFiles(job.moduleUrl) : Promise.resolve([]),
  prefers: (jobs) =>
    jobs.length > 0 && jobs.every((job) => job.isolation === "process") ? "processes" : "workers",
  async create({ computePools, output, cpuPlace }) {
    // Loaded only by a run: checking a job file needs none of it.
    const [{ createComputeKind }, { workers, processes }] = await Promise.all([
      import("./compute_kind.ts"),
      computePools(),
    ]);
    return createComputeKind({ workers, processes, output, place: cpuPlace });
  },
};

/** A module's file, for a `file:` module: by URL, as the jobs of a fan-out share one. */
const modulePaths = new Map<string, string | undefined>();
function modulePath(moduleUrl: string): string | undefined {
  let path = modulePaths.get(moduleUrl);
  if (path === undefined && !modulePaths.has(moduleUrl)) {
    path = moduleUrl.startsWith("file:") ? filePath(moduleUrl) : undefined;
    modulePaths.set(moduleUrl, path);
  }
  return path;
}
