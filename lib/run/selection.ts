/**
 * Running part of a plan: `--only NAME` (with everything it needs), `--skip NAME` (with
 * everything that needs it), and `--rerun-failed REPORT` (what failed, was skipped or was
 * cancelled in an earlier run, matched by name; the rest counts as done). A name is a job's or a fan-out group's.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Job } from "../jobfile/job.ts";
import { closest } from "../jobfile/suggest.ts";

/** What to keep of a plan. */
export interface Selection {
  /** Only these jobs or groups, and what they need. */
  only?: readonly string[];
  /** Leave out these jobs or groups, and what needs them. */
  skip?: readonly string[];
  /**
   * Jobs an earlier run leaves nothing to do for (`--rerun-failed`: all but what failed, was
   * skipped or was cancelled there): they are left out, and a job that needs one does not wait
   * for it.
   */
  done?: ReadonlySet<string>;
}

/** The jobs kept, and what was left out for a message. */
export interface Selected {
  jobs: Job[];
  /** Jobs left out because they need a skipped one. */
  skippedWithNeeds: string[];
  /** Jobs left out. */
  leftOut: number;
}

/**
 * Applies a selection to the plan's jobs; the jobs keep their order, and their needs name only
 * jobs that are kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectJobs } from "./selection.ts";
 * import type { Job } from "../jobfile/job.ts";
 * const job = (name: string, needs: string[] = []) => ({ name, group: name, needs }) as unknown as Job;
 * const jobs = [job("get"), job("build", ["get"]), job("test", ["build"]), job("docs")];
 * assert(selectJobs(jobs, { only: ["build"] }).jobs.map((j) => j.name).join() === "get,build");
 * assert(selectJobs(jobs, { skip: ["build"] }).jobs.map((j) => j.name).join() === "get,docs");
 * ```
 * @throws {UsageError} for a name that is no job or group
 */
export function selectJobs(jobs: readonly Job[], selection: Selection): Selected {
  const { only, skip = [], done } = selection;
  const byName = new Map(jobs.map((job) => [job.name, job]));
  const named = (names: readonly string[], flag: string) => {
    const found = new Set<string>();
    for (const name of names) {
      const matches = jobs.filter((job) => job.name === name || job.group === name);
      if (matches.length === 0) {
        const guess = closest(name, [...new Set(jobs.flatMap((job) => [job.name, job.group]))]);
        throw new UsageError(
          `${flag} ${name}: no job or group has that name${
            guess ? ` (did you mean "${guess}"?)` : ""
          }`,
        );
      }
      for (const job of matches) found.add(job.name);
    }
    return found;
  };

  let keep = new Set(jobs.map((job) => job.name));
  if (done) { for (const name of done) keep.delete(name); }
  if (only !== undefined) {
    // What the named jobs need, transitively, unless it is done already.
    const wanted = new Set<string>();
    const stack = [...named(only, "--only")];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (wanted.has(name) || done?.has(name)) continue;
      wanted.add(name);
      for (const need of byName.get(name)!.needs) stack.push(need);
    }
    keep = new Set([...keep].filter((name) => wanted.has(name)));
  }
  const skipped = named(skip, "--skip");
  // What needs a skipped job, transitively: it could never start.
  const dependents = new Map<string, string[]>();
  for (const job of jobs) {
    for (const need of job.needs) {
      const list = dependents.get(need);
      if (list) list.push(job.name);
      else dependents.set(need, [job.name]);
    }
  }
  const out = new Set<string>();
  const stack = [...skipped];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (out.has(name)) continue;
    out.add(name);
    for (const dependent of dependents.get(name) ?? []) stack.push(dependent);
  }
  const skippedWithNeeds = jobs.map((job) => job.name)
    .filter((name) => out.has(name) && !skipped.has(name) && keep.has(name));
  for (const name of out) keep.delete(name);

  const kept = jobs
    .filter((job) => keep.has(job.name))
    .map((job) => {
      const needs = job.needs.filter((need) => keep.has(need));
      return needs.length === job.needs.length ? job : { ...job, needs };
    });
  return { jobs: kept, skippedWithNeeds, leftOut: jobs.length - kept.length };
}

/**
 * Of the jobs `names`, the ones `--rerun-failed` leaves out: all but those the report says failed,
 * were skipped or were cancelled. A job the report does not list is left out too: it did not
 * fail there (the report of an earlier `--rerun-failed` lists only what that run ran).
 *
 * @throws {UsageError} when the file is not a taskpool report, or names none of `names`: the
 * report of another job file, whose failures would all run again
 */
export async function doneIn(
  reportPath: string,
  names: ReadonlySet<string>,
): Promise<Set<string>> {
  let report: unknown;
  try {
    report = JSON.parse(await Deno.readTextFile(reportPath));
  } catch (error) {
    throw new UsageError(
      `--rerun-failed ${reportPath}: ${
        error instanceof Deno.errors.NotFound ? "does not exist" : `is not JSON: ${error}`
      }`,
    );
  }
  const jobs = (report as { jobs?: unknown })?.jobs;
  if (!Array.isArray(jobs)) {
    throw new UsageError(`--rerun-failed ${reportPath}: is not a taskpool report (no jobs list)`);
  }
  if (jobs.length > 0 && !jobs.some((job) => names.has(String(job?.name)))) {
    const file = (report as { file?: unknown }).file;
    throw new UsageError(
      `--rerun-failed ${reportPath}: names none of this job file's jobs` +
        (typeof file === "string" ? ` (it is the report of ${file})` : ""),
    );
  }
  const unfinished = new Set(
    jobs
      .filter((job) => job?.status !== "ok" && job?.status !== "cached")
      .map((job) => String(job?.name)),
  );
  return new Set([...names].filter((name) => !unfinished.has(name)));
}
