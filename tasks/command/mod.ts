/**
 * The command kind, whole: `run:` in a job file starts a program without a shell, in a process
 * group of its own, on the cpu pool, its output in a log under the output folder.
 *
 * @module
 */
import { join, resolve } from "../../lib/util/posix_path.ts";
import type { SchemaFields } from "../../lib/jobfile/fields.ts";
import type { ExpandContext, JobEntry, KindDefinition } from "../../lib/kind_definition.ts";
import { relative } from "../../lib/util/posix_path.ts";
import { findKill, findShell, startSignaller, stopSignaller } from "./group_signals.ts";
import type { CommandResult, RunJob } from "./job.ts";
import { findSetsid, resolveProgram } from "./process_group.ts";
import { redactText } from "../../lib/util/secrets.ts";
import { notAFolder } from "../../lib/util/paths.ts";

/** `run:` a command as argv. */
function commandSpec({ z, argvItem }: SchemaFields) {
  return z.array(argvItem, {
    error: "must be a command as a list of strings (argv), such as [sh, -c, 'echo hi']",
  }).min(1, { error: "must name a program" }).describe("A command as argv; no implicit shell.");
}

/** The keys of a job entry that only a command reads. */
function commandFields({ z, nonEmptyPath, duration }: SchemaFields) {
  return {
    cwd: nonEmptyPath.optional().describe("Working folder of a run job (default: the job file's)."),
    env: z.record(z.string(), z.string({ error: "must be a string" }), {
      error: "must be a mapping of names to strings",
    }).optional().describe(
      "Variables added to a run job's environment (${VAR} takes taskpool's); with clear_env, " +
        "its whole environment.",
    ),
    clear_env: z.boolean({ error: "must be true or false" }).optional().describe(
      "Start a run job from an empty environment: it sees env and TASKPOOL_* only (default false).",
    ),
    kill_grace: duration.optional().describe(
      "Time a run job's process group has between SIGTERM and SIGKILL on timeout or cancel (default 5s).",
    ),
  };
}

/** A command entry's own keys, validated. */
interface CommandFields {
  run: string[];
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  clear_env?: boolean | undefined;
  kill_grace?: number | undefined;
}

/** The command kind. */
export const command: KindDefinition<RunJob, CommandResult> = {
  name: "run",
  spec: commandSpec,
  entryFields: commandFields,
  pool: "cpu",
  defaultRetries: 0,
  expand: expandCommand,
  writes: (job) => job.logPath,
  grant(job, grants, { findProgram, helpers }) {
    const program = (findProgram ?? programOnPath)(job.argv[0], job.cwd);
    if (program !== undefined) grants.run.add(program);
    const setsid = helpers.setsid === undefined ? findSetsid() : helpers.setsid;
    const kill = helpers.kill === undefined ? findKill() : helpers.kill;
    const shell = helpers.shell === undefined ? findShell() : helpers.shell;
    for (const helper of [setsid, kill, shell]) if (helper) grants.run.add(helper);
  },
  describe: (job) =>
    shownArgv(job).map((arg) => /^[\w./:=@%+-]+$/.test(arg) ? arg : JSON.stringify(arg)).join(
      " ",
    ),
  shown: (job) => {
    const { secrets: _secrets, ...shown } = job;
    const hide = (value: string) => redactText(value, secretsOf(job));
    return {
      ...shown,
      argv: shownArgv(job),
      env: Object.fromEntries(Object.entries(job.env).map(([key, value]) => [key, hide(value)])),
    };
  },
  report(job, outcome, { output }) {
    const result = outcome.result as CommandResult | undefined;
    const error = outcome.error;
    const exitCode = result?.exitCode ??
      (error && typeof error === "object" && "exitCode" in error
        ? error.exitCode as number
        : undefined);
    return {
      log: relative(output, job.logPath),
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  },
  async create({ output, killGraceMs }) {
    // The shell that signals each job's group as its leader exits, and ends the groups should
    // taskpool be killed, starts now, while the kind loads, not with the first job.
    startSignaller();
    // Loaded only by a run: checking a job file needs none of it.
    const { createCommandKind } = await import("./command_kind.ts");
    const kind = createCommandKind({
      output,
      ...(killGraceMs !== undefined ? { killGraceMs } : {}),
    });
    return { ...kind, close: stopSignaller };
  },
};

/** A `run:` entry's jobs: one, or one per `repeat` or `matrix` member. */
export function expandCommand(entry: JobEntry, context: ExpandContext): RunJob[] {
  const { path, baseDir, output, fail, common } = context;
  const spec = entry as JobEntry & CommandFields;
  const argv = spec.run as [string, ...string[]];
  const cwd = spec.cwd ? resolve(baseDir, spec.cwd) : baseDir;
  // A folder that is missing may be made by a job this one needs; a file there will not be one.
  const file = spec.cwd ? notAFolder(cwd) : undefined;
  if (file !== undefined) {
    fail([...path, "cwd"], `${file === cwd ? "is" : "is under"} a file, not a folder: ${file}`);
  }
  const jobs = context.fanOut();
  for (const [row, { extra }] of jobs.entries()) {
    for (const [column, item] of extra.entries()) {
      if (!["string", "number", "boolean"].includes(typeof item)) {
        fail(
          [...path, "matrix", row, column],
          `must be a string, number or boolean for a command's argv: got ${JSON.stringify(item)}`,
        );
      }
    }
  }
  const env = spec.env ?? {};
  // What came from the environment may be a secret: `plan` shows it as `***`.
  const secrets = [
    ...argv.filter((_, i) => context.fromEnvironment([...path, "run", i])),
    ...Object.entries(env).filter(([key]) => context.fromEnvironment([...path, "env", key]))
      .map(([, value]) => value),
  ].filter((value) => value.length > 0);
  return jobs.map(({ name, n, extra }) => ({
    ...common,
    ...(context.cacheFor(n) ? { cache: context.cacheFor(n)! } : {}),
    name,
    kind: "run" as const,
    argv: [...argv, ...extra.map(String)],
    cwd,
    env,
    clearEnv: spec.clear_env ?? false,
    ...(secrets.length > 0 ? { secrets } : {}),
    logPath: join(output, "logs", `${name}.log`),
    ...(spec.kill_grace !== undefined ? { killGraceMs: spec.kill_grace } : {}),
  }));
}

/** Secrets of `job`, longest first, so that one inside another is hidden whole. */
function secretsOf(job: RunJob): string[] {
  return (job.secrets ?? []).toSorted((a, b) => b.length - a.length);
}

/** `job`'s argv with what came from the environment shown as `***`. */
function shownArgv(job: RunJob): string[] {
  const secrets = secretsOf(job);
  return secrets.length ? job.argv.map((arg) => redactText(arg, secrets)) : job.argv;
}

/** Where a command's program is, as the job would find it; undefined when it is not found. */
function programOnPath(program: string, cwd: string): string | undefined {
  try {
    return resolve(cwd, resolveProgram(program));
  } catch {
    return undefined; // the job will fail, saying so
  }
}
