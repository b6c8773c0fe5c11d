/**
 * `taskpool validate FILE`: check a job file completely without running anything.
 *
 * @module
 */
import { loadPlan } from "../jobfile/mod.ts";
import { onePositional, parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";

/** Help text of `taskpool validate`. */
export const VALIDATE_HELP = `Usage: taskpool validate FILE [--quiet]

Checks a job file (schema, names, needs, cycles, paths) and lists every problem with its line.
Exit code 0 when valid, 2 when not. Nothing runs and nothing is written.
`;

/** Runs `taskpool validate`; resolves with the exit code (errors throw). */
export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("validate", args, {
    quiet: { type: "boolean", short: "q" },
  });
  const file = onePositional("validate", positionals, "job file");
  const plan = await loadPlan(file);
  if (!values.quiet) {
    const groups = new Set(plan.jobs.map((job) => job.group)).size;
    io.stdout(`${file}: valid, ${groups} jobs (${plan.jobs.length} after fan-out)\n`);
  }
  return 0;
}
