/**
 * `taskpool demo`: the classic experiment on this machine with no network. It starts the
 * built-in album server on 127.0.0.1 and runs examples/demo.yaml against it in each concurrency
 * mode, printing the comparison table (or, with `--mode`, runs it once in that mode with the
 * usual progress and summary); files and reports stay on disk.
 *
 * @module
 */
import DEMO_JOB_TEXT from "../../examples/demo.yaml" with { type: "text" };
import { startAlbumServer } from "../demo/album_server.ts";
import { UsageError } from "../errors.ts";
import { loadPlan, type PlanOverrides } from "../jobfile/mod.ts";
import { grantsFor } from "./grants_for.ts";
import { modeArg, parseCommandArgs, positiveInteger } from "./args.ts";
import {
  COMPARED_MODES,
  comparisonFlags,
  executeComparison,
  takenByComparison,
} from "./compare.ts";
import { executePlan } from "./execute.ts";
import type { CliIo } from "./io.ts";
import type { Command, Prepared } from "./command.ts";
import type { Kinds } from "../kind_definition.ts";
import { checkTimelinePaths, TIMELINE_FLAGS, TIMELINE_HELP } from "./timelines.ts";
import { takenInRun } from "../jobfile/targets.ts";
import { WAIT_LOCK_FLAG, WAIT_LOCK_HELP, waitLockMs } from "./wait_lock.ts";

/** The demo job file, built in (also into the bundle). */
export const DEMO_JOB_FILE = "examples/demo.yaml";

/** Help text of `taskpool demo`. */
export const DEMO_HELP = `Usage: taskpool demo [options]

Serves a synthetic album (24 images of 50-300 KB, 80 ms latency each) on 127.0.0.1 and runs
examples/demo.yaml against it in each concurrency mode (sequential, async, workers,
processes), then prints the comparison. Files and reports go to ./demo-output.

Options:
      --mode MODE        run once in MODE instead, with progress and the usual summary
      --modes LIST       modes to compare (default ${COMPARED_MODES.join(",")})
  -n, --repeat N         runs per mode (default 1)
  -o, --output DIR       write under DIR (default demo-output)
      --latency MS       the album server's latency per image (default 80)
      --cpu N            compute and run jobs at once
  -q, --quiet            with --mode: only failures and the summary
      --json             the comparison (or, with --mode, the summary) as JSON on stdout
${TIMELINE_HELP}
${WAIT_LOCK_HELP}
`;

const parseDemoArgs = (args: string[]) =>
  parseCommandArgs(args, {
    output: { type: "string", short: "o" },
    latency: { type: "string" },
    cpu: { type: "string" },
    mode: { type: "string" },
    modes: { type: "string" },
    repeat: { type: "string", short: "n" },
    quiet: { type: "boolean", short: "q" },
    json: { type: "boolean" },
    ...TIMELINE_FLAGS,
    ...WAIT_LOCK_FLAG,
  });

/** The flags of `taskpool demo`, parsed. */
type DemoValues = ReturnType<typeof parseDemoArgs>["values"];

/** `taskpool demo`. */
export const DEMO: Command = { help: DEMO_HELP, prepare: prepareDemo };

/** Checks `taskpool demo`'s arguments. */
async function prepareDemo(args: string[], io: CliIo, kinds: Kinds): Promise<Prepared> {
  const { values } = parseDemoArgs(args);
  if (values.latency !== undefined && !/^\d+$/.test(values.latency)) {
    throw new UsageError(
      `--latency must be a whole number of milliseconds: got "${values.latency}"`,
    );
  }
  if (values.mode !== undefined && (values.modes !== undefined || values.repeat !== undefined)) {
    throw new UsageError("--mode runs the demo once: it does not go with --modes or --repeat");
  }
  // The album server listens on a port chosen when it starts: the grants name the host only.
  const plan = await loadDemoPlan(kinds, "http://127.0.0.1", { output: values.output });
  return {
    grants: () => ({ ...grantsFor(kinds, plan, values), net: ["127.0.0.1"] }),
    execute: () => executeDemo(values, io, kinds),
  };
}

/** Serves the album and runs the demo against it; resolves with the exit code. */
async function executeDemo(values: DemoValues, io: CliIo, kinds: Kinds): Promise<number> {
  await using album = startAlbumServer({ latencyMs: Number(values.latency ?? 80) });
  io.stderr(`taskpool demo: album of ${album.images.length} images at ${album.url}/album/\n`);
  const overrides = { output: values.output, cpu: positiveInteger("--cpu", values.cpu) };
  const load = (output?: string) =>
    loadDemoPlan(
      kinds,
      album.url,
      output === undefined ? overrides : { ...overrides, output, report: `${output}/report.json` },
    );
  const plan = await load();
  // A single run writes its report; a comparison its record and run folders.
  const takenByRun = takenInRun(plan, kinds, { modules: true });
  const takenByRecord = values.mode === undefined
    ? takenByComparison(plan.output)
    : () => undefined;
  checkTimelinePaths(values, (path) => takenByRun(path) ?? takenByRecord(path));
  if (values.mode !== undefined) {
    return await executePlan(plan, io, {
      kinds,
      quiet: values.quiet ?? false,
      json: values.json ?? false,
      mode: modeArg(values.mode),
      timelines: { trace: values.trace, html: values.html },
      command: "taskpool demo",
      waitLockMs: waitLockMs(values["wait-lock"]),
    });
  }
  return await executeComparison({
    plan,
    io,
    kinds,
    ...comparisonFlags(values),
    loadRunPlan: load,
    command: "taskpool demo",
  });
}

/** The demo's plan against the album server at `url`. */
function loadDemoPlan(kinds: Kinds, url: string, overrides: PlanOverrides) {
  return loadPlan(DEMO_JOB_FILE, {
    kinds,
    text: DEMO_JOB_TEXT,
    env: (name) => name === "TASKPOOL_DEMO_URL" ? url : Deno.env.get(name),
    overrides: { ...overrides, output: overrides.output ?? "demo-output" },
  });
}
