/**
 * `taskpool run FILE`: check the job file, run it, write the files and the report.
 *
 * @module
 */
import type { Plan } from "../jobfile/job.ts";
import { modeArg, onePositional, parseCommandArgs, positiveInteger, rateArg } from "./args.ts";
import type { CliIo } from "./io.ts";
import type { Kinds } from "../kind_definition.ts";
import { SETTINGS_FLAGS, SETTINGS_HELP } from "./settings_flags.ts";
import { SELECTION_FLAGS, SELECTION_HELP } from "./selection_flags.ts";
import { UsageError } from "../errors.ts";
import { checkTimelinePaths, TIMELINE_FLAGS, TIMELINE_HELP } from "./timelines.ts";
import { WAIT_LOCK_FLAG, WAIT_LOCK_HELP, waitLockMs } from "./wait_lock.ts";
import { readStdin } from "./io.ts";
import type { Command, Prepared } from "./command.ts";
import { dirname, resolve } from "../util/posix_path.ts";
import { ownFileUrl } from "../util/own_files.ts";
import { readEnv } from "../util/env.ts";
import { type PackedJob, packJobs, unpackJobs } from "../run/packed_jobs.ts";

/** Help text of `taskpool run`. */
export const RUN_HELP = `Usage: taskpool run FILE [options]

Runs a job file (YAML or JSON; - reads stdin) and writes its files and a JSON report.

Options:
  -o, --output DIR       write under DIR instead of the file's output
      --report PATH      write the report to PATH
  -j, --concurrency N    downloads in flight (concurrency.io)
      --cpu N            compute and run jobs at once (concurrency.cpu)
      --per-host N       downloads in flight to one host (concurrency.per_host)
      --limit-rate RATE  all downloads together at most RATE, such as 4MiB/s or 500k
                         (concurrency.bandwidth)
      --mode MODE        sequential, async, workers, processes or auto (the default):
                         how the pools run (see taskpool compare)
      --force            download again even files that are up to date
      --fail-fast        stop everything at the first failure
${TIMELINE_HELP}
  -q, --quiet            print only failures and the summary
      --json             print the summary as one JSON object on stdout
${WAIT_LOCK_HELP}
${SETTINGS_HELP}
${SELECTION_HELP}
      --redis URL        run the jobs on the workers of this Redis (taskpool worker); also
                         TASKPOOL_REDIS; see docs/distributed.md
      --keep-reports N   keep only the newest N reports of a report path with {date} or
                         {time} (run-{date}-{time}.json)
`;

/** `taskpool run`. */
export const RUN: Command = { help: RUN_HELP, prepare: prepareRun };

/** The plan to run, checked and selected, with what goes with it. */
interface RunHandoff {
  plan: Plan;
  /** What the selection flags left out, for stderr. */
  notes: string[];
  /** The job file's folder (the current one for stdin): a distributed run's workers map it. */
  baseDir: string;
}

/** A {@linkcode RunHandoff} as the launcher hands it to the child: the jobs packed. */
interface PackedHandoff extends Omit<RunHandoff, "plan"> {
  plan: Omit<Plan, "jobs">;
  jobs: PackedJob[];
}

/** Checks `taskpool run`'s arguments and job file and expands it. */
async function prepareRun(
  args: string[],
  io: CliIo,
  kinds: Kinds,
  handoff?: unknown,
): Promise<Prepared> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", short: "o" },
    report: { type: "string" },
    concurrency: { type: "string", short: "j" },
    cpu: { type: "string" },
    "per-host": { type: "string" },
    "limit-rate": { type: "string" },
    mode: { type: "string" },
    ...TIMELINE_FLAGS,
    force: { type: "boolean" },
    "fail-fast": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    json: { type: "boolean" },
    ...WAIT_LOCK_FLAG,
    ...SETTINGS_FLAGS,
    ...SELECTION_FLAGS,
    "keep-reports": { type: "string" },
    redis: { type: "string" },
  });
  const file = onePositional("run", positionals, "job file");
  const mode = modeArg(values.mode);
  const keepReports = positiveInteger("--keep-reports", values["keep-reports"]);
  const redisUrl = values.redis ?? readEnv("TASKPOOL_REDIS");
  let redisHostPort: string | undefined;
  if (redisUrl !== undefined) {
    const { checkRedisUrl, redisHost } = await import("../distributed/redis_url.ts");
    redisHostPort = redisHost(checkRedisUrl(redisUrl));
  }
  const execute = ({ plan, notes, baseDir }: RunHandoff) => async () => {
    // A distributed run's coordinator (BullMQ and ioredis: some 200 ms) loads meanwhile.
    if (redisUrl !== undefined) {
      void import(ownFileUrl("lib/distributed/coordinator.ts").href).catch(() => {});
    }
    for (const note of notes) io.stderr(note);
    // Loaded where the run happens: a launcher that starts a child needs none of it.
    const { executePlan } = await import("./execute.ts");
    return await executePlan(plan, io, {
      kinds,
      ...(keepReports !== undefined ? { keepReports } : {}),
      failFast: values["fail-fast"] ?? false,
      force: values.force ?? false,
      quiet: values.quiet ?? false,
      json: values.json ?? false,
      mode,
      timelines: { trace: values.trace, html: values.html },
      waitLockMs: waitLockMs(values["wait-lock"]),
      ...(redisUrl !== undefined ? { redis: { url: redisUrl, baseDir } } : {}),
    });
  };
  // Started by a launcher that prepared the run already: nothing to read or check again.
  if (handoff !== undefined) {
    const { plan, jobs, ...rest } = handoff as PackedHandoff;
    return { execute: execute({ ...rest, plan: { ...plan, jobs: unpackJobs(jobs) } }) };
  }

  // Loaded only here, by the launcher: the child that runs the plan reads no job file.
  const [
    { loadPlan },
    { settingsFrom },
    { selectFromFlags },
    { DEFERRED },
    { grantsFor },
    { takenInRun },
  ] = await Promise.all([
    import("../jobfile/mod.ts"),
    import("./settings_flags.ts"),
    import("./selection_flags.ts"),
    import("../jobfile/interpolate.ts"),
    import("./grants_for.ts"),
    import("../jobfile/targets.ts"),
  ]);
  // "-" is stdin for the job file only: these are files, and stdout has the summary (--json).
  for (const flag of ["report", "output", "trace", "html"] as const) {
    if (values[flag] === "-") {
      throw new UsageError(
        `--${flag} -: taskpool writes a file there, not to stdout; give a path ` +
          `(for a machine-readable summary on stdout, use --json)`,
      );
    }
  }
  const flagSettings = await settingsFrom(values);
  const stdinText = file === "-" ? await readStdin() : undefined;
  const loaded = await loadPlan(file, {
    kinds,
    settings: flagSettings.settings,
    // A distributed run's workers expand ${VAR}: no secret of this machine goes to Redis.
    env: redisUrl !== undefined ? DEFERRED : flagSettings.env,
    ...(stdinText !== undefined ? { stdin: new Blob([stdinText]).stream() } : {}),
    overrides: {
      output: values.output,
      report: values.report,
      io: positiveInteger("--concurrency", values.concurrency),
      cpu: positiveInteger("--cpu", values.cpu),
      perHost: positiveInteger("--per-host", values["per-host"]),
      bandwidth: rateArg(values["limit-rate"]),
    },
  });
  const selected: RunHandoff = {
    ...await selectFromFlags(loaded, values),
    baseDir: file === "-" ? Deno.cwd() : dirname(resolve(file)),
  };
  checkTimelinePaths(values, takenInRun(selected.plan, kinds, { modules: true }));
  // Downloads at once need open files: more than the process may open would all fail. Any
  // limit a system sets by default holds 64 (open_files.ts): no need to ask below.
  if (selected.plan.concurrency.io > 64 && redisUrl === undefined) {
    const { fitDownloadsToOpenFiles } = await import("./open_files.ts");
    const note = fitDownloadsToOpenFiles(selected.plan, kinds);
    if (note !== undefined) selected.notes.push(`taskpool: ${note}\n`);
  }
  if (keepReports !== undefined && selected.plan.reportPattern === undefined) {
    throw new UsageError(
      `--keep-reports needs a report path with {date} or {time} (such as ` +
        `--report 'reports/{date}-{time}.json'): got ${selected.plan.report}`,
    );
  }
  return {
    grants: () => {
      const grants = grantsFor(kinds, selected.plan, values, flagSettings);
      if (redisHostPort === undefined) return grants;
      // The coordinator reaches Redis, whose URL may come from TASKPOOL_REDIS; rediss:// trusts
      // the CA that DENO_CERT names, as downloads do.
      return {
        ...grants,
        net: grants.net === true ? true : [...grants.net, redisHostPort],
        env: grants.env === true
          ? true
          : [...new Set([...grants.env, "TASKPOOL_REDIS", "DENO_CERT"])].sort(),
        read: [...grants.read, ...(readEnv("DENO_CERT") ? [resolve(readEnv("DENO_CERT")!)] : [])],
      };
    },
    jobs: selected.plan.jobs.length,
    kinds: kindsOf(selected.plan.jobs),
    get handoff(): PackedHandoff {
      const { plan: { jobs, ...plan }, ...rest } = selected;
      return { ...rest, plan, jobs: packJobs(jobs) };
    },
    execute: execute(selected),
  };
}

/** The kinds `jobs` are of, each once: without a list as long as the plan's (a million jobs). */
function kindsOf(jobs: readonly { kind: string }[]): string[] {
  const kinds = new Set<string>();
  for (const job of jobs) kinds.add(job.kind);
  return [...kinds];
}
