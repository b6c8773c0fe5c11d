/**
 * `deno task bench`: figures with ratios against the ideal, for the README. Not a test: it
 * prints what it measured and asserts nothing.
 *
 * - downloads (bench/downloads.ts): taskpool, a bare fetch loop and curl against a loopback
 *   server with injected latency; ratio = wall / (ceil(N / io) x latency + bytes / bandwidth)
 *
 * `deno task bench downloads` runs only the download figures.
 * - cpu: 4 x builtin:count sized to about 1 s each, on 1 Worker vs on all cores
 * - overhead: tiny compute and run jobs per second through the whole pipeline
 */
import { loadPlan } from "../lib/jobfile/mod.ts";
import { runPlan } from "../lib/run.ts";
import count from "../tasks/builtin/count.ts";
import { benchDownloads } from "./downloads.ts";

async function runYaml(yaml: string): Promise<{ wallMs: number; ok: number; total: number }> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/jobs.yaml`, yaml);
    const plan = await loadPlan(`${dir}/jobs.yaml`);
    const report = await runPlan(plan);
    return { wallMs: report.wallMs, ok: report.summary.ok, total: report.summary.total };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function benchCpu() {
  // Size n so one count takes about 1 s here.
  const probe = 20_000_000;
  const t0 = performance.now();
  count(probe);
  const n = Math.round(probe * 1000 / (performance.now() - t0));
  const yaml = (cpu: number) =>
    `concurrency: { io: 1, cpu: ${cpu} }\njobs:\n  - { name: count, compute: { module: 'builtin:count', args: [${n}] }, repeat: 4 }\n`;
  const one = await runYaml(yaml(1));
  const all = await runYaml(yaml(navigator.hardwareConcurrency));
  const speedup = one.wallMs / all.wallMs;
  console.log(
    `cpu        4 x count(${n.toExponential(1)}): 1 worker ${one.wallMs.toFixed(0)} ms; ` +
      `${navigator.hardwareConcurrency} workers ${all.wallMs.toFixed(0)} ms; speedup ${
        speedup.toFixed(2)
      } ` +
      `(ideal ${Math.min(4, navigator.hardwareConcurrency)})`,
  );
}

async function benchOverhead() {
  const computeJobs = 2000;
  const compute = await runYaml(
    `jobs:\n  - { name: tiny, compute: { module: 'builtin:count', args: [1] }, repeat: ${computeJobs} }\n`,
  );
  const runJobs = 200;
  const commands = await runYaml(`jobs:\n  - { name: t, run: ['true'], repeat: ${runJobs} }\n`);
  console.log(
    `overhead   ${computeJobs} tiny compute jobs: ${
      (computeJobs / compute.wallMs * 1000).toFixed(0)
    } jobs/s; ` +
      `${runJobs} 'true' commands: ${(runJobs / commands.wallMs * 1000).toFixed(0)} jobs/s`,
  );
}

console.log(`taskpool bench on ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`);
const only = Deno.args[0];
if (!only || only === "downloads") await benchDownloads();
if (only === "downloads") Deno.exit(0);
await benchCpu();
await benchOverhead();
