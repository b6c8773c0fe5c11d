/**
 * Incremental compute and run jobs: a job that declares `inputs` or `outputs` is `cached`, not
 * run, when its definition and the content of its inputs are what they were at its last success,
 * its outputs all exist, and every job it needs was cached too in this run (a need that ran may
 * have changed what it reads). After a successful run its outputs must exist.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";
import type { Job, JobCacheSpec } from "../jobfile/job.ts";
import type { JobStatus } from "../scheduler/events.ts";
import { fingerprintOf, type JobCache } from "./job_cache.ts";
import type { JobKind, TaskContext, TaskResult } from "../scheduler/kind.ts";

/** A job succeeded but a file it declared in `outputs` is not there. */
export class MissingOutputError extends Error implements CodedError {
  override name = "MissingOutputError";
  readonly code = "MISSING_OUTPUT";
}

/** Options for {@linkcode withJobCache}. */
export interface JobCacheOptions {
  cache: JobCache;
  /** The status of a job that finished in this run. */
  statusOf: (name: string) => JobStatus | undefined;
  /** Run everything, cached or not (`--force`); what runs is still recorded. */
  force?: boolean;
}

/**
 * `kind` with the job cache in front of it, for jobs that declare files.
 *
 * @example
 * ```ts ignore
 * const compute = withJobCache(createComputeKind(options), { cache, statusOf });
 * ```
 */
export function withJobCache<J extends Job>(
  kind: JobKind<J>,
  options: JobCacheOptions,
): JobKind<J> {
  const { cache, statusOf, force = false } = options;
  const { prepare } = kind;
  return {
    ...kind,
    // A job that may turn out cached needs nothing started for it.
    ...(prepare
      ? { prepare: (ready: readonly J[]) => prepare.call(kind, ready.filter((job) => !job.cache)) }
      : {}),
    // Not async for a job without files: it costs no promise of its own.
    run: (job, context) => job.cache ? runCached(job, job.cache, context) : kind.run(job, context),
  };

  async function runCached(
    job: J,
    files: JobCacheSpec,
    context: TaskContext,
  ): Promise<TaskResult> {
    const fingerprint = await fingerprintOf(job);
    const last = cache.get(job.name);
    if (
      !force && last?.fingerprint === fingerprint &&
      job.needs.every((need) => statusOf(need) === "cached") &&
      (await missing(files.outputs)).length === 0
    ) {
      const result: TaskResult = { cached: "unchanged" };
      if (last.result !== undefined) result.result = last.result;
      if (last.exitCode !== undefined) result.exitCode = last.exitCode;
      return result;
    }
    cache.set(job.name, undefined); // until it succeeds again
    const result = await kind.run(job, context);
    const absent = await missing(files.outputs);
    if (absent.length > 0) {
      throw new MissingOutputError(
        `succeeded but did not write its declared output${absent.length > 1 ? "s" : ""}: ` +
          absent.join(", "),
      );
    }
    cache.set(job.name, {
      fingerprint,
      ...(result.result !== undefined ? { result: result.result } : {}),
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    });
    return result;
  }
}

async function missing(paths: readonly string[]): Promise<string[]> {
  const exists = await Promise.all(
    paths.map((path) => Deno.stat(path).then((info) => info.isFile, () => false)),
  );
  return paths.filter((_, index) => !exists[index]);
}
