/**
 * The JSON timing report: its shape, and a builder that follows a run's events so a valid
 * report can be produced at any moment, also when the run is interrupted half-way.
 *
 * @module
 */
import { errorCode, errorMessage } from "../errors.ts";
import type { AttemptRecord, JobOutcome, JobStatus, RunEvent } from "../scheduler/events.ts";
import type { Concurrency, Job } from "../jobfile/job.ts";
import type { KindDefinition, Kinds } from "../kind_definition.ts";
import { EXIT } from "../exit_codes.ts";
import {
  type Report,
  REPORT_VERSION,
  type ReportError,
  type ReportJob,
  type ReportMode,
  type ReportSummary,
} from "./types.ts";

/** Options for {@linkcode ReportBuilder}. */
export interface ReportBuilderOptions {
  file: string;
  output: string;
  concurrency: Concurrency;
  /** @default auto, as workers */
  mode?: ReportMode;
  /** Wall-clock start. @default new Date() */
  startedAt?: Date;
  /** The kinds that add their fields to their jobs' entries. @default none */
  kinds?: Kinds;
  /** The static shard the run is (`K/N`). @default none */
  shard?: string | undefined;
}

/**
 * Collects a run's events into a {@linkcode Report}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReportBuilder } from "./model.ts";
 * const builder = new ReportBuilder({ file: "jobs.yaml", output: "/tmp/out", concurrency: { io: 1, cpu: 1, perHost: 1 } });
 * const report = builder.build({ wallMs: 0 });
 * assert(report.summary.total === 0 && report.exitCode === 0);
 * assert.equal(builder.build({ wallMs: 5, interrupted: true, stoppedBy: "SIGTERM" }).exitCode, 143);
 * ```
 */
export class ReportBuilder {
  readonly #options: ReportBuilderOptions;
  readonly #kinds: ReadonlyMap<string, KindDefinition>;
  readonly #startedAt: Date;
  #jobs: readonly Job[] = [];
  readonly #outcomes = new Map<string, JobOutcome>();
  readonly #attempts = new Map<string, AttemptRecord[]>();
  #interrupted = false;

  constructor(options: ReportBuilderOptions) {
    this.#options = options;
    this.#kinds = new Map((options.kinds ?? []).map((kind) => [kind.name, kind]));
    this.#startedAt = options.startedAt ?? new Date();
  }

  /** Feeds one event; pass this method as a run's listener. */
  handle = (event: RunEvent): void => {
    switch (event.type) {
      case "run-started":
        this.#jobs = event.jobs;
        break;
      case "job-started": {
        const attempt = { startMs: event.at, endMs: event.at, lane: event.lane };
        const list = this.#attempts.get(event.job.name);
        // A list of one made as such, not a push onto `[]` (room for 16 more a job).
        if (list) list.push(attempt);
        else this.#attempts.set(event.job.name, [attempt]);
        break;
      }
      case "job-finished":
        this.#outcomes.set(event.job.name, event.outcome);
        // Its outcome lists its attempts: the ones kept here are for a job that has none.
        this.#attempts.delete(event.job.name);
        break;
      case "job-queued":
      case "job-retrying":
      case "job-progress":
      case "run-finished":
        break;
      default:
        event satisfies never;
    }
  };

  /**
   * The report as of now, with the exit code the run ends with; jobs without an outcome are
   * reported cancelled.
   */
  build(
    options: {
      wallMs: number;
      /** The run was stopped (its signal aborted). @default false */
      interrupted?: boolean;
      /** The signal that stopped it, which decides the exit code (130, 143). */
      stoppedBy?: "SIGINT" | "SIGTERM" | undefined;
      peakRssBytes?: number;
      peakTotalRssBytes?: number;
    },
  ): Report {
    const { wallMs, interrupted = false, stoppedBy, peakRssBytes = Deno.memoryUsage().rss } =
      options;
    const { peakTotalRssBytes = peakRssBytes } = options;
    this.#interrupted = interrupted;
    const jobs = this.#jobs.map((job) => this.#reportJob(job, wallMs));
    const summary = summarize(jobs);
    const succeeded = summary.ok + summary.cached;
    const exitCode = stoppedBy === "SIGTERM"
      ? EXIT.sigterm
      : stoppedBy === "SIGINT"
      ? EXIT.sigint
      : succeeded === jobs.length
      ? EXIT.ok
      : EXIT.jobsFailed;
    return {
      version: REPORT_VERSION,
      file: this.#options.file,
      output: this.#options.output,
      startedAt: this.#startedAt.toISOString(),
      wallMs: round(wallMs),
      exitCode,
      interrupted,
      peakRssBytes,
      peakTotalRssBytes,
      concurrency: this.#options.concurrency,
      mode: this.#options.mode ?? { requested: "auto", used: "workers", why: "" },
      host: {
        cores: navigator.hardwareConcurrency,
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        os: Deno.build.os,
        arch: Deno.build.arch,
        ...hostName(),
        pid: Deno.pid,
      },
      ...(this.#options.shard ? { shard: this.#options.shard } : {}),
      summary,
      jobs,
    };
  }

  #reportJob(job: Job, nowMs: number): ReportJob {
    const outcome: JobOutcome = this.#outcomes.get(job.name) ?? {
      status: "cancelled",
      attempts: this.#attempts.get(job.name) ?? [],
      readyMs: undefined,
      startMs: this.#attempts.get(job.name)?.[0]?.startMs,
      endMs: nowMs,
      result: undefined,
      error: new Error("the run ended before this job finished"),
    };
    const attempts = outcome.attempts;
    const last = attempts.at(-1);
    const entry: ReportJob = {
      name: job.name,
      group: job.group,
      kind: job.kind,
      status: outcome.status,
      attempts: attempts.length,
      queuedMs: outcome.readyMs === undefined || outcome.startMs === undefined
        ? null
        : round(outcome.startMs - outcome.readyMs),
      startMs: outcome.startMs === undefined ? null : round(outcome.startMs),
      endMs: round(outcome.endMs),
      durationMs: outcome.startMs === undefined ? 0 : round(outcome.endMs - outcome.startMs),
      lane: last?.lane ?? null,
      attemptLog: attempts.map((attempt) => ({
        lane: attempt.lane,
        startMs: round(attempt.startMs),
        endMs: round(attempt.endMs),
        ...(attempt.error === undefined ? {} : { error: reportError(attempt.error) }),
        ...(attempt.retryDelayMs === undefined ? {} : { retryDelayMs: attempt.retryDelayMs }),
      })),
    };
    if (outcome.status !== "ok" && outcome.status !== "cached" && outcome.error !== undefined) {
      entry.error = reportError(outcome.error, outcome.status);
      if (outcome.status === "cancelled" && this.#interrupted) entry.interrupted = true;
    }
    const cached = outcome.result?.cached;
    if (cached !== undefined) entry.cached = cached;
    const ranOn = outcome.result?.ranOn ??
      (outcome.error as { worker?: unknown } | undefined)?.worker;
    if (typeof ranOn === "string") entry.ranOn = ranOn;
    const own = this.#kinds.get(job.kind)?.report(job, outcome, { output: this.#options.output });
    return own ? Object.assign(entry, own) : entry;
  }
}

/**
 * A report's counts by status, and its bytes, for `jobs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarize } from "./model.ts";
 * const summary = summarize([{ status: "ok", bytes: 3 }, { status: "failed" }] as never);
 * assert.deepEqual([summary.total, summary.ok, summary.failed, summary.bytes], [2, 1, 1, 3]);
 * ```
 */
export function summarize(jobs: readonly ReportJob[]): ReportSummary {
  const count = (status: JobStatus) => jobs.filter((job) => job.status === status).length;
  return {
    total: jobs.length,
    ok: count("ok"),
    cached: count("cached"),
    failed: count("failed"),
    skipped: count("skipped"),
    cancelled: count("cancelled"),
    bytes: jobs.reduce((sum, job) => sum + (job.bytes ?? 0), 0),
  };
}

/** An error as the report states it. */
export function reportError(error: unknown, status?: JobStatus): ReportError {
  const code = status === "skipped" ? "SKIPPED" : errorCode(error);
  const detail = error && typeof error === "object"
    ? ("workerStack" in error && typeof error.workerStack === "string"
      ? error.workerStack
      : "stderrTail" in error && typeof error.stderrTail === "string" && error.stderrTail
      ? error.stderrTail
      : undefined)
    : undefined;
  return { message: errorMessage(error), code, ...(detail ? { detail } : {}) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The machine's name, when this process may read it. */
function hostName(): { name?: string } {
  try {
    return { name: Deno.hostname() };
  } catch {
    return {};
  }
}
