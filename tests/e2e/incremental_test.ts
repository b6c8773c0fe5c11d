/**
 * Incremental runs: a second run of an unchanged job file does no work; a change reruns what
 * it touches. And running part of a file: --only, --skip, --rerun-failed.
 */
import assert from "node:assert/strict";
import type { Report } from "../../lib/report/types.ts";
import { cli } from "../helpers/cli.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import { tempDir } from "../helpers/temp.ts";

const statuses = (report: Report) =>
  Object.fromEntries(report.jobs.map((job) => [job.name, job.status]));

async function runJson(cwd: string, ...args: string[]) {
  const result = await cli(["run", "jobs.yaml", "--json", ...args], { cwd });
  const report: Report = JSON.parse(await Deno.readTextFile(`${cwd}/out/report.json`));
  return { ...result, report };
}

Deno.test("taskpool run: a second run of an unchanged job file does no work; each change reruns what it touches", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("n.txt", "21");
  await dir.write("factor.ts", "export const FACTOR = 2;\n");
  await dir.write(
    "double.ts",
    'import { FACTOR } from "./factor.ts";\n' +
      'export default () => Number(Deno.readTextFileSync(new URL("./n.txt", import.meta.url))) * FACTOR;\n',
  );
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: data, download: { url: '${server.url}/file/data?size=5000', to: data.bin } }`,
      "  - name: count",
      "    needs: [data]",
      "    inputs: [out/data.bin]",
      "    outputs: [count.txt]",
      `    run: [sh, -c, 'wc -c < data.bin > count.txt; echo ran >> runs.txt']`,
      "    cwd: out",
      "  - { name: double, compute: { module: ./double.ts }, inputs: [n.txt] }",
      "  - { name: plain, run: [sh, -c, 'echo ran >> out/plain.txt'] }",
    ].join("\n"),
  );
  const first = await runJson(dir.path);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(statuses(first.report), { data: "ok", count: "ok", double: "ok", plain: "ok" });
  assert.equal(first.report.jobs.find((job) => job.name === "double")?.result, 42);

  // Nothing changed: nothing is done, except the job that declares no files.
  const second = await runJson(dir.path);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(statuses(second.report), {
    data: "cached",
    count: "cached",
    double: "cached",
    plain: "ok",
  });
  const double = second.report.jobs.find((job) => job.name === "double")!;
  assert.equal(double.cached, "unchanged");
  assert.equal(double.result, 42, "a cached compute job reports its last result");
  assert.equal(await Deno.readTextFile(`${dir.path}/out/runs.txt`), "ran\n");
  assert.equal(server.hits.get("/file/data"), 2, "the second request was a conditional one");

  // An input's content changes: that job alone runs.
  await dir.write("n.txt", "50");
  const third = await runJson(dir.path);
  assert.equal(statuses(third.report).double, "ok");
  assert.equal(third.report.jobs.find((job) => job.name === "double")?.result, 100);
  assert.equal(statuses(third.report).count, "cached");

  // A module the compute module imports changes: that job alone runs.
  await dir.write("factor.ts", "export const FACTOR = 3;\n");
  const edited = await runJson(dir.path);
  assert.equal(statuses(edited.report).double, "ok");
  assert.equal(edited.report.jobs.find((job) => job.name === "double")?.result, 150);
  assert.equal(statuses(edited.report).count, "cached");

  // A declared output is gone: its job runs again.
  await Deno.remove(`${dir.path}/out/count.txt`);
  const fourth = await runJson(dir.path);
  assert.equal(statuses(fourth.report).count, "ok");
  assert.equal((await Deno.readTextFile(`${dir.path}/out/count.txt`)).trim(), "5000");

  // What a job needs changed upstream: the download runs, so does the job after it.
  server.bump("data");
  const fifth = await runJson(dir.path);
  assert.deepEqual([statuses(fifth.report).data, statuses(fifth.report).count], ["ok", "ok"]);
  assert.equal(await Deno.readTextFile(`${dir.path}/out/runs.txt`), "ran\nran\nran\n");

  // --force runs everything.
  const forced = await runJson(dir.path, "--force");
  assert.ok(forced.report.jobs.every((job) => job.status === "ok"), forced.stdout);
});

Deno.test("taskpool run: inputs reached through symlinks count, a file or a folder linked in from elsewhere", async () => {
  await using dir = await tempDir();
  await using elsewhere = await tempDir();
  await elsewhere.write("shared/data.txt", "one\n");
  await elsewhere.write("note.txt", "first\n");
  await dir.write("src/own.txt", "own\n");
  await Deno.symlink(`${elsewhere.path}/shared`, `${dir.path}/src/shared`);
  await Deno.symlink(`${elsewhere.path}/note.txt`, `${dir.path}/src/note.txt`);
  await Deno.symlink(`${dir.path}/src`, `${dir.path}/src/again`); // a loop: walked once
  await Deno.symlink(`${dir.path}/gone.txt`, `${dir.path}/src/dangling.txt`); // matches nothing
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - name: gather",
      `    run: [sh, -c, 'cat src/own.txt src/note.txt src/shared/data.txt > "$TASKPOOL_OUTPUT/all.txt"']`,
      '    inputs: ["src/**/*.txt"]',
      "    outputs: [all.txt]",
    ].join("\n"),
  );
  const status = async () => statuses((await runJson(dir.path)).report).gather;
  assert.equal(await status(), "ok");
  assert.equal(await status(), "cached");
  await elsewhere.write("shared/data.txt", "two\n");
  assert.equal(await status(), "ok", "a change in a linked folder reruns the job");
  assert.equal(await status(), "cached");
  await elsewhere.write("note.txt", "second\n");
  assert.equal(await status(), "ok", "a change in a linked file reruns the job");
  assert.equal(await Deno.readTextFile(`${dir.path}/out/all.txt`), "own\nsecond\ntwo\n");
});

Deno.test("taskpool run: a job that does not write its declared output fails", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - { name: lazy, run: ['true'], outputs: [made.txt] }\n",
  );
  const run = await runJson(dir.path);
  assert.equal(run.code, 1);
  const job = run.report.jobs[0]!;
  assert.equal(job.status, "failed");
  assert.equal(job.error?.code, "MISSING_OUTPUT");
  assert.match(job.error?.message ?? "", /did not write its declared output: .*\/out\/made\.txt/);
});

Deno.test("taskpool run --only, --skip and --rerun-failed pick jobs by name, with what they need", async () => {
  await using dir = await tempDir();
  const log = (name: string) => `run: [sh, -c, 'echo ${name} >> "$TASKPOOL_OUTPUT/order.txt"']`;
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: fetch, ${log("fetch")} }`,
      `  - { name: build, needs: [fetch], ${log("build")} }`,
      `  - { name: test, needs: [build], run: [sh, -c, 'test -e "$TASKPOOL_OUTPUT/pass"'] }`,
      `  - { name: docs, ${log("docs")} }`,
      `  - { name: shots, repeat: 2, needs: [build], ${log("shot")} }`,
    ].join("\n"),
  );
  const order = async () => {
    const text = await Deno.readTextFile(`${dir.path}/out/order.txt`).catch(() => "");
    await Deno.remove(`${dir.path}/out/order.txt`).catch(() => {});
    return text.trim().split("\n").filter(Boolean).sort();
  };

  const only = await runJson(dir.path, "--only", "build");
  assert.equal(only.code, 0, only.stderr);
  assert.deepEqual(only.report.jobs.map((job) => job.name), ["fetch", "build"]);
  assert.deepEqual(await order(), ["build", "fetch"]);
  assert.match(only.stderr, /running 2 of 6 jobs/);

  const skip = await runJson(dir.path, "--skip", "build,docs");
  assert.deepEqual(skip.report.jobs.map((job) => job.name), ["fetch"]);
  assert.match(skip.stderr, /--skip also leaves out what needs it: test, shots\/1, shots\/2/);

  const typo = await cli(["run", "jobs.yaml", "--only", "biuld"], { cwd: dir.path });
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /--only biuld: no job or group has that name \(did you mean "build"\?\)/,
  );
  // An empty --only (a script's empty variable) runs nothing: refused, not a success.
  const empty = await cli(["run", "jobs.yaml", "--only", ""], { cwd: dir.path });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /--only needs a job or group name: got ""/);

  // test fails; then only it runs again, not what it needs (that succeeded).
  const full = await runJson(dir.path);
  assert.equal(full.code, 1);
  assert.equal(statuses(full.report).test, "failed");
  await Deno.copyFile(`${dir.path}/out/report.json`, `${dir.path}/failed.json`);
  await order();
  await Deno.writeTextFile(`${dir.path}/out/pass`, "");
  const rerun = await runJson(dir.path, "--rerun-failed", "failed.json");
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(rerun.report.jobs.map((job) => job.name), ["test"]);
  assert.deepEqual(await order(), []);
  assert.match(
    rerun.stderr,
    /running 1 of 6 jobs \(what failed, was skipped or cancelled in failed\.json\)/,
  );

  // Bare, it takes the last run's report; one rerun after another reruns only what still fails
  // (a rerun's report lists only what it ran).
  await Deno.remove(`${dir.path}/out/pass`);
  assert.equal((await runJson(dir.path)).code, 1);
  await order();
  for (const args of [["--rerun-failed"], ["--rerun-failed", "-q"]]) {
    const again = await cli(["run", ...args, "jobs.yaml"], { cwd: dir.path });
    assert.equal(again.code, 1, again.stderr);
    assert.match(
      again.stderr,
      /running 1 of 6 jobs \(what failed, was skipped or cancelled in \S+out\/report\.json\)/,
    );
    assert.deepEqual(await order(), []);
  }
  await Deno.writeTextFile(`${dir.path}/out/pass`, "");
  const fixed = await cli(["run", "jobs.yaml", "--rerun-failed"], { cwd: dir.path });
  assert.equal(fixed.code, 0, fixed.stderr);
  const none = await cli(["run", "jobs.yaml", "--rerun-failed"], { cwd: dir.path });
  assert.match(none.stderr, /running 0 of 6 jobs/);
  // With a report history, the newest report; with none yet, it says so.
  const history = ["--report", "reports/{date}-{time}.json"];
  const first = await cli(["run", "jobs.yaml", ...history, "--rerun-failed"], { cwd: dir.path });
  assert.equal(first.code, 2, first.stderr);
  assert.match(
    first.stderr,
    /--rerun-failed: no report of an earlier run at \S+reports\/\{date\}-\{time\}\.json/,
  );
  await Deno.remove(`${dir.path}/out/pass`);
  assert.equal((await cli(["run", "jobs.yaml", ...history], { cwd: dir.path })).code, 1);
  await order();
  const newest = await cli(["run", "jobs.yaml", ...history, "--rerun-failed"], { cwd: dir.path });
  assert.match(
    newest.stderr,
    /running 1 of 6 jobs \(what failed, was skipped or cancelled in \S+reports\/\d{4}-\d\d-\d\d-\d{6}\.json\)/,
  );

  // The report of another job file, whose jobs would all run again: refused, nothing run.
  await dir.write("other.yaml", "output: out2\njobs:\n  - { name: t, run: [touch, ran] }\n");
  const other = await cli(["run", "other.yaml", "--rerun-failed", "failed.json"], {
    cwd: dir.path,
  });
  assert.equal(other.code, 2, other.stderr);
  assert.match(
    other.stderr,
    /--rerun-failed failed\.json: names none of this job file's jobs \(it is the report of jobs\.yaml\)/,
  );
  assert.equal(await Deno.stat(`${dir.path}/out2`).catch(() => "none"), "none");
});
