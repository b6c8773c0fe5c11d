import assert from "node:assert/strict";
import { readReport } from "../../lib/report/read.ts";
import type { Report } from "../../lib/report/types.ts";
import { cli } from "../helpers/cli.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import { tempDir } from "../helpers/temp.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).pathname;

/** Every attempt of the report, as [start, end], by start. */
function attempts(report: Report, kinds?: string[]): [number, number][] {
  return report.jobs
    .filter((job) => !kinds || kinds.includes(job.kind))
    .flatMap((job) => job.attemptLog.map((a) => [a.startMs, a.endMs] as [number, number]))
    .sort((a, b) => a[0] - b[0]);
}

function assertOneAtATime(spans: [number, number][], what: string): void {
  for (let i = 1; i < spans.length; i++) {
    assert.ok(spans[i]![0] >= spans[i - 1]![1], `${what} overlap: ${JSON.stringify(spans)}`);
  }
}

Deno.test("taskpool run --mode sequential: one job at a time, compute on the main thread", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "concurrency: { io: 4, cpu: 2 }",
      "jobs:",
      `  - { name: files, download: { urls: ['${server.url}/bytes/10', '${server.url}/bytes/20', '${server.url}/bytes/30'] } }`,
      `  - { name: sums, compute: { module: ${WORK}, export: add, args: [2, 3] }, repeat: 2 }`,
      "  - { name: cmd, run: ['true'] }",
    ].join("\n"),
  );
  const { code, stderr } = await cli(
    ["run", "jobs.yaml", "--mode", "sequential", "--trace", "run.trace.json"],
    { cwd: dir.path },
  );
  assert.equal(code, 0, stderr);
  const report = await readReport(`${dir.path}/downloads/report.json`);
  assert.equal(report.mode.used, "sequential");
  assert.deepEqual([report.concurrency.io, report.concurrency.cpu], [1, 1]);
  assertOneAtATime(attempts(report), "jobs");
  assert.deepEqual(new Set(report.jobs.map((job) => job.lane)), new Set(["cpu-1"]));
  const sums = report.jobs.filter((job) => job.kind === "compute");
  assert.deepEqual(sums.map((job) => [job.isolation, job.result]), [["main", 5], ["main", 5]]);
  const { traceEvents } = JSON.parse(await Deno.readTextFile(`${dir.path}/run.trace.json`));
  const threads = traceEvents.filter((e: { name: string }) => e.name === "thread_name");
  assert.deepEqual(threads.map((e: { args: { name: string } }) => e.args.name), ["cpu-1"]);
  assert.equal(traceEvents.filter((e: { ph: string }) => e.ph === "X").length, 6);
});

Deno.test("taskpool run --mode async: downloads at once, compute one at a time on the main thread", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  // The `together` route answers only once all three requests are in flight at once.
  const files = [1, 2, 3].map((i) =>
    `  - { name: f${i}, download: { url: '${server.url}/together/a?n=3', to: f${i}.bin } }`
  );
  await dir.write(
    "jobs.yaml",
    [
      "concurrency: { io: 4, cpu: 2 }",
      "jobs:",
      ...files,
      `  - { name: sums, compute: { module: ${WORK}, export: add, args: [1, 1] }, repeat: 3 }`,
    ].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "--mode", "async"], { cwd: dir.path });
  assert.equal(code, 0, stderr);
  const report = await readReport(`${dir.path}/downloads/report.json`);
  assert.equal(report.mode.used, "async");
  assert.equal(server.mostInFlight.get("a"), 3);
  assertOneAtATime(attempts(report, ["compute"]), "compute jobs");
  assert.ok(
    report.jobs.filter((job) => job.kind === "compute").every((job) => job.isolation === "main"),
  );
});

Deno.test("taskpool run --mode workers|processes puts every compute job on that pool", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      `  - { name: w, compute: { module: ${WORK}, export: add, args: [1, 2], isolation: worker } }`,
      `  - { name: p, compute: { module: ${WORK}, export: add, args: [3, 4], isolation: process } }`,
    ].join("\n"),
  );
  for (const [mode, isolation] of [["workers", "worker"], ["processes", "process"]]) {
    const { code, stderr } = await cli(["run", "jobs.yaml", "--mode", mode!], { cwd: dir.path });
    assert.equal(code, 0, stderr);
    const report = await readReport(`${dir.path}/downloads/report.json`);
    assert.equal(report.mode.used, mode);
    assert.deepEqual(report.jobs.map((job) => [job.isolation, job.result]), [
      [isolation, 3],
      [isolation, 7],
    ]);
    // The hosts' memory counts in the total: a Deno host process holds tens of MiB.
    const hosts = report.peakTotalRssBytes - report.peakRssBytes;
    assert.ok(hosts > 20 * 1024 * 1024, `${mode}: hosts ${hosts} bytes`);
  }
  // auto: each job where it asked to run.
  assert.equal((await cli(["run", "jobs.yaml"], { cwd: dir.path })).code, 0);
  const report = await readReport(`${dir.path}/downloads/report.json`);
  assert.deepEqual(report.mode.requested, "auto");
  assert.deepEqual(report.jobs.map((job) => job.isolation), ["worker", "process"]);
});

Deno.test("taskpool run --mode with an unknown mode: exit 2, the modes listed", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.yaml", "jobs:\n  - { name: a, run: ['true'] }\n");
  const { code, stderr } = await cli(["run", "jobs.yaml", "--mode", "threads"], { cwd: dir.path });
  assert.equal(code, 2);
  assert.match(
    stderr,
    /--mode must be one of sequential, async, workers, processes, auto: got "threads"/,
  );
});

Deno.test("taskpool compare: each mode in turn into fresh folders, a table and compare.json", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: f, download: { url: '${server.url}/bytes/100', to: f.bin } }`,
      `  - { name: s, compute: { module: ${WORK}, export: add, args: [1, 1] }, needs: [f] }`,
    ].join("\n"),
  );
  const { code, stdout, stderr } = await cli(
    ["compare", "jobs.yaml", "--modes", "sequential,workers", "--repeat", "2", "--trace", "t.json"],
    { cwd: dir.path },
  );
  assert.equal(code, 0, stderr);
  const lines = stdout.split("\n");
  assert.match(lines[0]!, /^mode\s+median\s+min-max\s+downloads\s+compute\s+speedup\s+peak RSS$/);
  assert.match(lines[1]!, /^sequential\s+\S+\s+\S+-\S+\s+\S+\s+\S+\s+1\.00x\s+/);
  assert.match(lines[2]!, /^workers\s+\S+\s+\S+-\S+\s+\S+\s+\S+\s+\d+\.\d\dx\s+/);
  assert.match(stderr, /compare \[4\/4\] workers round 2: /);
  const record = JSON.parse(await Deno.readTextFile(`${dir.path}/out/compare/compare.json`));
  assert.deepEqual(
    record.runs.map((run: { mode: string; round: number }) => `${run.mode}-${run.round}`),
    ["sequential-1", "workers-1", "sequential-2", "workers-2"],
  );
  for (const run of record.runs) {
    assert.equal(run.summary.ok, 2);
    const report = await readReport(run.report);
    assert.equal(report.mode.used, run.mode);
    // Nothing cached between runs: each downloaded its file afresh.
    assert.equal(report.summary.bytes, 100);
  }
  assert.equal(server.hits.get("/bytes/100"), 4);
  // The trace: one track (process) per run, one thread per lane, one event per attempt.
  const { traceEvents } = JSON.parse(await Deno.readTextFile(`${dir.path}/t.json`));
  const names = traceEvents.filter((e: { name: string }) => e.name === "process_name");
  assert.deepEqual(names.map((e: { args: { name: string } }) => e.args.name), [
    "sequential #1",
    "workers #1",
    "sequential #2",
    "workers #2",
  ]);
  const spans = traceEvents.filter((e: { ph: string }) => e.ph === "X");
  assert.equal(spans.length, 8);
  assert.deepEqual(new Set(spans.map((e: { name: string }) => e.name)), new Set(["f", "s"]));
  for (const span of spans) assert.ok(span.dur > 0 && span.ts >= 0);
});

Deno.test("taskpool report: time queued vs running and concurrency per pool, never above its limit", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "concurrency: { io: 3, cpu: 2 }",
      "jobs:",
      `  - { name: f, download: { url: '${server.url}/bytes/100', to: f.bin } }`,
      // Many tiny jobs: they queue ahead in the Worker host, yet hold at most 2 cpu slots.
      `  - { name: t, compute: { module: ${WORK}, export: add, args: [1, 1] }, repeat: 200 }`,
    ].join("\n"),
  );
  assert.equal((await cli(["run", "jobs.yaml", "--quiet"], { cwd: dir.path })).code, 0);
  const { code, stdout } = await cli(["report", "downloads/report.json"], { cwd: dir.path });
  assert.equal(code, 0);
  assert.match(
    stdout,
    /^io {3}1 attempts: queued \S+, running \S+; concurrency \S+ on average, 1 at most \(limit 3\)$/m,
  );
  const cpu = stdout.match(/^cpu {2}200 attempts: .* (\d+) at most \(limit 2\)$/m);
  assert.ok(cpu && Number(cpu[1]) <= 2, stdout);
  // Concurrency over time: 40 slices, each at most the limit's full block.
  const lines = stdout.split("\n");
  const overTime = lines[lines.findIndex((line) => line.startsWith("cpu  200")) + 1]!;
  assert.match(overTime, /^ {5}\|[ ▁▂▃▄▅▆▇█]{40}\| attempts under way over the run's \S+, 0 to 2$/);
  assert.match(overTime, /[▄▅▆▇█]/, "the slots busy for a while");
  assert.match(stdout, /^taskpool: OK 201 jobs: 201 ok/m);
  // Clean attempts are not repeated in report.json (version 2), and a version 1 report, which
  // lists every attempt, reads the same.
  const written = JSON.parse(await Deno.readTextFile(`${dir.path}/downloads/report.json`));
  assert.equal(written.version, 2);
  assert.ok(written.jobs.every((job: object) => !("attemptLog" in job)));
  const v1 = {
    ...written,
    version: 1,
    jobs: (await readReport(`${dir.path}/downloads/report.json`)).jobs,
  };
  await dir.write("v1.json", JSON.stringify(v1));
  const old = await cli(["report", "v1.json"], { cwd: dir.path });
  assert.equal(old.stdout, stdout);
  await dir.write("v3.json", JSON.stringify({ ...written, version: 3 }));
  const newer = await cli(["report", "v3.json"], { cwd: dir.path });
  assert.equal(newer.code, 2);
  assert.match(
    newer.stderr,
    /v3\.json is not a taskpool report \(version 1 or 2; it says version 3\)/,
  );
  // A file that is not a report: exit 2, named.
  await dir.write("other.json", '{"jobs": 3}');
  const bad = await cli(["report", "other.json"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /other\.json is not a taskpool report/);
});
