/**
 * `deno task bench`: figures with ratios against the ideal, for docs/benchmarks.md. Not a test: it
 * prints what it measured and asserts nothing.
 *
 * - downloads (bench/downloads.ts): taskpool, a bare fetch loop and curl against a loopback
 *   server with injected latency; ratio = wall / (ceil(N / io) x latency + bytes / bandwidth)
 *
 * - cpu (bench/cpu.ts): 4 x builtin:count sized to about 1 s each on Workers and on processes
 *   vs one thread; 10,000 tiny compute jobs vs a bare postMessage pool; 200 `true` commands vs
 *   `xargs -P`; a cold pool's time to its first result; a 64 MiB result written to its file from
 *   each isolation, vs the same bytes written in one process
 *
 * - startup (bench/startup.ts): whole processes (`--version`, `--help`, `validate`, a one-job
 *   run through `deno task run` and through the bundle) against a bare `deno run hello.ts`
 *
 * - features (bench/download_features.ts): the bandwidth limit's accuracy and cost, split
 *   downloads against a per-connection cap, mirror failover, as whole processes
 *
 * - distributed (bench/distributed.ts): runs through Redis and 2 worker processes against a
 *   local run beside them, and how soon a SIGKILLed worker's job runs again
 *
 * - perjob (bench/per_job.ts): what each job costs in time and memory, tiny files against curl
 *   and tiny compute jobs, at growing counts
 *
 * `deno task bench startup`, `downloads`, `cpu`, `features`, `distributed` or `perjob` runs one
 * part.
 */
import { benchCpu } from "./cpu.ts";
import { benchDownloads } from "./downloads.ts";
import { benchStartup } from "./startup.ts";
import { benchDownloadFeatures } from "./download_features.ts";
import { benchDistributed } from "./distributed.ts";
import { benchPerJob } from "./per_job.ts";
import { saveResults } from "./results.ts";

console.log(`taskpool bench on ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`);
const only = Deno.args[0];
if (!only || only === "startup") await benchStartup();
if (!only || only === "downloads") await benchDownloads();
if (!only || only === "cpu") await benchCpu();
if (!only || only === "features") await benchDownloadFeatures();
if (!only || only === "distributed") await benchDistributed();
if (!only || only === "perjob") await benchPerJob();
console.log(`raw figures: ${await saveResults(only ?? "all")}`);
