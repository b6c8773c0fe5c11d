/**
 * `deno task bench startup`: what a user waits for before any job runs, as whole processes,
 * each command beside a bare `deno run hello.ts` measured in the same rounds: `--version`,
 * `--help`, `validate` of examples/jobs.yaml, and a one-job file through `deno task run`, through
 * the bundle, and in one process (no child: what the least-privilege relaunch costs is the
 * difference); and the floors: a bare program that does no more than run the file's one command
 * and write a report (bench/bare_one_job.ts), the same behind a narrowed relaunch
 * (bench/bare_relaunch.ts), and that through `deno task`. Rounds take turns, so a slow spell of the machine weighs on one round of
 * each; the figures are medians and ratios to the bare start.
 */
import { record } from "./results.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ROUNDS = 7;

interface Case {
  name: string;
  args: string[];
  /** Its target as a ratio to the bare start. */
  target?: number;
  /** The report it writes: the process should be gone soon after. */
  report?: string;
}

/** Every startup figure. */
export async function benchStartup(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-startup-" });
  try {
    await Deno.writeTextFile(`${dir}/hello.ts`, 'console.log("hello");\n');
    await Deno.writeTextFile(`${dir}/one.yaml`, 'jobs:\n  - { name: t, run: ["true"] }\n');
    const bundle = await buildBundle(dir);
    const bareRelaunch = `${ROOT}bench/bare_relaunch.ts`;
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        tasks: { run: `deno run --allow-read --allow-run ${bareRelaunch}` },
      }),
    );
    const floorArgs = [`${dir}/one.yaml`, `${dir}/floor.json`];
    const run = ["--output", `${dir}/out`, "--report", `${dir}/report.json`, "-q"];
    const flags = ["--allow-read", "--allow-env", "--allow-run"];
    // Without the right to start Deno, taskpool runs the jobs in its own process.
    const inProcess = [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      await runGrant(`${dir}/one.yaml`),
    ];
    const cases: Case[] = [
      { name: "deno run hello.ts (bare)", args: ["run", `${dir}/hello.ts`] },
      { name: "taskpool --version", args: ["run", ...flags, "main.ts", "--version"], target: 1.5 },
      { name: "taskpool --help", args: ["run", ...flags, "main.ts", "--help"], target: 1.5 },
      {
        name: "taskpool validate examples/jobs.yaml",
        args: ["run", ...flags, "main.ts", "validate", "examples/jobs.yaml"],
        target: 3,
      },
      {
        name: "deno task run one.yaml (one command job)",
        args: ["task", "-q", "run", `${dir}/one.yaml`, ...run],
        target: 4,
        report: `${dir}/report.json`,
      },
      {
        name: "deno run main.ts run one.yaml",
        args: ["run", ...flags, "main.ts", "run", `${dir}/one.yaml`, ...run],
        report: `${dir}/report.json`,
      },
      {
        name: "the same in one process (no relaunch)",
        args: ["run", ...inProcess, "main.ts", "run", `${dir}/one.yaml`, ...run],
        report: `${dir}/report.json`,
      },
      {
        name: "the bundle: run one.yaml",
        args: ["run", ...flags, bundle, "run", `${dir}/one.yaml`, ...run],
        target: 3,
        report: `${dir}/report.json`,
      },
      {
        name: "floor: a bare one-job program",
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-run",
          `${ROOT}bench/bare_one_job.ts`,
          ...floorArgs,
        ],
      },
      {
        name: "floor: the same behind a narrowed relaunch",
        args: ["run", "--allow-read", "--allow-run", bareRelaunch, ...floorArgs],
      },
      {
        name: "floor: that relaunch through deno task",
        args: ["task", "-q", "--config", `${dir}/deno.json`, "run", ...floorArgs],
      },
    ];
    const times = cases.map(() => [] as number[]);
    const goneAfterReport: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, c] of cases.entries()) {
        times[index]!.push(await timeProcess(c.args));
        if (c.report) {
          goneAfterReport.push(Date.now() - (await Deno.stat(c.report)).mtime!.getTime());
        }
      }
    }
    const bare = median(times[0]!);
    console.log(
      `startup    whole processes, medians of ${ROUNDS} rounds, against a bare start of ` +
        `${bare.toFixed(0)} ms`,
    );
    for (const [index, c] of cases.entries()) {
      if (index === 0) continue;
      const ms = median(times[index]!);
      const ratio = ms / bare;
      const verdict = c.target === undefined
        ? ""
        : ratio <= c.target
        ? ` (target ${c.target}x met)`
        : ` (target ${c.target}x NOT met)`;
      record({ case: c.name, wholeMs: ms, bareMs: bare, ratio, target: c.target });
      console.log(
        `  ${c.name.padEnd(44)} ${ms.toFixed(0).padStart(5)} ms = ${ratio.toFixed(2)}x${verdict}`,
      );
    }
    const medianOf = (name: string) => median(times[cases.findIndex((c) => c.name === name)]!);
    const relaunchMs = medianOf("deno run main.ts run one.yaml") -
      medianOf("the same in one process (no relaunch)");
    record({ case: "the least-privilege relaunch", ms: relaunchMs, target: 100 });
    console.log(
      `  the least-privilege relaunch: ${relaunchMs.toFixed(0)} ms (the run with its child ` +
        `against one process; target 100 ms ${relaunchMs <= 100 ? "met" : "NOT met"})`,
    );
    // From the report's last write (its mtime) to the end of the process that wrote it.
    const gone = median(goneAfterReport);
    record({ case: "gone after the report is written", medianMs: gone, target: 30 });
    console.log(
      `  gone after the report is written: ${gone.toFixed(0)} ms (median of the two run cases; ` +
        `target 30 ms ${gone <= 30 ? "met" : "NOT met"})`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The `--allow-run=...` flag `taskpool plan` gives the run of `jobFile`. */
async function runGrant(jobFile: string): Promise<string> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "plan", jobFile],
    cwd: ROOT,
    stderr: "inherit",
  }).output();
  const flag = new TextDecoder().decode(stdout).match(/--allow-run=\S+/)?.[0];
  if (!flag) throw new Error(`taskpool plan ${jobFile} printed no --allow-run`);
  return flag;
}

/** Builds the bundle into `dir` with `deno task bundle`'s own command; resolves with its entry. */
async function buildBundle(dir: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const command = (config.tasks.bundle as string).replaceAll("dist/", `${dir}/dist/`)
    .replace("--outdir dist", `--outdir ${dir}/dist`);
  const { code, stderr } = await new Deno.Command("sh", { args: ["-c", command], cwd: ROOT })
    .output();
  if (code !== 0) throw new Error(`bundle failed: ${new TextDecoder().decode(stderr)}`);
  return `${dir}/dist/taskpool.js`;
}

/** The wall time of `deno ARGS` from spawn to exit, in ms. */
async function timeProcess(args: string[]): Promise<number> {
  const started = performance.now();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).output();
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`deno ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
