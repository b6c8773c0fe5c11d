/**
 * CPU figures for `deno task bench`: speedup of compute jobs on Workers and on processes against
 * the same work in one thread, jobs per second of tiny jobs against a bare postMessage pool,
 * `true` commands against `xargs -P`, a cold pool's time to its first result, and a large result
 * written to its file from each isolation.
 *
 * @module
 */
import { loadPlan } from "../lib/jobfile/mod.ts";
import { ProcessPool } from "../lib/pools/process/process_pool.ts";
import { runPlan } from "../lib/run/run_plan.ts";
import { KINDS } from "../tasks/mod.ts";
import { WorkerPool } from "../lib/pools/worker/worker_pool.ts";
import count from "../tasks/compute/builtin/count.ts";
import { type CliRun, runCli } from "./run_cli.ts";
import { hostProfile, threadProfile, workerProfile } from "../tasks/compute/privileges.ts";
import { record } from "./results.ts";

const CORES = navigator.hardwareConcurrency;

/**
 * Runs `yaml`, written to a job file of its own, with `run`, which must succeed in full: as users
 * do, through the CLI in a process of its own ({@linkcode runCli}: the report's wall time and the
 * whole process's), or in this process, as a pool's overhead is measured beside a bare pool here.
 */
async function runYaml<R extends { wallMs: number; summary: { ok: number; total: number } }>(
  yaml: string,
  run: (file: string) => Promise<R>,
): Promise<R> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/jobs.yaml`, yaml);
    const report = await run(`${dir}/jobs.yaml`);
    if (report.summary.ok !== report.summary.total) {
      throw new Error(`bench run failed: ${JSON.stringify(report.summary)}`);
    }
    return report;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A job file run in this process. */
async function inProcess(file: string) {
  return await runPlan(await loadPlan(file, { kinds: KINDS }), { kinds: KINDS });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function speedups(): Promise<void> {
  // Size n so one count takes about 1 s here, timed once the loop is compiled: a cold probe
  // took twice as long per step and sized the counts to 0.4 s, where start-up weighs double.
  const probe = 100_000_000;
  count(probe);
  const t0 = performance.now();
  count(probe);
  const n = Math.round(probe * 1000 / (performance.now() - t0));
  const yaml = (isolation: string) =>
    `concurrency: { cpu: ${CORES} }\njobs:\n  - { name: count, compute: { module: 'builtin:count', args: [${n}], isolation: ${isolation} }, repeat: 4 }\n`;
  // Rounds of the three side by side, medians of 3: a single run on a shared VM varies by a
  // tenth, and a slow spell of the VM then weighs on one round of each, not on one of them.
  const sequentials: number[] = [];
  const walls = { worker: [] as number[], process: [] as number[] };
  const wholes = { worker: [] as number[], process: [] as number[] };
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let i = 0; i < 4; i++) count(n);
    sequentials.push(performance.now() - started);
    for (const isolation of ["worker", "process"] as const) {
      const run = await runYaml(yaml(isolation), runCli);
      walls[isolation].push(run.wallMs);
      wholes[isolation].push(run.wholeMs);
    }
  }
  const sequentialMs = median(sequentials);
  for (const [isolation, target] of [["worker", 1.85], ["process", 1.75]] as const) {
    const wallMs = median(walls[isolation]);
    const wholeMs = median(wholes[isolation]);
    const byRound = walls[isolation].map((wall, round) => sequentials[round]! / wall);
    record({
      case: `4 x count on ${isolation === "worker" ? "Workers" : "processes"}`,
      wallMs: wallMs,
      wholeMs,
      oneThreadMs: sequentialMs,
      speedup: sequentialMs / wallMs,
      wholeSpeedup: sequentialMs / wholeMs,
      target: target,
      rounds: byRound,
    });
    console.log(
      `cpu        4 x count(${n.toExponential(1)}) on ${CORES} ${
        isolation === "worker" ? "Workers" : "processes"
      }: ${wallMs.toFixed(0)} ms vs ${sequentialMs.toFixed(0)} ms in one thread: speedup ${
        (sequentialMs / wallMs).toFixed(2)
      } (ideal ${Math.min(4, CORES)}, target >= ${target}; medians of 3; rounds ${
        Math.min(...byRound).toFixed(2)
      }-${Math.max(...byRound).toFixed(2)}); whole process ${wholeMs.toFixed(0)} ms: ${
        (sequentialMs / wholeMs).toFixed(2)
      }`,
    );
  }
}

/** Tasks per second of a bare pool: `CORES` Workers, 32 messages in flight each. */
async function barePool(tasks: number): Promise<number> {
  const workers = Array.from(
    { length: CORES },
    () => new Worker(new URL("./bare_pool_worker.ts", import.meta.url), { type: "module" }),
  );
  try {
    // Warm: each Worker answers once.
    await Promise.all(workers.map((worker) =>
      new Promise<void>((resolve) => {
        worker.onmessage = () => resolve();
        worker.postMessage({ id: 0, n: 1 });
      })
    ));
    let sent = 0;
    let done = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      for (const worker of workers) {
        worker.onmessage = () => {
          if (++done === tasks) resolve();
          else if (sent < tasks) worker.postMessage({ id: ++sent, n: 1 });
        };
        for (let i = 0; i < 32 && sent < tasks; i++) worker.postMessage({ id: ++sent, n: 1 });
      }
    });
    return tasks / (performance.now() - started) * 1000;
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

async function overhead(): Promise<void> {
  const tiny = 10_000;
  // Rounds of the bare pool and both isolations, side by side: medians of 3 each, so that a
  // slow moment of the shared VM weighs on one round of all three, not on one of them.
  const bare: number[] = [];
  const rates = { worker: [] as number[], thread: [] as number[] };
  const wholes = { worker: [] as number[], thread: [] as number[] };
  for (let round = 0; round < 3; round++) {
    bare.push(await barePool(100_000));
    for (const isolation of ["worker", "thread"] as const) {
      const yaml =
        `concurrency: { cpu: ${CORES} }\njobs:\n  - { name: tiny, compute: { module: 'builtin:count', args: [1], isolation: ${isolation} }, repeat: ${tiny} }\n`;
      // The pool's rate in this process, beside the bare pool; the CLI's whole process too.
      rates[isolation].push(tiny / (await runYaml(yaml, inProcess)).wallMs * 1000);
      wholes[isolation].push((await runYaml(yaml, runCli)).wholeMs);
    }
  }
  for (const isolation of ["worker", "thread"] as const) {
    const rate = median(rates[isolation]);
    const wholeMs = median(wholes[isolation]);
    const byRound = rates[isolation].map((r, round) => r / bare[round]!);
    record({
      case: `${tiny} tiny compute jobs, isolation ${isolation}`,
      jobsPerSecond: rate,
      barePoolPerSecond: median(bare),
      ratio: rate / median(bare),
      wholeMs,
      target: 0.5,
      rounds: byRound,
    });
    console.log(
      `overhead   ${tiny} tiny compute jobs, isolation ${isolation}: ${rate.toFixed(0)} jobs/s; ` +
        `bare ${CORES}-Worker postMessage pool ${median(bare).toFixed(0)} tasks/s: ratio ` +
        `${(rate / median(bare)).toFixed(2)} (target >= 0.5; medians of 3; rounds ` +
        `${Math.min(...byRound).toFixed(2)}-${Math.max(...byRound).toFixed(2)}); through the ` +
        `CLI, whole process ${wholeMs.toFixed(0)} ms`,
    );
  }

  // Through the CLI, as users run it: with narrow permissions, process groups are signalled
  // another way than with Deno.kill.
  const commands = 200;
  const run = await runYaml(
    `concurrency: { cpu: ${CORES} }\njobs:\n  - { name: t, run: ['true'], repeat: ${commands} }\n`,
    runCli,
  );
  const xargsMs = await xargs(commands);
  const ours = commands / run.wallMs * 1000;
  const theirs = commands / xargsMs * 1000;
  record({
    case: `${commands} true commands`,
    jobsPerSecond: ours,
    wholeMs: run.wholeMs,
    xargsPerSecond: theirs,
    xargsWholeMs: xargsMs,
    ratio: ours / theirs,
  });
  console.log(
    `overhead   ${commands} 'true' commands: ${ours.toFixed(0)} jobs/s; xargs -P${CORES} ` +
      `${theirs.toFixed(0)} jobs/s: ratio ${(ours / theirs).toFixed(2)}; whole processes ` +
      `${run.wholeMs.toFixed(0)} ms against xargs' ${xargsMs.toFixed(0)} ms`,
  );
}

async function xargs(commands: number): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command("xargs", {
    args: [`-P${CORES}`, "-n1", "true"],
    stdin: "piped",
    stdout: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("x\n".repeat(commands)));
  await writer.close();
  await child.status;
  return performance.now() - started;
}

/** A cold pool's time from creation to its first result, median of 5. */
async function coldStart(): Promise<void> {
  const moduleUrl = new URL("../tasks/compute/builtin/count.ts", import.meta.url).href;
  const job = {
    moduleUrl,
    memoryMb: undefined,
    permissions: { read: [], write: [], net: false as const, env: false as const },
  };
  const output = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  const task = { moduleUrl, exportName: "default", args: [1], context: {} };
  const worker: number[] = [];
  const thread: number[] = [];
  const process: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      for (const [profile, times] of [[workerProfile, worker], [threadProfile, thread]] as const) {
        const workers = new WorkerPool({ size: 1 });
        const started = performance.now();
        await workers.run(task, { profile: profile(job, output) });
        times.push(performance.now() - started);
        await workers.close();
      }
      const processes = new ProcessPool({ size: 1 });
      const started = performance.now();
      await processes.run(task, { profile: hostProfile(job, output) });
      process.push(performance.now() - started);
      await processes.close();
    }
  } finally {
    await Deno.remove(output, { recursive: true });
  }
  record({
    case: "cold pool, first result",
    workerMs: median(worker),
    threadMs: median(thread),
    processMs: median(process),
  });
  console.log(
    `cold start first result from a new pool: Worker ${median(worker).toFixed(0)} ms, ` +
      `thread ${median(thread).toFixed(0)} ms, process ${median(process).toFixed(0)} ms ` +
      `(medians of 5)`,
  );
}

/**
 * The same four counts through the CLI as a user runs it, `--cpu 2` against `--cpu 1`, each
 * timed as a whole process (what `time deno task run` shows) and as the report says, in rounds
 * side by side.
 */
async function wholeProcessSpeedup(): Promise<void> {
  const probe = 100_000_000;
  count(probe);
  const t0 = performance.now();
  count(probe);
  const n = Math.round(probe * 1000 / (performance.now() - t0));
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(
      `${dir}/jobs.yaml`,
      `output: out\njobs:\n  - { name: count, compute: { module: 'builtin:count', args: [${n}] }, repeat: 4 }\n`,
    );
    const runs = { 1: [] as CliRun[], [CORES]: [] as CliRun[] };
    // The floor, in the same rounds: the same counts on bare Workers in a fresh process.
    const bare = { 1: [] as number[], [CORES]: [] as number[] };
    for (let round = 0; round < 3; round++) {
      for (const cpu of [1, CORES]) {
        runs[cpu]!.push(await runCli(`${dir}/jobs.yaml`, ["--cpu", String(cpu)]));
        bare[cpu]!.push(await bareCounts(n, cpu));
      }
    }
    const bareSpeedup = median(bare[1]!) / median(bare[CORES]!);
    const whole = (cpu: number) => median(runs[cpu]!.map((run) => run.wholeMs));
    const inReport = (cpu: number) => median(runs[cpu]!.map((run) => run.wallMs));
    const speedup = whole(1) / whole(CORES);
    record({
      case: `4 x count through the CLI, --cpu ${CORES} against --cpu 1`,
      wholeMs: { 1: whole(1), [CORES]: whole(CORES) },
      reportMs: { 1: inReport(1), [CORES]: inReport(CORES) },
      wholeSpeedup: speedup,
      reportSpeedup: inReport(1) / inReport(CORES),
      bareWholeMs: { 1: median(bare[1]!), [CORES]: median(bare[CORES]!) },
      bareSpeedup,
      target: 1.85,
    });
    console.log(
      `cpu        4 x count(${n.toExponential(1)}) through the CLI: --cpu ${CORES} ${
        whole(CORES).toFixed(0)
      } ms vs --cpu 1 ${whole(1).toFixed(0)} ms as whole processes: speedup ${
        speedup.toFixed(2)
      } (target >= 1.85${speedup >= 1.85 ? " met" : " NOT met"}); in the reports ${
        (inReport(1) / inReport(CORES)).toFixed(2)
      } (medians of 3)`,
    );
    console.log(
      `cpu        the same counts on bare Workers in a fresh process (the floor): ${
        median(bare[CORES]!).toFixed(0)
      } ms vs ${median(bare[1]!).toFixed(0)} ms: speedup ${bareSpeedup.toFixed(2)}; taskpool ${
        (speedup / bareSpeedup).toFixed(2)
      } of it`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The whole-process time of 4 x `count(n)` on `size` bare Workers (bench/bare_cpu.ts). */
async function bareCounts(n: number, size: number): Promise<number> {
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      new URL("./bare_cpu.ts", import.meta.url).pathname,
      `${n}`,
      `${size}`,
    ],
    stdout: "null",
  }).output();
  if (code !== 0) throw new Error(`bare_cpu.ts exited with ${code}`);
  return performance.now() - started;
}

/**
 * A compute job's large result: 64 MiB of bytes written to its `to:` file, from a thread in
 * taskpool's process, a Worker host and a process host, through the CLI; beside the same bytes
 * made and written in one bare process, timed the same way.
 */
async function largeResult(): Promise<void> {
  const mib = 64;
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bytes.ts`,
      "export const bytes = (mib: number) => new Uint8Array(mib * 2 ** 20).fill(7);\n",
    );
    const isolations = ["thread", "worker", "process"] as const;
    await Deno.writeTextFile(
      `${dir}/jobs.yaml`,
      "output: out\nconcurrency: { cpu: 1 }\njobs:\n" +
        isolations.map((isolation) =>
          `  - { name: ${isolation}, compute: { module: ./bytes.ts, export: bytes, args: [${mib}], ` +
          `to: ${isolation}.bin, isolation: ${isolation} } }\n`
        ).join(""),
    );
    const jobMs: Record<string, number[]> = { thread: [], worker: [], process: [] };
    const bare: number[] = [];
    for (let round = 0; round < 3; round++) {
      await runCli(`${dir}/jobs.yaml`);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/out/report.json`));
      for (const job of report.jobs) jobMs[job.name]!.push(job.durationMs);
      const started = performance.now();
      await Deno.writeFile(`${dir}/bare.bin`, new Uint8Array(mib * 2 ** 20).fill(7));
      bare.push(performance.now() - started);
    }
    const medians = Object.fromEntries(
      isolations.map((isolation) => [isolation, median(jobMs[isolation]!)]),
    );
    record({ case: `a ${mib} MiB result to a file`, jobMs: medians, bareMs: median(bare) });
    const each = isolations.map((isolation) => {
      const ms = medians[isolation]!;
      return `${isolation} ${ms.toFixed(0)} ms (${(mib / (ms / 1000)).toFixed(0)} MiB/s)`;
    });
    console.log(
      `cpu        a ${mib} MiB result to its file: ${each.join(", ")}; made and written in one ` +
        `process ${median(bare).toFixed(0)} ms (medians of 3, each job's time in the report)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every CPU figure. */
export async function benchCpu(): Promise<void> {
  await speedups();
  await wholeProcessSpeedup();
  await overhead();
  await coldStart();
  await largeResult();
}
