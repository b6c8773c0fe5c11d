/**
 * A plan's jobs, packed for the trip to the run's child: each job as only the fields that differ
 * from the job before it. A fan-out's jobs share all but their name, URL and paths, so a plan of
 * many travels in about a third of its JSON, and the launcher's `JSON.stringify` and the child's
 * `JSON.parse` shrink with it.
 *
 * @module
 */

/** One packed job: its fields that differ from the job before, and `"-"`: those it lacks. */
export type PackedJob = Record<string, unknown>;

/** The key that lists the fields a job lacks and the job before it has. */
const GONE = "-";

/**
 * `jobs` packed. Fields whose value is undefined count as absent (JSON leaves them out). No job
 * has a field named `-`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packJobs, unpackJobs } from "./packed_jobs.ts";
 * const jobs = [
 *   { name: "f/0", kind: "download", retries: 2, url: "http://h/0" },
 *   { name: "f/1", kind: "download", retries: 2, url: "http://h/1" },
 * ];
 * assert.deepEqual(packJobs(jobs)[1], { name: "f/1", url: "http://h/1" });
 * assert.deepEqual(unpackJobs(packJobs(jobs)), jobs);
 * ```
 */
export function packJobs(jobs: readonly object[]): PackedJob[] {
  const packed: PackedJob[] = [];
  let previous: Record<string, unknown> = {};
  for (const job of jobs as readonly Record<string, unknown>[]) {
    const delta: PackedJob = {};
    for (const key in job) {
      const value = job[key];
      if (value === undefined || value === previous[key]) continue;
      // Objects (headers, needs) that are not the very same (a fan-out's jobs share theirs)
      // compare by their JSON.
      const before = previous[key];
      const same = typeof value === "object" && value !== null && typeof before === "object" &&
        before !== null && JSON.stringify(value) === JSON.stringify(before);
      if (!same) delta[key] = value;
    }
    let gone: string[] | undefined;
    for (const key in previous) {
      if (previous[key] !== undefined && job[key] === undefined) (gone ??= []).push(key);
    }
    if (gone) delta[GONE] = gone;
    packed.push(delta);
    previous = job;
  }
  return packed;
}

/**
 * The jobs {@linkcode packJobs} packed, whole again. A field the job before had too is that job's
 * very value, so the objects in fields (headers, needs) are frozen: jobs share them, and a run
 * never changes a job.
 */
export function unpackJobs<J>(packed: readonly PackedJob[]): J[] {
  const jobs: J[] = [];
  let previous: Record<string, unknown> = {};
  for (const { [GONE]: gone, ...delta } of packed) {
    for (const key in delta) deepFreeze(delta[key]);
    const job: Record<string, unknown> = { ...previous, ...delta };
    for (const key of (gone as string[] | undefined) ?? []) delete job[key];
    jobs.push(job as J);
    previous = job;
  }
  return jobs;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}
