/**
 * `taskpool compare`: one job file run in several concurrency modes, each run into its own fresh
 * output folder (so nothing is cached), the modes taken in turn on every round so that a busy
 * spell of the machine spreads over all of them; then, per mode, the median wall time, its
 * range, the time spent downloading and computing, the speedup against `sequential`, and the
 * peak memory.
 *
 * @module
 */
import type { Kinds } from "../kind_definition.ts";
import type { RunEventListener } from "../scheduler/events.ts";
import type { Plan } from "../jobfile/job.ts";
import type { Mode, ResolvedMode } from "../run/modes.ts";
import type { Report, ReportJob } from "../report/types.ts";
import { runPlan } from "../run/run_plan.ts";
import { readReport } from "../report/read.ts";

/** Options for {@linkcode compareModes}. */
export interface CompareOptions {
  /** The job kinds of the plan. */
  kinds: Kinds;
  /** The modes, in the order each round runs them. */
  modes: Mode[];
  /** Runs per mode. */
  repeat: number;
  /** The plan of the job file for one run, writing under `output`. */
  loadPlan(output: string): Promise<Plan>;
  /** The folder the runs go under, one fresh folder each (`<mode>-<round>`). */
  folder: string;
  /** Aborting it cancels the run under way and ends the comparison. */
  signal?: AbortSignal;
  /** Told of each run as it ends. */
  onRun?(run: CompareRun): void;
  /** Told of every run's events as they happen (a live display). */
  onEvent?: RunEventListener;
}

/** One run of a comparison. */
export interface CompareRun {
  mode: Mode;
  used: ResolvedMode;
  /** 1 for the first round. */
  round: number;
  folder: string;
  report: Report;
}

/** One mode's figures over its runs. */
export interface ModeFigures {
  mode: Mode;
  used: ResolvedMode;
  why: string;
  runs: number;
  /** Median wall time of its runs, and their range, in ms. */
  wallMs: { median: number; min: number; max: number };
  /** Median time during which at least one download was under way, in ms. */
  downloadMs: number;
  /** Median time during which at least one compute or run job was under way, in ms. */
  computeMs: number;
  /** Sequential's median wall time over this one's; undefined without a sequential run. */
  speedup: number | undefined;
  /** Highest peak resident memory of taskpool with its hosts over its runs. */
  peakRssBytes: number;
  /** Runs in which a job did not succeed. */
  failedRuns: number;
}

/** What {@linkcode compareModes} resolves with. */
export interface Comparison {
  modes: ModeFigures[];
  runs: CompareRun[];
  /** Reasons not to trust the figures: runs too short, or a wide spread. */
  warnings: string[];
  /** Whether the comparison was cut short by its signal. */
  interrupted: boolean;
}

/** Below this median wall time, a run measures mostly start-up and noise. */
export const SHORT_RUN_MS = 250;
/** A range wider than this share of the median is worth a warning. */
export const WIDE_SPREAD = 0.25;

/** Runs the comparison; never rejects for failed jobs (they are in the figures). */
export async function compareModes(options: CompareOptions): Promise<Comparison> {
  const { kinds, modes, repeat, loadPlan, folder, signal, onRun, onEvent } = options;
  const runs: CompareRun[] = [];
  for (let round = 1; round <= repeat && !signal?.aborted; round++) {
    for (const mode of modes) {
      if (signal?.aborted) break;
      const runFolder = `${folder}/${mode}-${round}`;
      await Deno.remove(runFolder, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      const plan = await loadPlan(runFolder);
      await runPlan(plan, {
        kinds,
        mode,
        force: true,
        ...(signal ? { signal } : {}),
        ...(onEvent ? { onEvent } : {}),
      });
      // Read back whole: the jobs' timings are in the file.
      const report = await readReport(plan.report);
      const run = { mode, used: report.mode.used, round, folder: runFolder, report };
      runs.push(run);
      onRun?.(run);
    }
  }
  const figures = modes
    .map((mode) => figuresOf(mode, runs.filter((run) => run.mode === mode), kinds))
    .filter((figures): figures is ModeFigures => figures !== undefined);
  const sequential = figures.find((figures) => figures.used === "sequential");
  for (const mode of figures) {
    mode.speedup = sequential ? sequential.wallMs.median / mode.wallMs.median : undefined;
  }
  return {
    modes: figures,
    runs,
    warnings: warningsFor(figures),
    interrupted: signal?.aborted ?? false,
  };
}

function figuresOf(mode: Mode, runs: CompareRun[], kinds: Kinds): ModeFigures | undefined {
  const first = runs[0];
  if (!first) return undefined;
  const walls = runs.map((run) => run.report.wallMs);
  return {
    mode,
    used: first.used,
    why: first.report.mode.why,
    runs: runs.length,
    wallMs: { median: median(walls), min: Math.min(...walls), max: Math.max(...walls) },
    downloadMs: median(runs.map((run) => busyMs(run.report.jobs, kindsOn(kinds, "io")))),
    computeMs: median(runs.map((run) => busyMs(run.report.jobs, kindsOn(kinds, "cpu")))),
    speedup: undefined,
    peakRssBytes: Math.max(
      ...runs.map((run) => run.report.peakTotalRssBytes ?? run.report.peakRssBytes),
    ),
    failedRuns: runs.filter((run) => run.report.exitCode !== 0).length,
  };
}

/** The names of the kinds whose jobs run on `pool` (unless a mode moves them). */
function kindsOn(kinds: Kinds, pool: "io" | "cpu"): string[] {
  return kinds.filter((kind) => kind.pool === pool).map((kind) => kind.name);
}

/**
 * The time during which at least one job of these kinds was running: the union of their
 * attempts. Sequentially it is the sum of their times; concurrently, their overlap counts once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { busyMs } from "./compare.ts";
 * const job = (startMs: number, endMs: number) =>
 *   ({ kind: "download", startMs, attemptLog: [{ startMs, endMs }] }) as never;
 * assert(busyMs([job(0, 10), job(5, 20), job(30, 40)], ["download"]) === 30);
 * ```
 */
export function busyMs(jobs: ReportJob[], kinds: readonly string[]): number {
  const spans = jobs
    .filter((job) => kinds.includes(job.kind))
    .flatMap((job) => job.attemptLog.map(({ startMs, endMs }) => [startMs, endMs] as const))
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [start, end] = [0, -Infinity];
  for (const [from, to] of spans) {
    if (from > end) {
      if (end > start) total += end - start;
      [start, end] = [from, to];
    } else end = Math.max(end, to);
  }
  if (end > start) total += end - start;
  return total;
}

/** Why the figures may not be trusted: runs too short, a wide spread, failed runs. */
export function warningsFor(figures: ModeFigures[]): string[] {
  const warnings: string[] = [];
  const short = figures.filter((mode) => mode.wallMs.median < SHORT_RUN_MS);
  if (short.length > 0) {
    warnings.push(
      `${short.map((mode) => mode.mode).join(", ")} ran under ${SHORT_RUN_MS} ms: start-up and ` +
        "noise weigh more than the work; give the job file more to do",
    );
  }
  for (const mode of figures) {
    const spread = (mode.wallMs.max - mode.wallMs.min) / mode.wallMs.median;
    if (mode.runs > 1 && spread > WIDE_SPREAD) {
      warnings.push(
        `${mode.mode}: its runs differ by ${Math.round(spread * 100)}% of the median; ` +
          "the machine may be busy (try more --repeat)",
      );
    }
  }
  if (figures.some((mode) => mode.failedRuns > 0)) {
    warnings.push("some runs had jobs that did not succeed: their times are not comparable");
  }
  return warnings;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
