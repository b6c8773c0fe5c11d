/**
 * `taskpool plan FILE`: the expanded jobs in the order they can run, without running them.
 *
 * @module
 */
import { topologicalOrder } from "../jobfile/graph.ts";
import { loadPlan } from "../jobfile/mod.ts";
import { onePositional, parseCommandArgs, positiveInteger } from "./args.ts";
import type { CliIo } from "./io.ts";
import { kindOf, type Kinds } from "../kind_definition.ts";
import { selectFromFlags, SELECTION_FLAGS, SELECTION_HELP } from "./selection_flags.ts";
import { SETTINGS_FLAGS, SETTINGS_HELP, settingsFrom } from "./settings_flags.ts";
import { grantFlags } from "../sandbox/grant_flags.ts";
import { grantsFor } from "./grants_for.ts";
import { formatBytes } from "../util/format.ts";
import type { Plan } from "../jobfile/job.ts";

/** Help text of `taskpool plan`. */
export const PLAN_HELP =
  `Usage: taskpool plan FILE [--output DIR] [--concurrency N] [--cpu N] [--json]
                     [--set KEY=VALUE] [--env-file FILE]

Prints the expanded jobs (fan-outs unrolled) in an order that satisfies their needs, with
their pool, target and needs, then the permissions \`taskpool run\` gives the run (Deno's
flags, derived from the job file). Nothing runs.

${SETTINGS_HELP}
${SELECTION_HELP}
`;

/** Runs `taskpool plan`; resolves with the exit code. */
export async function planCommand(
  args: string[],
  io: CliIo,
  kinds: Kinds,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", short: "o" },
    report: { type: "string" },
    concurrency: { type: "string", short: "j" },
    cpu: { type: "string" },
    "per-host": { type: "string" },
    json: { type: "boolean" },
    ...SETTINGS_FLAGS,
    ...SELECTION_FLAGS,
  });
  const file = onePositional("plan", positionals, "job file");
  const flagSettings = await settingsFrom(values);
  const loaded = await loadPlan(file, {
    kinds,
    settings: flagSettings.settings,
    env: flagSettings.env,
    overrides: {
      output: values.output,
      report: values.report,
      io: positiveInteger("--concurrency", values.concurrency),
      cpu: positiveInteger("--cpu", values.cpu),
      perHost: positiveInteger("--per-host", values["per-host"]),
    },
  });
  const { plan, notes } = await selectFromFlags(loaded, values);
  for (const note of notes) io.stderr(note);
  const grants = grantsFor(kinds, plan, values, flagSettings);
  const byName = new Map(plan.jobs.map((job) => [job.name, job]));
  const ordered = topologicalOrder(plan.jobs).map((name) => byName.get(name)!);
  if (values.json) {
    const shown = ordered.map((job) => kindOf(kinds, job.kind).shown?.(job) ?? job);
    const permissions = { ...grants, flags: grantFlags(grants) };
    io.stdout(`${JSON.stringify({ ...plan, jobs: shown, permissions }, null, 2)}\n`);
    return 0;
  }
  const count = `${ordered.length} ${ordered.length === 1 ? "job" : "jobs"}`;
  io.stdout(
    `${plan.file}: ${count}; output ${plan.output}; report ${plan.report}; ` +
      `io ${plan.concurrency.io} (${plan.concurrency.perHost} per host), cpu ${plan.concurrency.cpu}` +
      limitsText(plan.concurrency) + "\n",
  );
  const width = ordered.reduce((widest, job) => Math.min(40, Math.max(widest, job.name.length)), 0);
  for (const [index, job] of ordered.entries()) {
    const needs = job.needs.length ? `  needs ${summariseNeeds(job.needs)}` : "";
    io.stdout(
      `${String(index + 1).padStart(4)}. ${job.name.padEnd(width)}  ${job.kind.padEnd(8)} ` +
        `${kindOf(kinds, job.kind).describe(job)}${needs}\n`,
    );
  }
  io.stdout(
    `permissions (taskpool run runs the jobs with only these):\n${
      grantFlags(grants).map((flag) => `  ${flag}\n`).join("")
    }`,
  );
  return 0;
}

function summariseNeeds(needs: string[]): string {
  return needs.length <= 3
    ? needs.join(", ")
    : `${needs.slice(0, 2).join(", ")} and ${needs.length - 2} more`;
}

/** The download limits a plan sets, as the plan's first line shows them. */
function limitsText(concurrency: Plan["concurrency"]): string {
  const parts: string[] = [];
  if (concurrency.bandwidth) parts.push(`bandwidth ${formatBytes(concurrency.bandwidth)}/s`);
  if (concurrency.perHostBandwidth) {
    parts.push(`${formatBytes(concurrency.perHostBandwidth)}/s per host`);
  }
  if (concurrency.perHostIntervalMs) {
    parts.push(`${concurrency.perHostIntervalMs} ms between requests to a host`);
  }
  return parts.length ? `; ${parts.join(", ")}` : "";
}
