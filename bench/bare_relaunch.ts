/**
 * The start-up benchmark's floor with a least-privilege relaunch: starts a second Deno, narrowed
 * to what the job needs, that runs bench/bare_one_job.ts, and exits with its code.
 *
 * Usage: deno run --allow-read --allow-run bench/bare_relaunch.ts JOBFILE REPORT
 */
const [jobFile, report] = Deno.args as [string, string];
const { code } = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    `--allow-read=${jobFile},${report}.tmp,${report}`,
    `--allow-write=${report}.tmp,${report}`,
    "--allow-run=true",
    new URL("./bare_one_job.ts", import.meta.url).pathname,
    jobFile,
    report,
  ],
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
