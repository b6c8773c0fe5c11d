/**
 * Runs a plan for a person or a script: progress on stderr, the run cancelled cleanly on
 * SIGINT/SIGTERM, the summary (or `--json`) on stdout, and the exit code returned.
 *
 * @module
 */
import type { Plan } from "../jobfile/job.ts";
import { createProgress } from "../progress/mod.ts";
import { formatSummary } from "../report/summary.ts";
import { runPlan } from "../run/run_plan.ts";
import { pruneReports } from "../report/history.ts";
import { listenForInterrupts } from "./interrupts.ts";
import { lockOutput } from "./output_lock.ts";
import type { TimelinePaths } from "../report/outputs.ts";
import type { CliIo } from "./io.ts";
import type { Mode } from "../run/modes.ts";
import type { Kinds } from "../kind_definition.ts";
import { ownFileUrl } from "../util/own_files.ts";

/** Options for {@linkcode executePlan}. */
export interface ExecuteOptions {
  /** The job kinds of the plan. */
  kinds: Kinds;
  failFast?: boolean;
  /** Download again even files that are up to date. */
  force?: boolean;
  /** Only failures and the summary. */
  quiet?: boolean;
  /** The summary as one JSON object on stdout. */
  json?: boolean;
  /** The concurrency mode. @default "auto" */
  mode?: Mode;
  /** Also write the run's timeline (`--trace`, `--html`). */
  timelines?: TimelinePaths;
  /** What the output folder's lock records as its holder. @default "taskpool run FILE" */
  command?: string;
  /** How long to wait for another run's lock on the output folder, in ms. @default 0 */
  waitLockMs?: number;
  /** Keep only this many reports matching `plan.reportPattern` (`--keep-reports`). */
  keepReports?: number;
  /** Run the jobs on the workers of this Redis (`--redis URL`), with the job file's folder. */
  redis?: { url: string; baseDir: string } | undefined;
}

/**
 * The distributed run's coordinator module (BullMQ and ioredis: large). Imported by a URL that a
 * bundler cannot follow, so the one-file bundle keeps it as a file of its own beside it
 * (`deno task bundle`) and every other run stays as lean as before.
 */
export function loadCoordinator(): Promise<typeof import("../distributed/coordinator.ts")> {
  return import(ownFileUrl("lib/distributed/coordinator.ts").href);
}

/** Runs `plan` with progress and a summary; resolves with the exit code. */
export async function executePlan(
  plan: Plan,
  io: CliIo,
  options: ExecuteOptions,
): Promise<number> {
  const { failFast = false, force = false, quiet = false, json = false, mode = "auto" } = options;
  using interrupts = listenForInterrupts(io);
  await using _lock = await lockOutput(plan.output, io, {
    command: options.command ?? `taskpool run ${plan.file}`,
    waitMs: options.waitLockMs ?? 0,
    signal: interrupts.signal,
  });

  const progress = createProgress({
    write: io.stderr,
    tty: io.stderrIsTty,
    quiet,
    color: io.color,
    ...(io.columns ? { columns: io.columns } : {}),
    bandwidthLimit: plan.concurrency.bandwidth,
    statusLines: () => workerLines?.() ?? [],
  });
  // A distributed run's workers, once it has them.
  let workerLines: (() => string[]) | undefined;
  interrupts.sayThrough(progress.note);
  try {
    const timelines = options.timelines ?? {};
    // A distributed run: loaded only when asked for (BullMQ and ioredis are large).
    const coordinator = options.redis &&
      await (await loadCoordinator()).openCoordinator(plan, {
        redis: options.redis.url,
        baseDir: options.redis.baseDir,
        kinds: options.kinds,
        log: (line) => progress.note(`${line}\n`),
      });
    workerLines = coordinator?.status;
    let report;
    try {
      report = await runPlan(plan, {
        kinds: options.kinds,
        timelines,
        signal: interrupts.signal,
        failFast,
        force,
        mode,
        onEvent: progress.handle,
        ...(coordinator ? { remoteKinds: coordinator.kinds } : {}),
      });
    } finally {
      // A run that ended (not one interrupted) is never picked up again.
      await coordinator?.close(report !== undefined && !report.interrupted);
    }
    progress.close();
    if (coordinator && !quiet) {
      const counts = [...coordinator.workers].map(([worker, jobs]) => `${worker} ${jobs}`);
      io.stderr(`taskpool: run ${coordinator.run} on ${counts.join(", ") || "no worker"}\n`);
    }
    for (const path of [timelines.trace, timelines.html]) {
      if (path) io.stderr(`taskpool: timeline written to ${path}\n`);
    }
    if (options.keepReports !== undefined && plan.reportPattern !== undefined) {
      const removed = await pruneReports(plan.reportPattern, options.keepReports);
      if (removed.length > 0 && !quiet) {
        io.stderr(`taskpool: removed ${removed.length} old report(s) (--keep-reports)\n`);
      }
    }
    if (json) {
      io.stdout(`${
        JSON.stringify({
          exitCode: report.exitCode,
          wallMs: report.wallMs,
          interrupted: report.interrupted,
          mode: report.mode.used,
          summary: report.summary,
          report: report.notWritten ? null : plan.report,
          output: plan.output,
          failures: report.named
            .filter((job) => job.status === "failed")
            .map((job) => ({ name: job.name, error: job.error })),
          ...(report.unsaved ? { unsaved: report.unsaved } : {}),
        })
      }\n`);
    } else {
      const named = { ...report, jobs: report.named };
      const reportPath = report.notWritten ? undefined : plan.report;
      io.stdout(
        `${formatSummary(named, { color: io.color, ...(reportPath ? { reportPath } : {}) })}\n`,
      );
    }
    for (const message of report.unsaved ?? []) io.stderr(`taskpool: not saved: ${message}\n`);
    return report.exitCode;
  } finally {
    progress.close();
  }
}
