/**
 * A kind is one definition and one entry in the list of kinds: a fourth kind, defined only in
 * this test's data (tests/testdata/sleep_kind.ts), goes through validation, the schema, `plan`,
 * the scheduler, the report and the HTML timeline with no change to lib/ or tasks/.
 */
import assert from "node:assert/strict";
import { main } from "../main.ts";
import type { CliIo } from "../lib/cli/io.ts";
import type { Kinds } from "../lib/kind_definition.ts";
import type { Report } from "../lib/report/types.ts";
import { KINDS } from "../tasks/mod.ts";
import { tempDir } from "./helpers/temp.ts";
import { sleepKind } from "./testdata/sleep_kind.ts";

const WITH_SLEEP = [...KINDS, sleepKind];

/** Runs the CLI in this process with `kinds`; what it printed and its exit code. */
async function taskpool(args: string[], kinds: Kinds = WITH_SLEEP) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stderrIsTty: false,
    color: false,
  };
  const code = await main(args, io, { kinds });
  return { code, stdout, stderr };
}

const JOBS = [
  "output: out",
  "jobs:",
  "  - { name: first, run: [sh, -c, 'echo hi'] }",
  "  - { name: nap, sleep: { ms: 30ms }, needs: [first], repeat: 2 }",
  "",
].join("\n");

Deno.test("a kind that only the caller registers is validated, planned, run, reported and drawn", async () => {
  await using dir = await tempDir();
  const file = await dir.write("jobs.yaml", JOBS);

  // The registry decides what a job file may say.
  const without = await taskpool(["validate", file], KINDS);
  assert.equal(without.code, 2);
  assert.match(without.stderr, /jobs\.yaml:4:\d+: jobs\[1\]\.sleep is not a known key/);
  assert.match(without.stderr, /must have one of download, compute or run: got none/);
  assert.equal((await taskpool(["validate", "--quiet", file])).code, 0);

  // Its schema, its checks and its entry rules, with file, line and field.
  const bad = await dir.write(
    "bad.yaml",
    "jobs:\n  - { name: nap, sleep: { ms: soon }, inputs: [x] }\n",
  );
  const rejected = await taskpool(["validate", bad]);
  assert.equal(rejected.code, 2);
  assert.match(rejected.stderr, /bad\.yaml:2:\d+: jobs\[0\]\.sleep\.ms must be a duration/);
  assert.match(
    rejected.stderr,
    /bad\.yaml:2:\d+: jobs\[0\]\.inputs applies to compute and run jobs only \(a sleep reads/,
  );
  const schema = JSON.parse((await taskpool(["schema"])).stdout);
  assert.ok(JSON.stringify(schema).includes('"sleep"'));

  const plan = await taskpool(["plan", file]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /nap\/1\s+sleep\s+30 ms\s+needs first/);

  const html = `${dir.path}/timeline.html`;
  const run = await taskpool(["run", file, "--html", html, "--quiet"]);
  assert.equal(run.code, 0, run.stderr);
  const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  const first = report.jobs.find((job) => job.name === "first")!;
  for (const name of ["nap/1", "nap/2"]) {
    const nap = report.jobs.find((job) => job.name === name)!;
    assert.equal(nap.kind, "sleep");
    assert.equal(nap.status, "ok");
    assert.ok((nap.sleptMs as number) >= 30, `${name} slept ${nap.sleptMs} ms`);
    assert.ok(nap.startMs! >= first.endMs, `${name} started before the job it needs ended`);
  }
  assert.match(await Deno.readTextFile(html), /nap\/1/);
});
