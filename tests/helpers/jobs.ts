/**
 * Jobs for tests of the parts that run them (scheduler, report), with only the fields every
 * job has.
 */
import type { Job } from "../../lib/jobfile/job.ts";
import type { RunJob } from "../../tasks/command/job.ts";

/** A `run` job named `name`, of its own group, with no needs, retries or timeout. */
export function bareJob(name: string): Job {
  return {
    kind: "run",
    name,
    group: name,
    needs: [],
    retries: 0,
    timeoutMs: undefined,
    backoffMs: 0,
    source: undefined,
  };
}

/** A `run` job of `true`, with `options` over {@linkcode bareJob}'s fields. */
export function trueJob(name: string, options: Partial<RunJob> = {}): RunJob {
  return {
    ...bareJob(name),
    kind: "run",
    argv: ["true"],
    cwd: "/",
    env: {},
    clearEnv: false,
    logPath: "/dev/null",
    ...options,
  };
}
