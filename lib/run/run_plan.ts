/**
 * One run of a plan: the pools and job kinds are set up, the scheduler runs the jobs, the
 * report is built from the events and written atomically, whatever happened, and every
 * resource is released.
 *
 * @module
 */
import type { HttpTransport } from "../http/transport.ts";
import type { RunEventListener } from "../scheduler/events.ts";
import type { Plan } from "../jobfile/job.ts";
import { type Mode, settingsFor } from "./modes.ts";
import { ReportBuilder, type RunReport } from "../report/model.ts";
import { dirname } from "../util/posix_path.ts";
import { temporaryBeside } from "../util/write_atomic.ts";
import { onHardExit } from "../util/exit_hooks.ts";
import { errorMessage, InterruptedError } from "../errors.ts";
import type { TimelinePaths } from "../report/outputs.ts";
import { scheduleJobs } from "../scheduler/scheduler.ts";
import type { JobKind } from "../scheduler/kind.ts";
import { JobCache } from "../incremental/job_cache.ts";
import { withJobCache } from "../incremental/cached_kind.ts";
import type { ComputePools, Kinds, RunResources } from "../kind_definition.ts";

/** Options for {@linkcode runPlan}. */
export interface RunPlanOptions {
  /** The job kinds the plan's jobs are of (`KINDS` of `tasks/mod.ts`). */
  kinds: Kinds;
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
  /** Download again even what is on disk and current (`--force`). @default false */
  force?: boolean;
  /** How to run it (`--mode`). @default "auto" */
  mode?: Mode;
  /** Also write the run's timeline (`--trace`, `--html`) after its report. @default none */
  timelines?: TimelinePaths;
  /**
   * Run the jobs elsewhere (a distributed run's workers): these kinds, by name, take the place
   * of the local ones, and the pools' limits are the workers' business. @default run here
   */
  remoteKinds?: ReadonlyMap<string, JobKind>;
}

/**
 * The scheduler's limits when the jobs run on workers: more than any set of workers takes at
 * once, so that none waits, yet a plan of millions is not all put in Redis at the start.
 */
const REMOTE_LIMITS = { io: 10_000, cpu: 10_000 };

/**
 * Compute tasks each Worker host holds queued per thread: enough that its threads never run dry
 * of tiny tasks between two round trips to it, and that taskpool tops them up in large batches
 * (`deno task bench cpu` measures tiny jobs). A task queued behind a stuck or long one is taken
 * by an idle thread, or moved to a fresh host.
 */
const WORKER_TASKS_AHEAD = 512;

/**
 * Runs a plan and writes its outputs, the report then any timeline asked for, with the exit code
 * the run ends with; resolves with the report but its jobs, which are in the file (also on job
 * failures). Rejects only when an output cannot be written.
 */
export async function runPlan(plan: Plan, options: RunPlanOptions): Promise<RunReport> {
  const {
    kinds,
    signal,
    failFast = false,
    onEvent,
    now = () => performance.now(),
    killGraceMs,
    force = false,
    mode = "auto",
    timelines = {},
  } = options;
  const settings = settingsFor(mode, plan, kinds);
  const { limits } = settings;
  // The report's folder first: the jobs' lines wait in a file there while the run goes.
  await Deno.mkdir(dirname(plan.report), { recursive: true });
  using builder = new ReportBuilder({
    spool: temporaryBeside(plan.report, "jobs"),
    file: plan.file,
    output: plan.output,
    concurrency: limits,
    mode: {
      requested: settings.requested,
      used: settings.used,
      why: options.remoteKinds
        ? "a distributed run: each job on a worker, with the worker's pools"
        : settings.why,
    },
    kinds,
    shard: plan.shard,
  });
  let pools: Promise<ComputePools> | undefined;
  let startedPools: ComputePools | undefined;
  const memory = new PeakMemory(() =>
    startedPools ? startedPools.workers.rssBytes + startedPools.processes.rssBytes : 0
  );
  // No more threads or host processes than the cpu jobs that could use them: a Worker host starts
  // its threads at once, and `--cpu 1000` for four jobs would start a thousand.
  const cpuKinds = new Set(kinds.filter((kind) => kind.pool === "cpu").map((kind) => kind.name));
  const cpuJobs = plan.jobs.reduce((sum, job) => sum + (cpuKinds.has(job.kind) ? 1 : 0), 0);
  const computePools = () =>
    pools ??= startComputePools(Math.max(1, Math.min(limits.cpu, cpuJobs))).then((made) => {
      memory.watch(); // the hosts' figures change between the run's events
      return startedPools = made;
    });
  // Made by the first kind that asks (downloads): a run without them loads no HTTP client.
  let http: HttpTransport | undefined;
  let httpMade: Promise<HttpTransport> | undefined;
  const httpTransport = () =>
    httpMade ??= import("../http/transport.ts").then(({ HttpTransport }) =>
      http = new HttpTransport({
        maxIdlePerOrigin: limits.io,
        ...(plan.tls ? { caCerts: plan.tls.caCerts } : {}),
      })
    );
  const started = now();
  // What could not be saved (a full disk): the run still ends with its report and summary.
  const unsaved: string[] = [];
  const saving = async (save: () => unknown) => {
    try {
      await save();
    } catch (error) {
      unsaved.push(errorMessage(error));
    }
  };
  const end = () => ({
    wallMs: now() - started,
    interrupted: signal?.aborted ?? false,
    stoppedBy: stoppingSignal(signal),
    peakRssBytes: memory.peak,
    peakTotalRssBytes: memory.peakTotal,
    unsaved,
  });
  // Exiting at once (a second Ctrl-C) still leaves the report, as the run stood.
  using _lastWords = onHardExit(() => builder.writeSync(plan.report, end()));
  const running = new Map<string, JobKind>();
  let jobCache: JobCache | undefined;
  let taken: Promise<(path: string) => string | undefined> | undefined;
  try {
    await Deno.mkdir(plan.output, { recursive: true });
    const cache = jobCache = await JobCache.load(plan.output);
    const resources: RunResources = {
      output: plan.output,
      computePools,
      httpTransport,
      perHost: limits.perHost,
      bandwidth: limits.bandwidth,
      perHostBandwidth: limits.perHostBandwidth,
      perHostIntervalMs: limits.perHostIntervalMs,
      force,
      killGraceMs,
      cpuPlace: settings.cpuPlace,
      oneAtATime: settings.oneAtATime,
      // Only a download named by its server asks: the rules load, and list the jobs' files, then.
      fileTaken: (path) =>
        (taken ??= import("../jobfile/targets.ts").then((it) => it.takenInRun(plan, kinds)))
          .then((of) => of(path)),
    };
    // Only the kinds the plan has jobs of are set up: each loads its own modules.
    const used = new Set(plan.jobs.map((job) => job.kind));
    await Promise.all(
      kinds.filter((kind) => used.has(kind.name)).map(async (kind) => {
        const remote = options.remoteKinds?.get(kind.name);
        if (remote) {
          running.set(kind.name, remote);
          return;
        }
        const created: JobKind = await kind.create(resources);
        // Jobs of a kind that may be incremental run behind the job cache (jobs with files only).
        running.set(
          kind.name,
          kind.entryRules?.incremental === undefined
            ? withJobCache(created, {
              cache,
              force,
              ...(kind.definitionFiles ? { definitionFiles: kind.definitionFiles } : {}),
            })
            : created,
        );
      }),
    );
    await scheduleJobs(plan.jobs, {
      kinds: running,
      limits: options.remoteKinds ? { ...limits, ...REMOTE_LIMITS } : limits,
      ...(signal ? { signal } : {}),
      failFast,
      now,
      transfers: kinds.filter((kind) => kind.transfers).map((kind) => kind.name),
      onEvent: (event) => {
        memory.tick(event.at);
        builder.handle(event);
        onEvent?.(event);
      },
    });
  } finally {
    memory.stop();
    const made = await pools?.catch(() => undefined);
    await made?.workers.close();
    await made?.processes.close();
    http?.close();
    // Saves what downloads learnt (validators, kept parts), also after an interrupt.
    await Promise.all([...running.values()].map((kind) => saving(() => kind.close?.())));
    if (jobCache) await saving(() => jobCache!.save());
  }
  let report: RunReport;
  try {
    // In pieces: a report of many jobs is never one string, nor its bytes.
    report = await builder.write(plan.report, end());
  } catch (error) {
    unsaved.push(errorMessage(error));
    return builder.unwritten(end());
  }
  if (timelines.trace !== undefined || timelines.html !== undefined) {
    // Loaded only when asked for (--trace, --html), and the report read back whole for them.
    const [{ writeTimelines }, { runsOf }, { readReport }] = await Promise.all([
      import("../report/outputs.ts"),
      import("../report/merge.ts"),
      import("../report/read.ts"),
    ]);
    const whole = await readReport(plan.report);
    await writeTimelines(
      timelines,
      runsOf(whole),
      `taskpool run of ${plan.file}`,
      kinds.map((kind) => kind.name),
    );
  }
  return report;
}

/** How often a run's memory is sampled, in ms. */
const SAMPLE_MS = 50;

/** The compute pools of a run whose CPU limit is `size`; their modules loaded now. */
async function startComputePools(size: number): Promise<ComputePools> {
  const [{ WorkerPool }, { ProcessPool }] = await Promise.all([
    import("../pools/worker/worker_pool.ts"),
    import("../pools/process/process_pool.ts"),
  ]);
  return {
    workers: new WorkerPool({ size, aheadPerThread: WORKER_TASKS_AHEAD }),
    processes: new ProcessPool({ size }),
  };
}

/** The signal (SIGINT, SIGTERM) whose interrupt aborted `signal`, if that is what stopped it. */
function stoppingSignal(signal: AbortSignal | undefined): "SIGINT" | "SIGTERM" | undefined {
  const reason = signal?.aborted ? signal.reason : undefined;
  return reason instanceof InterruptedError ? reason.signal : undefined;
}

/**
 * Samples resident memory while a run goes, keeping the peaks: taskpool's process alone, and
 * with the host processes `others` reports (their latest figures). It samples at the run's
 * events, at most every {@linkcode SAMPLE_MS}, and on a timer too once compute hosts run. A run
 * with none starts no timer: Deno's timers are Node's, and the first costs a process some 10 ms.
 */
class PeakMemory {
  peak = Deno.memoryUsage().rss;
  peakTotal = this.peak;
  readonly #others: () => number;
  #last = -Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(others: () => number) {
    this.#others = others;
  }

  /** At an event of the run, at `now` (ms): samples if the last sample is old enough. */
  tick(now: number) {
    if (now - this.#last < SAMPLE_MS) return;
    this.#last = now;
    this.#sample();
  }

  /** Samples every {@linkcode SAMPLE_MS} from now on. */
  watch() {
    this.#timer ??= setInterval(() => this.#sample(), SAMPLE_MS);
  }

  stop() {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#sample();
  }

  #sample() {
    const own = Deno.memoryUsage().rss;
    this.peak = Math.max(this.peak, own);
    this.peakTotal = Math.max(this.peakTotal, own + this.#others());
  }
}
