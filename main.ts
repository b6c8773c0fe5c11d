/**
 * taskpool: run download, compute and command jobs from a job file, concurrently, with a
 * timing report. This file maps argv to a subcommand and errors to exit codes; nothing else.
 *
 * @module
 */
import { type Command, inProcess, type Prepared } from "./lib/cli/command.ts";
import { type CliIo, processIo } from "./lib/cli/io.ts";
import {
  errorMessage,
  exitCodeOf,
  failureJson,
  InterruptedError,
  UsageError,
} from "./lib/errors.ts";
import { EXIT } from "./lib/exit_codes.ts";
import denoJson from "./deno.json" with { type: "json" };
import {
  EARLY_HOST_VARIABLE,
  mayRelaunch,
  type Received,
  receiveFromLauncher,
  relaunch,
  type RelaunchRequest,
  sandboxedAs,
  startEarly,
} from "./lib/sandbox/relaunch.ts";
import { raiseTermination } from "./lib/cli/interrupts.ts";
import { enterCallersFolder } from "./lib/cli/callers_folder.ts";
import type { Kinds } from "./lib/kind_definition.ts";

/**
 * Each command, loaded when it is used: `--version`, `--help` and every other command do not
 * pay for the modules of the rest (the job file's parser and schema, the pools, HTTP).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./lib/cli/run.ts")).RUN,
  compare: async () => (await import("./lib/cli/compare.ts")).COMPARE,
  report: async () => {
    const { REPORT_HELP, reportCommand } = await import("./lib/cli/report.ts");
    return inProcess(REPORT_HELP, reportCommand);
  },
  validate: async () => {
    const { VALIDATE_HELP, validateCommand } = await import("./lib/cli/validate.ts");
    return inProcess(VALIDATE_HELP, validateCommand);
  },
  plan: async () => {
    const { PLAN_HELP, planCommand } = await import("./lib/cli/plan.ts");
    return inProcess(PLAN_HELP, planCommand);
  },
  merge: async () => {
    const { MERGE_HELP, mergeCommand } = await import("./lib/cli/merge.ts");
    return inProcess(MERGE_HELP, mergeCommand);
  },
  worker: async () => {
    const { WORKER_HELP, workerCommand } = await import("./lib/cli/worker.ts");
    return inProcess(WORKER_HELP, workerCommand);
  },
  schema: async () => {
    const { SCHEMA_HELP, schemaCommand } = await import("./lib/cli/schema.ts");
    return inProcess(SCHEMA_HELP, schemaCommand);
  },
  demo: async () => (await import("./lib/cli/demo.ts")).DEMO,
};

/** The commands with `--json`. */
const JSON_COMMANDS = new Set(["run", "compare", "demo", "plan", "validate"]);

/** The commands that run their work in a child with the grants of its jobs. */
const RELAUNCHED = new Set(["run", "compare", "demo"]);

/** The registry of job kinds, loaded with the first command that needs it. */
async function registry(): Promise<Kinds> {
  return (await import("./tasks/mod.ts")).KINDS;
}

const HELP = `taskpool ${denoJson.version}: run download, compute and command jobs concurrently

Usage: taskpool COMMAND [options]

Commands:
  run FILE        run a job file (- for stdin) and write its files and report
  compare FILE    run a job file in each concurrency mode and compare the times
  report REPORT   a finished run's summary, time queued vs running, concurrency per pool
  merge REPORT... one report from the reports of shards or machines
  worker          take the jobs of distributed runs from Redis (run FILE --redis URL)
  validate FILE   check a job file; every problem with its line (exit 2 if any)
  plan FILE       print the expanded jobs in run order, without running them
  schema          print the job file's JSON Schema
  demo            compare the modes on examples/demo.yaml and a built-in album server
                  (no network needed)

Options: --help for any command; --verbose for stack traces; --version.
Exit codes: 0 ok, 1 a job failed/skipped/cancelled, 2 bad usage or job file,
            75 the output folder is in use by another run or Redis is unreachable,
            130 SIGINT, 143 SIGTERM.
`;

/** Options for {@linkcode main}. */
export interface MainOptions {
  /**
   * The job kinds job files may use, or how to load the ones the work needs (a child loads those
   * its launcher names). @default every kind of the registry, tasks/registry.ts
   */
  kinds?: Kinds | (() => Promise<Kinds>);
  /**
   * Runs a command that runs jobs again in a child Deno with only the rights its jobs need
   * (lib/sandbox/relaunch.ts); without it, every command works in this process.
   */
  relaunch?: (request: RelaunchRequest) => Promise<number>;
  /**
   * In a child started for the work: what the launcher's preparation handed over (awaited once
   * the command's modules are loaded, so that the two overlap). Called once: what it hands over
   * is the command's from then on, and nothing else keeps it (a plan's packed jobs).
   */
  handoff?: () => unknown;
}

/** Runs the CLI and resolves with the process exit code. */
export async function main(
  argv: string[],
  io: CliIo = processIo(),
  options: MainOptions = {},
): Promise<number> {
  const { relaunch: relaunchWith } = options;
  const verbose = argv.includes("--verbose");
  const args = argv.filter((arg) => arg !== "--verbose");
  const [name, ...rest] = args;
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      const topic = name === "help" && rest[0] ? COMMANDS[rest[0]] : undefined;
      io.stdout(topic ? (await topic()).help : HELP);
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    if (name === "--version" || name === "-V") {
      io.stdout(`taskpool ${denoJson.version} (deno ${Deno.version.deno})\n`);
      return EXIT.ok;
    }
    const load = COMMANDS[name];
    if (!load) {
      throw new UsageError(`unknown command "${name}"; try: ${Object.keys(COMMANDS).join(", ")}`);
    }
    const command = await load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout(command.help);
      return EXIT.ok;
    }
    const kinds = typeof options.kinds === "function"
      ? await options.kinds()
      : options.kinds ?? await registry();
    let prepared: Prepared | undefined = await command.prepare(
      rest,
      io,
      kinds,
      await options.handoff?.(),
    );
    if (prepared.grants && relaunchWith) {
      const { jobs, kinds: kindsUsed } = prepared;
      const grants = prepared.grants();
      // Handed over once, then forgotten: this process keeps no plan while its child runs it.
      let handing: Prepared | undefined = prepared;
      prepared = undefined;
      return await relaunchWith({
        argv,
        grants,
        ...(jobs !== undefined ? { jobs } : {}),
        ...(kindsUsed !== undefined ? { kinds: kindsUsed } : {}),
        handoff: () => {
          const handoff = handing?.handoff;
          handing = undefined;
          return handoff;
        },
      });
    }
    return await prepared.execute();
  } catch (error) {
    const code = exitCodeOf(error);
    // A script that asked for JSON gets JSON on stdout, whatever ended the command.
    if (JSON_COMMANDS.has(name ?? "") && rest.includes("--json")) {
      io.stdout(`${JSON.stringify(failureJson(code, error))}\n`);
    }
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
  if (sandboxedAs() === undefined) {
    enterCallersFolder(); // a child is started in it already
    const relaunching = mayRelaunch();
    // The child the same command line had last time, started now: it boots while this process
    // reads the job file, and is used only if its grants are the ones worked out.
    const [name] = Deno.args;
    // Not with --env-file, whose variables the launcher adds to the environment the child gets.
    const early = relaunching && RELAUNCHED.has(name ?? "") &&
        !Deno.args.some((arg) => arg === "--help" || arg.startsWith("--env-file"))
      ? startEarly(Deno.args)
      : undefined;
    const code = await main(
      Deno.args,
      processIo(),
      relaunching ? { relaunch: (request) => relaunch(request, early) } : {},
    );
    early?.child?.cancel(); // unless taken: the command ran here, or failed before its child
    Deno.exit(code);
  }
  // A child: the Worker host this command line's run used last time, started now, while the
  // launcher reads the job file (the run takes it if it asks for the same host).
  const host = earlyHostRecord();
  const earlyHost = host
    ? import("./lib/pools/worker/early_host.ts").then((it) => (it.startSpareHost(host), it))
    : undefined;
  // A child: what the launcher prepared, and a lifeline to it. A launcher that ended before it
  // handed anything over (a Ctrl-C while it read the job file) leaves it nothing to do.
  // Its parts in variables of their own: the handoff (a plan's jobs) is let go once taken.
  let { handoff, kinds: kindsUsed }: Partial<Received> = receiveFromLauncher(
    raiseTermination,
    () => Deno.exit(EXIT.sigterm),
  );
  const take = () => {
    const taken = handoff;
    handoff = undefined;
    return taken;
  };
  // Only the kinds of the plan's jobs load: a run of commands loads nothing of downloads.
  const kinds = async () => {
    const [{ loadKinds }, names] = await Promise.all([
      import("./tasks/registry.ts"),
      kindsUsed,
    ]);
    return await loadKinds(names);
  };
  // The modules that execute a run load while the launcher is still preparing it.
  if (Deno.args[0] === "run") import("./lib/cli/execute.ts").catch(() => {});
  const code = await main(Deno.args, processIo(), { handoff: take, kinds });
  // Started for a run that asked for none (or another): the next run of this line starts none.
  (await earlyHost)?.dropSpareHost();
  Deno.exit(code);
}

/** The Worker host record the launcher gave this child, if any. */
function earlyHostRecord(): string | undefined {
  try {
    return Deno.env.get(EARLY_HOST_VARIABLE) || undefined;
  } catch {
    return undefined; // a child of an older launcher may not read it
  }
}
