/**
 * Runs taskpool's main.ts as a real subprocess, the way a user or a script would.
 */

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/**
 * The flags of `deno task run` (deno.json) for the commands that run jobs: taskpool starts
 * them again with only what the job file needs. The other commands get what they may use.
 */
export const RUN_FLAGS = await runTaskFlags();
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-net", "--allow-run", "--allow-env"];
const RUNS_JOBS = new Set(["run", "compare", "demo"]);

async function runTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const words: string[] = config.tasks.run.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
}

/** Options for {@linkcode cli}. */
export interface CliOptions {
  cwd: string;
  /** Text for stdin; stdin is closed otherwise. */
  stdin?: string;
  env?: Record<string, string>;
  /** A lower limit on open files (`ulimit -n`) to start it with. */
  ulimitFiles?: number;
}

/** What a finished CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts taskpool with `args` and returns the process and its piped streams. */
export function spawnCli(args: string[], options: CliOptions): Deno.ChildProcess {
  const argv = ["run", ...(RUNS_JOBS.has(args[0]!) ? RUN_FLAGS : PERMISSIONS), MAIN, ...args];
  const [program, ...rest] = options.ulimitFiles === undefined
    ? [Deno.execPath(), ...argv]
    : ["sh", "-c", `ulimit -n ${options.ulimitFiles} && exec "$@"`, "sh", Deno.execPath(), ...argv];
  return new Deno.Command(program!, {
    args: rest,
    cwd: options.cwd,
    // As started from a shell, not by `deno task` (which sets INIT_CWD and passes on each
    // Ctrl-C, so taskpool takes a repeat within 100 ms as the same one: lib/cli/signal_echo.ts).
    clearEnv: true,
    env: { ...shellEnvironment(), NO_COLOR: "1", RUST_BACKTRACE: "0", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** This process's environment without what a task runner adds. */
function shellEnvironment(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  delete env.npm_config_user_agent;
  return env;
}

/** Runs taskpool to the end. */
export async function cli(args: string[], options: CliOptions): Promise<CliResult> {
  const child = spawnCli(args, options);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  // Deno's own lines when it fills an empty npm cache (a fresh machine's first run), not taskpool's.
  const said = decoder.decode(stderr).replace(/^Download https?:\/\/\S+\n/gm, "");
  return { code, stdout: decoder.decode(stdout), stderr: said };
}
