/**
 * `taskpool compare FILE`: run a job file in each concurrency mode and print the times side by
 * side; `compare.json` keeps every run's summary.
 *
 * @module
 */
import { resolve } from "../util/posix_path.ts";
import { compareModes, type Comparison } from "../compare/compare.ts";
import { formatComparison } from "../compare/table.ts";
import { formatDuration } from "../util/format.ts";
import type { RunEvent } from "../scheduler/events.ts";
import type { Plan } from "../jobfile/job.ts";
import { createProgress, type Progress } from "../progress/mod.ts";
import type { Mode } from "../run/modes.ts";
import { EXIT } from "../exit_codes.ts";
import { writeTextFileAtomic } from "../util/write_atomic.ts";
import { loadPlan, type LoadPlanOptions } from "../jobfile/mod.ts";
import { modesArg, onePositional, parseCommandArgs, positiveInteger, rateArg } from "./args.ts";
import { listenForInterrupts } from "./interrupts.ts";
import { lockOutput } from "./output_lock.ts";
import { checkTimelinePaths, TIMELINE_FLAGS, TIMELINE_HELP } from "./timelines.ts";
import { takenInRun } from "../jobfile/targets.ts";
import { type TimelinePaths, writeTimelines } from "../report/outputs.ts";
import { type CliIo, readStdin } from "./io.ts";
import type { Command, Prepared } from "./command.ts";
import type { Kinds } from "../kind_definition.ts";
import { grantsFor } from "./grants_for.ts";
import { SETTINGS_FLAGS, SETTINGS_HELP, settingsFrom } from "./settings_flags.ts";
import { WAIT_LOCK_FLAG, WAIT_LOCK_HELP, waitLockMs } from "./wait_lock.ts";

/** The modes compared unless `--modes` says otherwise. */
export const COMPARED_MODES: Mode[] = ["sequential", "async", "workers", "processes"];

/** Help text of `taskpool compare`. */
export const COMPARE_HELP = `Usage: taskpool compare FILE [options]

Runs the job file once per mode (each into a fresh folder under OUTPUT/compare, nothing cached),
the modes in turn on each round, and prints per mode: median wall time, min-max, time spent
downloading and computing, speedup against sequential, and peak memory. Writes
OUTPUT/compare/compare.json with every run's summary.

Options:
      --modes LIST       modes to compare, in order (default ${COMPARED_MODES.join(",")});
                         also auto
  -n, --repeat N         runs per mode (default 1); the median is reported
  -o, --output DIR       compare under DIR/compare instead of the file's output
  -j, --concurrency N    downloads in flight (concurrency.io) in the concurrent modes
      --cpu N            compute and run jobs at once in workers and processes
      --limit-rate RATE  all downloads together at most RATE, such as 4MiB/s
      --json             print compare.json on stdout instead of the table
${TIMELINE_HELP}
                         (every run, stacked on one time axis)
${WAIT_LOCK_HELP}
${SETTINGS_HELP}
`;

/** `taskpool compare`. */
export const COMPARE: Command = { help: COMPARE_HELP, prepare: prepareCompare };

/** Checks `taskpool compare`'s arguments and job file and expands it. */
async function prepareCompare(
  args: string[],
  io: CliIo,
  kinds: Kinds,
  handoff?: unknown,
): Promise<Prepared> {
  const { values, positionals } = parseCommandArgs(args, {
    modes: { type: "string" },
    repeat: { type: "string", short: "n" },
    output: { type: "string", short: "o" },
    concurrency: { type: "string", short: "j" },
    cpu: { type: "string" },
    "limit-rate": { type: "string" },
    json: { type: "boolean" },
    ...TIMELINE_FLAGS,
    ...WAIT_LOCK_FLAG,
    ...SETTINGS_FLAGS,
  });
  const file = onePositional("compare", positionals, "job file");
  // A child gets the job file read from stdin from its launcher; each mode's run loads it again.
  const given = (handoff as { stdinText?: string } | undefined)?.stdinText;
  const stdinText = file !== "-" ? undefined : given ?? await readStdin();
  const { settings, env, envNames, envFiles } = await settingsFrom(values);
  const options = (): LoadPlanOptions =>
    stdinText === undefined
      ? { kinds, settings, env }
      : { kinds, settings, env, stdin: new Blob([stdinText]).stream() };
  const overrides = {
    output: values.output,
    io: positiveInteger("--concurrency", values.concurrency),
    cpu: positiveInteger("--cpu", values.cpu),
    bandwidth: rateArg(values["limit-rate"]),
  };
  const plan = await loadPlan(file, { ...options(), overrides });
  // As for `run`: downloads at once within the open files (ulimit -n); the launcher asks, and
  // hands its answer to the child.
  const handedIo = (handoff as { io?: number } | undefined)?.io;
  if (handedIo !== undefined) overrides.io = plan.concurrency.io = handedIo;
  else if (plan.concurrency.io > 64) {
    const { fitDownloadsToOpenFiles } = await import("./open_files.ts");
    const note = fitDownloadsToOpenFiles(plan, kinds);
    if (note !== undefined) {
      io.stderr(`taskpool: ${note}\n`);
      overrides.io = plan.concurrency.io;
    }
  }
  const takenByRun = takenInRun(plan, kinds, { modules: true });
  const takenByRecord = takenByComparison(plan.output);
  checkTimelinePaths(values, (path) => takenByRun(path) ?? takenByRecord(path));
  const flags = comparisonFlags(values);
  return {
    grants: () => grantsFor(kinds, plan, values, { envNames, envFiles }),
    handoff: { stdinText, io: overrides.io },
    execute: () =>
      executeComparison({
        plan,
        io,
        kinds,
        ...flags,
        loadRunPlan: (output) =>
          loadPlan(file, {
            ...options(),
            overrides: { ...overrides, output, report: `${output}/report.json` },
          }),
      }),
  };
}

/**
 * What a path is to a comparison that writes under `output`, if it writes there: its record
 * (`compare/compare.json`), or a place in one of the run folders it empties before each run
 * (`compare/workers-1/...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { takenByComparison } from "./compare.ts";
 * const taken = takenByComparison("/srv/out");
 * assert.match(taken("/srv/out/compare/compare.json")!, /record/);
 * assert.match(taken("/srv/out/compare/async-2/t.html")!, /empties/);
 * assert.equal(taken("/srv/out/compare/timeline.html"), undefined);
 * ```
 */
export function takenByComparison(output: string): (path: string) => string | undefined {
  const folder = resolve(output, "compare");
  return (path) => {
    if (path === `${folder}/compare.json`) return "is where the comparison writes its record";
    if (!path.startsWith(`${folder}/`)) return undefined;
    const [runFolder = ""] = path.slice(folder.length + 1).split("/");
    return /^[a-z]+-\d+$/.test(runFolder)
      ? `is in ${folder}/${runFolder}, a run folder the comparison empties before its run`
      : undefined;
  };
}

/** The flags `compare` and `demo` share, as {@linkcode executeComparison} options. */
export function comparisonFlags(
  values: {
    modes?: string;
    repeat?: string;
    json?: boolean;
    trace?: string;
    html?: string;
    "wait-lock"?: string;
  },
): Pick<ExecuteComparisonOptions, "modes" | "repeat" | "json" | "timelines" | "waitLockMs"> {
  return {
    waitLockMs: waitLockMs(values["wait-lock"]),
    modes: values.modes === undefined ? COMPARED_MODES : modesArg(values.modes),
    repeat: positiveInteger("--repeat", values.repeat) ?? 1,
    json: values.json ?? false,
    timelines: { trace: values.trace, html: values.html },
  };
}

/** Options for {@linkcode executeComparison}. */
export interface ExecuteComparisonOptions {
  /** The job file's plan as given (its output folder holds the comparison). */
  plan: Plan;
  io: CliIo;
  /** The job kinds of the plan. */
  kinds: Kinds;
  modes: Mode[];
  repeat: number;
  json: boolean;
  /** Where to write every run's timeline (`--trace`, `--html`). */
  timelines?: TimelinePaths;
  /** The plan for one run into `output`. */
  loadRunPlan(output: string): Promise<Plan>;
  /** What the output folder's lock records as its holder. @default "taskpool compare FILE" */
  command?: string;
  /** How long to wait for another run's lock on the output folder, in ms. @default 0 */
  waitLockMs?: number;
}

/** Runs a comparison, prints it, writes compare.json; resolves with the exit code. */
export async function executeComparison(options: ExecuteComparisonOptions): Promise<number> {
  const { plan, io, kinds, modes, repeat, json, loadRunPlan } = options;
  using interrupts = listenForInterrupts(io);
  await using _lock = await lockOutput(plan.output, io, {
    command: options.command ?? `taskpool compare ${plan.file}`,
    waitMs: options.waitLockMs ?? 0,
    signal: interrupts.signal,
  });
  const folder = resolve(plan.output, "compare");
  const total = modes.length * repeat;
  let done = 0;
  // On a terminal, each run's live block; elsewhere only the line per run below.
  let progress: Progress | undefined;
  const runLabel = (index: number) =>
    `${modes[index % modes.length]}${
      repeat > 1 ? ` #${Math.floor(index / modes.length) + 1}` : ""
    }`;
  let comparison: Comparison;
  try {
    comparison = await compareModes({
      kinds,
      modes,
      repeat,
      folder,
      loadPlan: loadRunPlan,
      signal: interrupts.signal,
      ...(io.stderrIsTty
        ? {
          onEvent: (event: RunEvent) => {
            if (event.type === "run-started") {
              progress = createProgress({
                write: io.stderr,
                tty: true,
                color: io.color,
                label: runLabel(done),
                ...(io.columns ? { columns: io.columns } : {}),
                bandwidthLimit: plan.concurrency.bandwidth,
              });
              interrupts.sayThrough(progress.note);
            }
            progress?.handle(event);
          },
        }
        : {}),
      onRun: ({ mode, used, round, report }) => {
        progress?.close();
        progress = undefined;
        const { summary } = report;
        const label = mode === "auto" ? `auto (${used})` : mode;
        const failures = summary.ok + summary.cached === summary.total
          ? ""
          : `, ${summary.total - summary.ok - summary.cached} not ok`;
        io.stderr(
          `compare [${++done}/${total}] ${label} round ${round}: ` +
            `${formatDuration(report.wallMs)}, ${summary.total} jobs${failures}\n`,
        );
      },
    });
  } finally {
    progress?.close(); // a run cut short by an interrupt
  }
  const path = `${folder}/compare.json`;
  const record = compareRecord(plan, comparison);
  await Deno.mkdir(folder, { recursive: true });
  await writeTextFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  const written = await writeTimelines(
    options.timelines ?? {},
    comparison.runs.map(({ mode, used, round, report }) => ({
      label: `${mode === "auto" ? `auto (${used})` : mode}${repeat > 1 ? ` #${round}` : ""}`,
      report,
    })),
    `taskpool compare of ${plan.file}`,
    kinds.map((kind) => kind.name),
  );
  for (const timeline of written) io.stderr(`compare: timeline written to ${timeline}\n`);
  if (json) io.stdout(`${JSON.stringify(record)}\n`);
  else io.stdout(`${formatComparison(comparison)}\ncompare: ${path}\n`);
  if (comparison.interrupted) {
    const reason = interrupts.signal.reason as { signal?: string };
    return reason.signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
  }
  return comparison.modes.some((mode) => mode.failedRuns > 0) ? EXIT.jobsFailed : EXIT.ok;
}

/** compare.json: the figures per mode, and a summary of every run. */
function compareRecord(plan: Plan, comparison: Comparison) {
  return {
    version: 1,
    file: plan.file,
    host: {
      cores: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      os: Deno.build.os,
      arch: Deno.build.arch,
    },
    modes: comparison.modes,
    warnings: comparison.warnings,
    interrupted: comparison.interrupted,
    runs: comparison.runs.map(({ mode, used, round, folder, report }) => ({
      mode,
      used,
      round,
      report: `${folder}/report.json`,
      wallMs: report.wallMs,
      exitCode: report.exitCode,
      peakRssBytes: report.peakRssBytes,
      peakTotalRssBytes: report.peakTotalRssBytes,
      concurrency: report.concurrency,
      summary: report.summary,
    })),
  };
}
