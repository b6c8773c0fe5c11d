/**
 * Concurrency modes (`--mode`): the same job file run the four classic ways, so their times can
 * be compared. A mode changes which pool and limits each kind of job gets, never the task code.
 *
 * | mode         | downloads                   | compute jobs                     | run jobs      |
 * | ------------ | --------------------------- | -------------------------------- | ------------- |
 * | `sequential` | one at a time               | one at a time, main thread       | one at a time |
 * | `async`      | concurrent (`io`)           | one at a time, main thread       | one at a time |
 * | `workers`    | concurrent                  | Worker threads (`cpu` at once)   | `cpu` at once |
 * | `processes`  | concurrent                  | host processes (`cpu` at once)   | `cpu` at once |
 * | `auto`       | as the job file says: each compute job on its own `isolation`               |
 *
 * In `sequential` everything shares one slot, downloads included: the synchronous baseline.
 * On the main thread, a compute function blocks everything else while it runs (as CPU work
 * blocks an asyncio loop), runs with taskpool's own permissions, and its `timeout` can only
 * fail it once it returns.
 *
 * @module
 */
import type { Concurrency, Plan } from "../jobfile/job.ts";

/** Every mode `--mode` takes, `auto` last. */
export const MODES = ["sequential", "async", "workers", "processes", "auto"] as const;

/** A mode as asked for. */
export type Mode = typeof MODES[number];

/** A mode as run: `auto` resolved. */
export type ResolvedMode = Exclude<Mode, "auto">;

/** Where CPU work runs: on the main thread, the pool a mode forces, or each job's own. */
export type CpuPlace = "main" | "worker" | "process" | "job";

/** What a kind says of `auto` (see `KindDefinition.prefers`). */
export interface ModePreference {
  name: string;
  // deno-lint-ignore no-explicit-any
  prefers?(jobs: readonly any[]): "workers" | "processes" | undefined;
}

/** How a run goes in a mode. */
export interface ModeSettings {
  /** What was asked for. */
  requested: Mode;
  /** What runs: `auto` resolved to the mode it amounts to. */
  used: ResolvedMode;
  /** Why, in words (for the report and the summary). */
  why: string;
  /** Jobs at once per pool. */
  limits: Concurrency;
  /** Where CPU work runs. */
  cpuPlace: CpuPlace;
  /** Downloads share the cpu pool's single slot: one job at a time overall. */
  oneAtATime: boolean;
}

/**
 * The settings of `mode` for `plan`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingsFor } from "./modes.ts";
 * const plan = { jobs: [], concurrency: { io: 8, cpu: 2, perHost: 8 } };
 * assert(settingsFor("async", plan).limits.cpu === 1);
 * assert(settingsFor("auto", plan).used === "workers");
 * ```
 */
export function settingsFor(
  mode: Mode,
  plan: Pick<Plan, "jobs" | "concurrency">,
  kinds: readonly ModePreference[] = [],
): ModeSettings {
  const { io, cpu, perHost } = plan.concurrency;
  const base = { requested: mode, limits: plan.concurrency, oneAtATime: false };
  switch (mode) {
    case "sequential":
      return {
        ...base,
        used: mode,
        why: "one job at a time, compute on the main thread",
        limits: { ...plan.concurrency, io: 1, cpu: 1, perHost: 1 },
        cpuPlace: "main",
        oneAtATime: true,
      };
    case "async":
      return {
        ...base,
        used: mode,
        why: `downloads concurrent (io ${io}), compute one at a time on the main thread`,
        limits: { ...plan.concurrency, io, cpu: 1, perHost },
        cpuPlace: "main",
      };
    case "workers":
    case "processes":
      return {
        ...base,
        used: mode,
        why: `downloads concurrent (io ${io}), compute on ${cpu} ${
          mode === "workers" ? "Worker threads" : "host processes"
        }`,
        cpuPlace: mode === "workers" ? "worker" : "process",
      };
    case "auto": {
      const preferences = kinds.flatMap((kind) => {
        const jobs = plan.jobs.filter((job) => job.kind === kind.name);
        return jobs.length > 0 && kind.prefers ? [kind.prefers(jobs)] : [];
      });
      const allProcess = preferences.length > 0 &&
        preferences.every((preference) => preference === "processes");
      const used = allProcess ? "processes" : "workers";
      return {
        ...base,
        used,
        why: `the job file as written: downloads concurrent (io ${io}), compute on ${cpu} ${
          allProcess ? "host processes" : "Worker threads"
        } (each job's isolation)`,
        cpuPlace: "job",
      };
    }
    default:
      return mode satisfies never;
  }
}
