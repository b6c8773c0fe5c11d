/**
 * One run of a plan: the pools and job kinds are set up, the scheduler runs the jobs, the
 * report is built from the events and written atomically, whatever happened, and every
 * resource is released.
 *
 * @module
 */
import type { RunEventListener } from "./events.ts";
import type { Plan } from "./job.ts";
import { WorkerPool } from "./pools/worker_pool.ts";
import { type Report, ReportBuilder } from "./report/model.ts";
import { writeTextFileAtomic } from "./report/write_atomic.ts";
import { runJobs } from "./scheduler.ts";
import { createKinds } from "../tasks/mod.ts";

/** Options for {@linkcode runPlan}. */
export interface RunPlanOptions {
  /** Aborting it cancels the run (SIGINT, SIGTERM). */
  signal?: AbortSignal;
  /** Stop at the first failure. @default false */
  failFast?: boolean;
  /** Receives every event (progress display). */
  onEvent?: RunEventListener;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
  /** Time between SIGTERM and SIGKILL for run jobs. */
  killGraceMs?: number;
}

/** Exit codes a run can end with. */
export const EXIT = { ok: 0, jobsFailed: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/**
 * Runs a plan and writes its report; resolves with the report (also on job failures).
 * Rejects only when the report itself cannot be written.
 */
export async function runPlan(plan: Plan, options: RunPlanOptions = {}): Promise<Report> {
  const { signal, failFast = false, onEvent, now = () => performance.now(), killGraceMs } = options;
  const builder = new ReportBuilder({
    file: plan.file,
    output: plan.output,
    concurrency: plan.concurrency,
  });
  const workers = new WorkerPool({ size: plan.concurrency.cpu });
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: plan.concurrency.io });
  const started = now();
  try {
    await Deno.mkdir(plan.output, { recursive: true });
    await runJobs(plan.jobs, {
      kinds: createKinds({
        output: plan.output,
        workers,
        client,
        ...(killGraceMs !== undefined ? { killGraceMs } : {}),
      }),
      limits: plan.concurrency,
      ...(signal ? { signal } : {}),
      failFast,
      now,
      onEvent: (event) => {
        builder.handle(event);
        onEvent?.(event);
      },
    });
  } finally {
    workers.close();
    client.close();
  }
  const interrupted = signal?.aborted ?? false;
  const draft = builder.build({ wallMs: now() - started, exitCode: 0, interrupted });
  const report = { ...draft, exitCode: exitCodeOf(draft, signal) };
  await writeTextFileAtomic(plan.report, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** 0 when every job succeeded, 130/143 when interrupted, 1 otherwise. */
export function exitCodeOf(report: Report, signal?: AbortSignal): number {
  const reason = signal?.aborted ? signal.reason : undefined;
  if (reason && typeof reason === "object" && "signal" in reason) {
    return reason.signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
  }
  return report.summary.ok === report.summary.total ? EXIT.ok : EXIT.jobsFailed;
}
