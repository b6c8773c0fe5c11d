/**
 * Running the taskpool CLI as users do, for the benchmarks: `deno run` with the flags of
 * `deno task run` (deno.json), which relaunches the run in a child Deno with the job file's
 * least permissions.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** The flags of `deno task run` (deno.json). */
export const RUN_FLAGS: string[] = await runTaskFlags();

async function runTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const words: string[] = config.tasks.run.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
}

/** What the benchmarks read from a run's report, and the whole process's time. */
export interface CliRun {
  /** The report's wall time: the run proper, in the child Deno. */
  wallMs: number;
  /** From spawning `deno` to its exit: what a user waits for. */
  wholeMs: number;
  peakRssBytes: number;
  summary: { ok: number; total: number; bytes: number };
}

/**
 * Runs `taskpool run JOB_FILE --json -q [ARGS]` in its own process and returns its report, with
 * the whole process's time.
 *
 * @throws {Error} when the run does not succeed
 */
export async function runCli(jobFile: string, args: string[] = []): Promise<CliRun> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_FLAGS, `${ROOT}main.ts`, "run", jobFile, "--json", "-q", ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const wholeMs = performance.now() - started;
  const summary = JSON.parse(new TextDecoder().decode(output.stdout));
  if (summary.exitCode !== 0) throw new Error(`taskpool failed: ${JSON.stringify(summary)}`);
  return { ...JSON.parse(await Deno.readTextFile(summary.report)), wholeMs };
}
