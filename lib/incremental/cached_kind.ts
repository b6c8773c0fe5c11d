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
import { fingerprintOf, type JobCache } from "./job_cache.ts";
import type { JobKind, TaskContext, TaskResult } from "../scheduler/kind.ts";

/** A job succeeded but a file it declared in `outputs` is not there. */
export class MissingOutputError extends Error implements CodedError {
  override name = "MissingOutputError";
  readonly code = "MISSING_OUTPUT";
}

/** Options for {@linkcode withJobCache}. */
export interface JobCacheOptions<J extends Job> {
  cache: JobCache;
  /** Files whose content is part of a job's definition (its kind's `definitionFiles`). */
  definitionFiles?: (job: J) => Promise<string[]>;
  /** Run everything, cached or not (`--force`); what runs is still recorded. */
  force?: boolean;
}

/**
 * `kind` with the job cache in front of it, for jobs that declare files.
 *
 * @example
 * ```ts ignore
 * const compute = withJobCache(createComputeKind(options), { cache });
 * ```
 */
export function withJobCache<J extends Job>(
  kind: JobKind<J>,
  options: JobCacheOptions<J>,
): JobKind<J> {
  const { cache, definitionFiles, force = false } = options;
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
    const fingerprint = await fingerprintOf(job, await definitionFiles?.(job));
    const last = cache.get(job.name);
    if (
      !force && last?.fingerprint === fingerprint &&
      job.needs.every((need) => context.needs?.get(need) === "cached") &&
      (await missing(files.outputs)).length === 0
    ) {
      return {
        cached: "unchanged",
        ...(last.result !== undefined ? { result: last.result } : {}),
        ...(last.exitCode !== undefined ? { exitCode: last.exitCode } : {}),
      } as TaskResult;
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
    // What the report shows of a cached job: its value or its exit code, as it last ran.
    const { result: value, exitCode } = result as { result?: unknown; exitCode?: number };
    cache.set(job.name, {
      fingerprint,
      ...(value !== undefined ? { result: value } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
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
