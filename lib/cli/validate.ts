/**
 * `taskpool validate FILE`: check a job file completely without running anything.
 *
 * @module
 */
import { loadPlan } from "../jobfile/mod.ts";
import { onePositional, parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";
import type { Kinds } from "../kind_definition.ts";
import { InvalidJobFileError } from "../jobfile/errors.ts";
import { EXIT } from "../exit_codes.ts";
import { failureJson } from "../errors.ts";
import { SETTINGS_FLAGS, SETTINGS_HELP, settingsFrom } from "./settings_flags.ts";

/** Help text of `taskpool validate`. */
export const VALIDATE_HELP =
  `Usage: taskpool validate FILE [--quiet | --json] [--set KEY=VALUE] [--env-file FILE]

Checks a job file (schema, names, needs, cycles, paths) and lists every problem with its line.
Exit code 0 when valid, 2 when not. Nothing runs and nothing is written.

Options:
  -q, --quiet            print nothing, not even the problems: the exit code says it
      --json             one JSON object on stdout: {"exitCode": 0, "valid": true, "jobs": N,
                         "expanded": M}, or the problems with their places (exit 2)
${SETTINGS_HELP}
`;

/** Runs `taskpool validate`; resolves with the exit code (errors throw). */
export async function validateCommand(
  args: string[],
  io: CliIo,
  kinds: Kinds,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    quiet: { type: "boolean", short: "q" },
    json: { type: "boolean" },
    ...SETTINGS_FLAGS,
  });
  const file = onePositional("validate", positionals, "job file");
  let plan;
  try {
    plan = await loadPlan(file, { kinds, ...await settingsFrom(values) });
  } catch (error) {
    // --quiet: the exit code says it all, for a CI step over job files.
    if (values.quiet && error instanceof InvalidJobFileError) return EXIT.usage;
    if (values.json && error instanceof InvalidJobFileError) {
      const { error: said } = failureJson(EXIT.usage, error);
      io.stdout(`${JSON.stringify({ exitCode: EXIT.usage, valid: false, error: said })}\n`);
      io.stderr(`taskpool: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const groups = new Set(plan.jobs.map((job) => job.group)).size;
  if (values.json) {
    const said = { exitCode: EXIT.ok, valid: true, jobs: groups, expanded: plan.jobs.length };
    io.stdout(`${JSON.stringify(said)}\n`);
  } else if (!values.quiet) {
    const entries = `${groups} ${groups === 1 ? "job" : "jobs"}`;
    io.stdout(`${file}: valid, ${entries} (${plan.jobs.length} after fan-out)\n`);
  }
  return 0;
}
