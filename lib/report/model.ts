/**
 * The JSON timing report: a builder that follows a run's events so that a valid report can be
 * written at any moment, also when the run is interrupted half-way.
 *
 * @module
 */
import { errorCode, errorMessage } from "../errors.ts";
import type { AttemptRecord, JobOutcome, JobStatus, RunEvent } from "../scheduler/events.ts";
import type { Concurrency, Job } from "../jobfile/job.ts";
import type { KindDefinition, Kinds } from "../kind_definition.ts";
import { EXIT } from "../exit_codes.ts";
import { JobLines } from "./job_lines.ts";
import { JOB_INDENT, jobLine, reportJsonFrame } from "./json.ts";
import { writeChunksAtomic, writeChunksAtomicSync } from "../util/write_atomic.ts";
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
  /**
   * A path for a file that holds the jobs' lines while the run goes (see {@linkcode JobLines}):
   * a run of millions of jobs then keeps none of them in memory. @default in memory
   */
  spool?: string;
}

/** How a run ended, for {@linkcode ReportBuilder.write}. */
export interface RunEnd {
  wallMs: number;
  /** The run was stopped (its signal aborted). @default false */
  interrupted?: boolean;
  /** The signal that stopped it, which decides the exit code (130, 143). */
  stoppedBy?: "SIGINT" | "SIGTERM" | undefined;
  peakRssBytes?: number;
  peakTotalRssBytes?: number;
  /** What the run could not save, each naming its file: the exit code is then 74. */
  unsaved?: readonly string[];
}

/**
 * A run's report as its caller gets it: every field of report.json but its jobs, which stay in
 * the file, and the jobs a summary names.
 */
export interface RunReport extends Omit<Report, "jobs"> {
  /**
   * Every job that did not succeed, and the {@linkcode SLOWEST_NAMED} slowest that did, in the
   * run's order: what the summary at the end of a run lists.
   */
  named: ReportJob[];
  /** report.json could not be written: `unsaved` says why. */
  notWritten?: true;
}

/** The successful jobs a {@linkcode RunReport} names: the slowest, as many as a summary lists. */
export const SLOWEST_NAMED = 5;

/** Job lines per piece of the report's text. */
const JOBS_PER_CHUNK = 1000;

/**
 * Collects a run's events into its report: each job's entry is made when the job finishes and kept
 * as its line of report.json (in memory, or in a spool file), with the counts and the jobs a
 * summary names, so that a valid report can be written at any moment, also when the run is
 * interrupted half-way, and a run of millions of jobs holds neither their outcomes nor the report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReportBuilder } from "./model.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const options = { file: "jobs.yaml", output: dir, concurrency: { io: 1, cpu: 1, perHost: 1 } };
 *   using builder = new ReportBuilder(options);
 *   const report = await builder.write(`${dir}/report.json`, { wallMs: 0 });
 *   assert(report.summary.total === 0 && report.exitCode === 0);
 *   const written = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
 *   assert.deepEqual(written.jobs, []);
 *   const stopped = builder.writeSync(`${dir}/report.json`, { wallMs: 5, stoppedBy: "SIGTERM" });
 *   assert.equal(stopped.exitCode, 143);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class ReportBuilder implements Disposable {
  readonly #options: ReportBuilderOptions;
  readonly #kinds: ReadonlyMap<string, KindDefinition>;
  readonly #startedAt: Date;
  #jobs: readonly Job[] = [];
  #lines: JobLines | undefined;
  /** Attempts of jobs still running, by name: a job cancelled later reports them. */
  readonly #attempts = new Map<string, AttemptRecord[]>();
  /** The outcomes of cancelled jobs, by place: their entries depend on how the run ends. */
  readonly #cancelled = new Map<number, JobOutcome>();
  /** Jobs that did not succeed (but cancelled ones), by place. */
  readonly #unsuccessful = new Map<number, ReportJob>();
  /** The slowest successful jobs so far, slowest first, with their places. */
  #slowest: [number, ReportJob][] = [];
  readonly #counts = { ok: 0, cached: 0, failed: 0, skipped: 0, bytes: 0 };

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
        this.#lines = spooled(event.jobs.length, this.#options.spool);
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
        this.#finished(event.job, event.index, event.outcome);
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

  /** Writes the report to `path` atomically, as of now, and resolves with it but its jobs. */
  async write(path: string, end: RunEnd): Promise<RunReport> {
    const { report, chunks } = this.#end(end);
    await writeChunksAtomic(path, chunks);
    return report;
  }

  /**
   * The report, as {@linkcode write} would return it, of a run whose report could not be written:
   * for its summary. `end.unsaved` should say why.
   */
  unwritten(end: RunEnd): RunReport {
    return { ...this.#end(end).report, notWritten: true };
  }

  /** {@linkcode write}, synchronously: for the last moments before an immediate exit. */
  writeSync(path: string, end: RunEnd): RunReport {
    const { report, chunks } = this.#end(end);
    writeChunksAtomicSync(path, chunks);
    return report;
  }

  [Symbol.dispose](): void {
    this.#lines?.[Symbol.dispose]();
  }

  #finished(job: Job, index: number, outcome: JobOutcome) {
    // Its outcome lists its attempts: the ones kept here are for a job that has none.
    this.#attempts.delete(job.name);
    if (outcome.status === "cancelled") {
      this.#cancelled.set(index, outcome);
      return;
    }
    const entry = this.#reportJob(job, outcome, false);
    this.#counts[entry.status as "ok"]++;
    this.#counts.bytes += entry.bytes ?? 0;
    this.#lines!.add(index, jobLine(entry));
    if (entry.status !== "ok" && entry.status !== "cached") this.#unsuccessful.set(index, entry);
    else if (entry.status === "ok" && entry.startMs !== null) this.#keepIfSlow(index, entry);
  }

  #keepIfSlow(index: number, entry: ReportJob) {
    const slowest = this.#slowest;
    if (slowest.length === SLOWEST_NAMED && slowest.at(-1)![1].durationMs >= entry.durationMs) {
      return;
    }
    slowest.push([index, entry]);
    slowest.sort((a, b) => b[1].durationMs - a[1].durationMs || a[0] - b[0]);
    if (slowest.length > SLOWEST_NAMED) slowest.pop();
  }

  /** The report as of now, but its jobs; and its text in pieces, made as they are written. */
  #end(end: RunEnd): { report: RunReport; chunks: Iterable<string | Uint8Array> } {
    const { wallMs, interrupted = false, stoppedBy, peakRssBytes = Deno.memoryUsage().rss } = end;
    const { peakTotalRssBytes = peakRssBytes } = end;
    const jobs = this.#jobs;
    this.#lines ??= new JobLines(0);
    // The jobs without a line yet (cancelled, or not finished: reported cancelled), entered now.
    const late = new Map<number, ReportJob>();
    for (const [index, outcome] of this.#cancelled) {
      late.set(index, this.#reportJob(jobs[index]!, outcome, interrupted));
    }
    for (let index = 0; index < jobs.length; index++) {
      if (this.#lines.has(index) || late.has(index)) continue;
      const job = jobs[index]!;
      const attempts = this.#attempts.get(job.name) ?? [];
      const outcome: JobOutcome = {
        status: "cancelled",
        attempts,
        readyMs: undefined,
        startMs: attempts[0]?.startMs,
        endMs: wallMs,
        result: undefined,
        error: new Error("the run ended before this job finished"),
      };
      late.set(index, this.#reportJob(job, outcome, interrupted));
    }
    const counts = this.#counts;
    const summary: ReportSummary = {
      total: jobs.length,
      ok: counts.ok,
      cached: counts.cached,
      failed: counts.failed,
      skipped: counts.skipped,
      cancelled: late.size,
      bytes: counts.bytes,
    };
    for (const entry of late.values()) summary.bytes += entry.bytes ?? 0;
    const succeeded = summary.ok + summary.cached;
    const unsaved = end.unsaved ?? [];
    const exitCode = stoppedBy === "SIGTERM"
      ? EXIT.sigterm
      : stoppedBy === "SIGINT"
      ? EXIT.sigint
      : unsaved.length > 0
      ? EXIT.notSaved
      : succeeded === jobs.length
      ? EXIT.ok
      : EXIT.jobsFailed;
    const rest: Omit<Report, "jobs"> = {
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
      ...(unsaved.length > 0 ? { unsaved: [...unsaved] } : {}),
      summary,
    };
    const named = new Map([...this.#unsuccessful, ...late, ...this.#slowest]);
    const report: RunReport = {
      ...rest,
      named: [...named].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry),
    };
    return { report, chunks: this.#chunks(rest, late) };
  }

  /** report.json's text: the lines kept, and those of `late`, in the jobs' order. */
  *#chunks(
    rest: Omit<Report, "jobs">,
    late: ReadonlyMap<number, ReportJob>,
  ): Generator<string | Uint8Array> {
    const { before, after } = reportJsonFrame(rest);
    const count = this.#jobs.length;
    if (count === 0) {
      yield `${before}[]${after}`;
      return;
    }
    yield `${before}[\n${JOB_INDENT}`;
    const lines = this.#lines!;
    for (let start = 0; start < count; start += JOBS_PER_CHUNK) {
      const end = Math.min(count, start + JOBS_PER_CHUNK);
      const { bytes, missing } = lines.read(start, end, JOB_INDENT);
      // The late ones, in their places among the kept (rare: a run that was stopped).
      if (missing.length === 0) yield bytes;
      else yield this.#merged(start, end, bytes, late);
      yield end === count ? "\n  ]" : `,\n${JOB_INDENT}`;
    }
    yield after;
  }

  /** The lines of the jobs from `start` to `end`: those kept (`kept`, joined) with `late`'s. */
  #merged(start: number, end: number, kept: Uint8Array, late: ReadonlyMap<number, ReportJob>) {
    const keptLines = kept.byteLength === 0
      ? []
      : new TextDecoder().decode(kept).split(`,\n${JOB_INDENT}`);
    const lines: string[] = [];
    let next = 0;
    for (let index = start; index < end; index++) {
      const entry = late.get(index);
      lines.push(entry ? jobLine(entry) : keptLines[next++]!);
    }
    return lines.join(`,\n${JOB_INDENT}`);
  }

  #reportJob(job: Job, outcome: JobOutcome, interrupted: boolean): ReportJob {
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
      if (outcome.status === "cancelled" && interrupted) entry.interrupted = true;
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

/** Job lines in the file `spool`, or in memory where that file cannot be made. */
function spooled(count: number, spool: string | undefined): JobLines {
  if (spool === undefined) return new JobLines(count);
  try {
    return new JobLines(count, spool);
  } catch {
    return new JobLines(count);
  }
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
