/**
 * taskpool: run download, compute and command jobs from a job file, concurrently, with a
 * timing report. This file maps argv to a subcommand and errors to exit codes; nothing else.
 *
 * @module
 */
import { type Command, inProcess } from "./lib/cli/command.ts";
import { COMPARE } from "./lib/cli/compare.ts";
import { DEMO } from "./lib/cli/demo.ts";
import { type CliIo, processIo } from "./lib/cli/io.ts";
import { PLAN_HELP, planCommand } from "./lib/cli/plan.ts";
import { REPORT_HELP, reportCommand } from "./lib/cli/report.ts";
import { RUN } from "./lib/cli/run.ts";
import { SCHEMA_HELP, schemaCommand } from "./lib/cli/schema.ts";
import { VALIDATE_HELP, validateCommand } from "./lib/cli/validate.ts";
import { errorMessage, exitCodeOf, InterruptedError, UsageError } from "./lib/errors.ts";
import { EXIT } from "./lib/exit_codes.ts";
import denoJson from "./deno.json" with { type: "json" };
import {
  mayRelaunch,
  relaunch,
  type RelaunchRequest,
  sandboxedAs,
  watchLifeline,
} from "./lib/sandbox/relaunch.ts";
import { raiseTermination } from "./lib/cli/interrupts.ts";
import { enterCallersFolder } from "./lib/cli/callers_folder.ts";
import type { Kinds } from "./lib/kind_definition.ts";
import { KINDS } from "./tasks/mod.ts";

const COMMANDS: Record<string, Command> = {
  run: RUN,
  compare: COMPARE,
  report: inProcess(REPORT_HELP, reportCommand),
  validate: inProcess(VALIDATE_HELP, validateCommand),
  plan: inProcess(PLAN_HELP, planCommand),
  schema: inProcess(SCHEMA_HELP, schemaCommand),
  demo: DEMO,
};

const HELP = `taskpool ${denoJson.version}: run download, compute and command jobs concurrently

Usage: taskpool COMMAND [options]

Commands:
  run FILE        run a job file (- for stdin) and write its files and report
  compare FILE    run a job file in each concurrency mode and compare the times
  report REPORT   a finished run's summary, time queued vs running, concurrency per pool
  validate FILE   check a job file; every problem with its line (exit 2 if any)
  plan FILE       print the expanded jobs in run order, without running them
  schema          print the job file's JSON Schema
  demo            compare the modes on examples/demo.yaml and a built-in album server
                  (no network needed)

Options: --help for any command; --verbose for stack traces; --version.
Exit codes: 0 ok, 1 a job failed/skipped/cancelled, 2 bad usage or job file,
            75 the output folder is in use by another run, 130 SIGINT, 143 SIGTERM.
`;

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** The job kinds job files may use. @default KINDS, the registry of tasks/mod.ts */
  kinds?: Kinds;
  /**
   * Runs a command that runs jobs again in a child Deno with only the rights its jobs need
   * (lib/sandbox/relaunch.ts); without it, every command works in this process.
   */
  relaunch?: (request: RelaunchRequest) => Promise<number>;
}

/** Runs the CLI and resolves with the process exit code. */
export async function main(
  argv: string[],
  io: CliIo = processIo(),
  options: MainOptions = {},
): Promise<number> {
  const { kinds = KINDS, relaunch: relaunchWith } = options;
  const verbose = argv.includes("--verbose");
  const args = argv.filter((arg) => arg !== "--verbose");
  const [name, ...rest] = args;
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      const topic = name === "help" && rest[0] ? COMMANDS[rest[0]] : undefined;
      io.stdout(topic?.help ?? HELP);
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    if (name === "--version" || name === "-V") {
      io.stdout(`taskpool ${denoJson.version} (deno ${Deno.version.deno})\n`);
      return EXIT.ok;
    }
    const command = COMMANDS[name];
    if (!command) {
      throw new UsageError(`unknown command "${name}"; try: ${Object.keys(COMMANDS).join(", ")}`);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout(command.help);
      return EXIT.ok;
    }
    const prepared = await command.prepare(rest, io, kinds);
    if (prepared.grants && relaunchWith) {
      return await relaunchWith({ argv, grants: prepared.grants(), stdinText: prepared.stdinText });
    }
    return await prepared.execute();
  } catch (error) {
    const code = exitCodeOf(error);
    if (error instanceof InterruptedError) return code;
    if (error instanceof UsageError) {
      const topic = COMMANDS[name ?? ""] ? `${name} ` : "";
      io.stderr(`taskpool: ${error.message}\n(see taskpool ${topic}--help)\n`);
    } else if (code !== EXIT.jobsFailed) {
      io.stderr(`taskpool: ${errorMessage(error)}\n`);
    } else {
      const stack = verbose && error instanceof Error ? error.stack : undefined;
      io.stderr(`taskpool: ${stack ?? errorMessage(error)}\n`);
    }
    return code;
  }
}

if (import.meta.main) {
  watchLifeline(raiseTermination); // when relaunched, and the launcher dies
  if (sandboxedAs() === undefined) enterCallersFolder(); // a child is started in it already
  Deno.exit(await main(Deno.args, processIo(), mayRelaunch() ? { relaunch } : {}));
}
