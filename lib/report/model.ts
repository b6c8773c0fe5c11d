/**
 * The JSON timing report: its shape, and a builder that follows a run's events so a valid
 * report can be produced at any moment, also when the run is interrupted half-way.
 *
 * @module
 */
import { relative } from "node:path";
import { errorCode, errorMessage } from "../errors.ts";
import type { AttemptRecord, JobOutcome, JobStatus, RunEvent } from "../scheduler/events.ts";
import { redactHeaders, redactUrl } from "../util/secrets.ts";
import type { Concurrency, Job, JobKindName } from "../jobfile/job.ts";
import type { Mode, ResolvedMode } from "../run/modes.ts";

/** The report format version; bumped only on an incompatible change. */
export const REPORT_VERSION = 1;

/** A failure as the report states it. */
export interface ReportError {
  message: string;
  /** Stable code: `HTTP_503`, `TIMEOUT`, `EXIT_CODE`, `COMPUTE`, `SKIPPED`, ... */
  code: string;
  /** The Worker's stack (compute) or the last lines of stderr (run). */
  detail?: string;
}

/** One attempt as the report states it. */
export interface ReportAttempt {
  lane: string;
  startMs: number;
  endMs: number;
  error?: ReportError;
  /** The wait before the next attempt (back-off or the server's Retry-After). */
  retryDelayMs?: number;
}

/** One expanded job in the report. */
export interface ReportJob {
  name: string;
  /** The job-file entry it came from (differs from name for fan-out members). */
  group: string;
  kind: JobKindName;
  status: JobStatus;
  attempts: number;
  /** Waiting for a slot after becoming ready; null if it never became ready. */
  queuedMs: number | null;
  /** Since run start; null if it never started. */
  startMs: number | null;
  endMs: number;
  durationMs: number;
  /** The pool slot of the last attempt, such as `io-3`. */
  lane: string | null;
  attemptLog: ReportAttempt[];
  error?: ReportError;
  /** Cancelled because the run was interrupted (SIGINT, SIGTERM): a rerun should do it. */
  interrupted?: true;
  // download
  /** The URL, with any password hidden. */
  url?: string;
  path?: string;
  /** Bytes received over the network (0 when cached; the rest when resumed). */
  bytes?: number;
  /** Size of the file on disk. */
  size?: number;
  sha256?: string;
  /**
   * Why nothing was done: the checksum matched, the server said 304 (downloads), or the job,
   * its inputs and its outputs are as they were at its last success (`unchanged`).
   */
  cached?: "checksum" | "not-modified" | "unchanged";
  /** Bytes kept from an earlier attempt that the final one resumed from. */
  resumedFrom?: number;
  /** Redirects followed, in order. */
  redirects?: string[];
  /** The request headers, secret-looking values shown as ***. */
  headers?: Record<string, string>;
  // compute
  /** Where it ran: `worker`, `process`, or `main` (taskpool's main thread, in the sequential
   * and async modes). */
  isolation?: "worker" | "process" | "thread" | "main";
  /** The Worker that ran it (isolation worker). */
  worker?: number;
  /** The host process that ran it (isolation process). */
  pid?: number;
  result?: unknown;
  // run
  exitCode?: number;
  log?: string;
}

/** Counts by status. */
export interface ReportSummary {
  total: number;
  ok: number;
  /** Jobs with nothing to do: the file on disk was current. */
  cached: number;
  failed: number;
  skipped: number;
  cancelled: number;
  /** Bytes downloaded. */
  bytes: number;
}

/** The whole report. */
export interface Report {
  version: typeof REPORT_VERSION;
  file: string;
  output: string;
  startedAt: string;
  wallMs: number;
  exitCode: number;
  interrupted: boolean;
  /** The highest resident memory of the taskpool process seen during the run (sampled). */
  peakRssBytes: number;
  /**
   * The highest resident memory of taskpool with its Worker and process hosts (sampled; a host's
   * figure is the latest it sent). Commands that `run` jobs start are not counted.
   */
  peakTotalRssBytes: number;
  /** The pool limits the run used (its mode's). */
  concurrency: Concurrency;
  /** The concurrency mode: asked for, used (`auto` resolved), and why. */
  mode: ReportMode;
  host: { cores: number; deno: string; v8: string; os: string; arch: string };
  summary: ReportSummary;
  jobs: ReportJob[];
}

/** The concurrency mode of a run, as reported. */
export interface ReportMode {
  requested: Mode;
  used: ResolvedMode;
  why: string;
}

/** Options for {@linkcode ReportBuilder}. */
export interface ReportBuilderOptions {
  file: string;
  output: string;
  concurrency: Concurrency;
  /** @default auto, as workers */
  mode?: ReportMode;
  /** Wall-clock start. @default new Date() */
  startedAt?: Date;
}

/**
 * Collects a run's events into a {@linkcode Report}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReportBuilder } from "./model.ts";
 * const builder = new ReportBuilder({ file: "jobs.yaml", output: "/tmp/out", concurrency: { io: 1, cpu: 1, perHost: 1 } });
 * const report = builder.build({ wallMs: 0, exitCode: 0 });
 * assert(report.summary.total === 0);
 * ```
 */
export class ReportBuilder {
  readonly #options: ReportBuilderOptions;
  readonly #startedAt: Date;
  #jobs: readonly Job[] = [];
  readonly #outcomes = new Map<string, JobOutcome>();
  readonly #attempts = new Map<string, AttemptRecord[]>();
  #interrupted = false;

  constructor(options: ReportBuilderOptions) {
    this.#options = options;
    this.#startedAt = options.startedAt ?? new Date();
  }

  /** Feeds one event; pass this method as a run's listener. */
  handle = (event: RunEvent): void => {
    switch (event.type) {
      case "run-started":
        this.#jobs = event.jobs;
        break;
      case "job-started": {
        const list = this.#attempts.get(event.job.name) ?? [];
        list.push({ startMs: event.at, endMs: event.at, lane: event.lane });
        this.#attempts.set(event.job.name, list);
        break;
      }
      case "job-finished":
        this.#outcomes.set(event.job.name, event.outcome);
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

  /** The report as of now; jobs without an outcome are reported cancelled. */
  build(
    options: {
      wallMs: number;
      exitCode: number;
      interrupted?: boolean;
      peakRssBytes?: number;
      peakTotalRssBytes?: number;
    },
  ): Report {
    const { wallMs, exitCode, interrupted = false, peakRssBytes = Deno.memoryUsage().rss } =
      options;
    const { peakTotalRssBytes = peakRssBytes } = options;
    this.#interrupted = interrupted;
    const jobs = this.#jobs.map((job) => this.#reportJob(job, wallMs));
    const count = (status: JobStatus) => jobs.filter((job) => job.status === status).length;
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
      },
      summary: {
        total: jobs.length,
        ok: count("ok"),
        cached: count("cached"),
        failed: count("failed"),
        skipped: count("skipped"),
        cancelled: count("cancelled"),
        bytes: jobs.reduce((sum, job) => sum + (job.kind === "download" ? job.bytes ?? 0 : 0), 0),
      },
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
    const result = outcome.result;
    if (result?.cached !== undefined) entry.cached = result.cached;
    switch (job.kind) {
      case "download":
        entry.url = redactUrl(job.url);
        entry.path = job.relativePath;
        if (result?.bytes !== undefined) entry.bytes = result.bytes;
        if (result?.size !== undefined) entry.size = result.size;
        if (result?.sha256 !== undefined) entry.sha256 = result.sha256;
        if (result?.resumedFrom !== undefined) entry.resumedFrom = result.resumedFrom;
        if (result?.redirects?.length) entry.redirects = result.redirects;
        if (Object.keys(job.headers).length > 0) entry.headers = redactHeaders(job.headers);
        break;
      case "compute":
        entry.isolation = result?.isolation ?? job.isolation;
        if (result?.worker !== undefined) entry.worker = result.worker;
        if (result?.pid !== undefined) entry.pid = result.pid;
        if (outcome.status === "ok" || outcome.status === "cached") {
          entry.result = result?.result ?? null;
        }
        break;
      case "run":
        entry.log = relative(this.#options.output, job.logPath);
        if (result?.exitCode !== undefined) entry.exitCode = result.exitCode;
        else if (
          outcome.error && typeof outcome.error === "object" && "exitCode" in outcome.error
        ) {
          entry.exitCode = outcome.error.exitCode as number;
        }
        break;
      default:
        job satisfies never;
    }
    return entry;
  }
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
