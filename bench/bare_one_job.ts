/**
 * The start-up benchmark's floor: the least a Deno program does to run a one-job file: read it,
 * start the command (`true`), write a report atomically. No parsing, checking, lock or progress.
 *
 * Usage: deno run --allow-read --allow-write --allow-run bench/bare_one_job.ts JOBFILE REPORT
 */
const [jobFile, report] = Deno.args as [string, string];
await Deno.readTextFile(jobFile);
const started = performance.now();
const { code } = await new Deno.Command("true", { stdout: "null", stderr: "null" }).output();
await Deno.writeTextFile(
  `${report}.tmp`,
  JSON.stringify({ code, ms: performance.now() - started }),
);
await Deno.rename(`${report}.tmp`, report);
