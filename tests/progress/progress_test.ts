import assert from "node:assert/strict";
import type { RunEvent } from "../../lib/scheduler/events.ts";
import type { Job } from "../../lib/jobfile/job.ts";
import { createProgress } from "../../lib/progress/mod.ts";
import { ProgressTally } from "../../lib/progress/tally.ts";
import { progressBlock } from "../../lib/progress/tty_block.ts";
import { Screen } from "../helpers/screen.ts";

const download = (name: string) => ({ name, kind: "download", needs: [] }) as unknown as Job;
const compute = (name: string) => ({ name, kind: "compute", needs: [] }) as unknown as Job;
const jobs = [download("a"), download("b"), compute("c")];
const started: RunEvent = {
  type: "run-started",
  at: 0,
  jobs,
  limits: { io: 4, cpu: 2 },
  pools: { download: "io", compute: "cpu", run: "cpu" },
  transfers: ["download"],
};
const finished = (job: Job, at: number, status: "ok" | "failed", bytes?: number): RunEvent => ({
  type: "job-finished",
  at,
  job,
  index: 0,
  outcome: {
    status,
    attempts: [],
    readyMs: 0,
    startMs: 0,
    endMs: at,
    result: bytes === undefined ? undefined : { bytes } as never,
    ...(status === "failed" ? { error: new Error("HTTP 500") } : {}),
  },
});

Deno.test("ProgressTally counts per pool: active against the limit, done against the total", () => {
  const tally = new ProgressTally();
  tally.handle(started);
  tally.handle({ type: "job-started", at: 10, job: jobs[0]!, attempt: 1, lane: "io-1" });
  tally.handle({ type: "job-started", at: 10, job: jobs[1]!, attempt: 1, lane: "io-2" });
  tally.handle({ type: "job-progress", at: 20, job: jobs[0]!, bytes: 1000 });
  tally.handle({ type: "job-progress", at: 30, job: jobs[0]!, bytes: 3000 });
  let now = tally.snapshot();
  assert.deepEqual(now.pools.map((pool) => [pool.pool, pool.active, pool.limit, pool.total]), [
    ["io", 2, 4, 2],
    ["cpu", 0, 2, 1],
  ]);
  assert.equal(now.bytes, 3000, "transfers under way count");
  assert.equal(now.etaMs, undefined, "no estimate before a job ends");

  tally.handle(finished(jobs[0]!, 1000, "ok", 4000));
  tally.handle(finished(jobs[1]!, 1000, "failed"));
  now = tally.snapshot();
  assert.equal(now.bytes, 4000, "a finished transfer counts once");
  assert.deepEqual(now.pools.map((pool) => [pool.active, pool.done]), [[0, 2], [0, 0]]);
  assert.equal(now.failed, 1);
  assert.equal(now.etaMs, 500, "one job left at two jobs a second");
  assert.ok(now.pools[0]!.filesOnly && now.pools[0]!.downloads && !now.pools[1]!.filesOnly);
});

Deno.test("ProgressTally follows the mode's pools: downloads on cpu in sequential mode", () => {
  const tally = new ProgressTally();
  tally.handle({ ...started, pools: { download: "cpu", compute: "cpu", run: "cpu" } } as RunEvent);
  tally.handle({ type: "job-started", at: 1, job: jobs[0]!, attempt: 1, lane: "cpu-1" });
  const [cpu, ...others] = tally.snapshot().pools;
  assert.deepEqual(others, []);
  assert.deepEqual([cpu!.pool, cpu!.active, cpu!.total, cpu!.filesOnly], ["cpu", 1, 3, false]);
});

Deno.test("progressBlock fits every line to the terminal and drops the bar when narrow", () => {
  const tally = new ProgressTally();
  tally.handle(started);
  tally.handle(finished(jobs[2]!, 2000, "failed"));
  for (const columns of [120, 60, 40, 20, 5]) {
    const lines = progressBlock(tally.snapshot(), { columns });
    assert.equal(lines.length, 3);
    for (const line of lines) assert.ok(line.length < columns, `${columns}: "${line}"`);
    assert.equal(lines[2]!.includes("░"), columns >= 60, `${columns}: "${lines[2]}"`);
  }
  const wide = progressBlock(tally.snapshot(), { columns: 120 });
  assert.match(wide[0]!, /^io +0\/4 active +files 0\/2$/);
  assert.match(wide[1]!, /^cpu +0\/2 busy +jobs 1\/1$/);
  assert.match(wide[2]!, /^█{10}░{20} {2}1\/3 {2}33% {2}1 failed {2}2\.00s {2}ETA 4s$/);
  const colored = progressBlock(tally.snapshot(), { columns: 120, color: true });
  assert.ok(colored[2]!.includes("\x1b[31m1 failed\x1b[0m"));
  assert.ok(!wide.join("").includes("\x1b"), "no ANSI without colour");
});

Deno.test("progressBlock fits lines of wide characters by the columns they take, never splitting one", () => {
  const tally = new ProgressTally();
  tally.handle(started);
  const statusLines = [
    "  w1@h:1  2 running: 日本語のファイル.csv, データ.csv",
    "  w2@h:2  1 running: e\u0301te\u0301-😀😀😀😀.txt",
    "  w3@h:3  idle",
  ];
  const lines = progressBlock(tally.snapshot(), { columns: 30, statusLines }).slice(2, 5);
  // 29 columns at most: a CJK character or an emoji takes two, an accent none.
  assert.deepEqual(lines, [
    "  w1@h:1  2 running: 日本語…",
    "  w2@h:2  1 running: e\u0301te\u0301-😀…",
    "  w3@h:3  idle",
  ]);
});

Deno.test("the terminal display prints failures above its block and erases the block at the end", () => {
  const screen = new Screen();
  const progress = createProgress({
    write: (text) => screen.write(text),
    tty: true,
    color: false,
    columns: () => 100,
    now: () => 0,
  });
  try {
    progress.handle(started);
    progress.handle({ type: "job-started", at: 5, job: jobs[0]!, attempt: 1, lane: "io-1" });
    progress.handle(finished(jobs[1]!, 10, "failed"));
    assert.deepEqual(screen.lines.map((line) => line.replace(/ +/g, " ")), [
      "failed b 10ms: HTTP 500",
      "io 1/4 active files 1/2",
      "cpu 0/2 busy jobs 0/1",
      "██████████░░░░░░░░░░░░░░░░░░░░ 1/3 33% 1 failed 10ms ETA 1s",
    ]);
    progress.handle(finished(jobs[0]!, 20, "failed"));
    assert.equal(screen.lines.length, 5, "a second failure, above the same block");
    assert.match(screen.lines[1]!, /^failed +a/);
  } finally {
    progress.close();
  }
  assert.deepEqual(screen.lines.map((line) => line.split(":")[0]), [
    "failed    b 10ms",
    "failed    a 20ms",
  ]);
});

Deno.test("the terminal display's clock moves on with no event; a note goes above the block", () => {
  const screen = new Screen();
  let now = 1000;
  const progress = createProgress({
    write: (text) => screen.write(text),
    tty: true,
    color: false,
    columns: () => 100,
    now: () => now,
  });
  try {
    progress.handle(started);
    progress.handle({ type: "job-started", at: 5, job: jobs[0]!, attempt: 1, lane: "io-1" });
    now += 4000; // four seconds of a long download, with no event
    progress.note("taskpool: SIGINT received, cancelling\n");
    assert.equal(screen.lines[0], "taskpool: SIGINT received, cancelling");
    assert.match(screen.lines.at(-1)!, / 4\.00s /);
  } finally {
    progress.close();
  }
  assert.deepEqual(screen.lines, ["taskpool: SIGINT received, cancelling"]);
});

Deno.test("plain progress: timestamped lines, no ANSI; --quiet keeps only failures", () => {
  for (const quiet of [false, true]) {
    let text = "";
    const progress = createProgress({
      write: (t) => text += t,
      tty: false,
      quiet,
      clock: () => new Date(0),
    });
    progress.handle(started);
    progress.handle({ type: "job-started", at: 5, job: jobs[0]!, attempt: 1, lane: "io-1" });
    progress.handle(finished(jobs[0]!, 10, "ok", 2048));
    progress.handle(finished(jobs[1]!, 10, "failed"));
    progress.close();
    const lines = text.trimEnd().split("\n");
    for (const line of lines) assert.match(line, /^1970-01-01T00:00:00\.000Z /);
    assert.ok(!text.includes("\x1b"));
    assert.deepEqual(
      lines.map((line) => line.split(" ").filter(Boolean)[1]),
      quiet ? ["failed"] : ["start", "ok", "failed"],
    );
  }
});

Deno.test("progressBlock puts a run's label before the bar, and still fits", () => {
  const tally = new ProgressTally();
  tally.handle(started);
  const [, , wide] = progressBlock(tally.snapshot(), { columns: 100, label: "workers #2" });
  assert.equal(wide, `workers #2  ${"░".repeat(30)}  0/3  0%  0ms  ETA --`);
  const [, , narrow] = progressBlock(tally.snapshot(), { columns: 30, label: "workers #2" });
  assert.ok(narrow!.startsWith("workers #2  0/3") && narrow!.length < 30, narrow);
});

Deno.test("progressBlock shows the bandwidth limit beside the download rate", () => {
  const tally = new ProgressTally();
  tally.handle(started);
  tally.handle({ type: "job-started", at: 0, job: jobs[0]!, attempt: 1, lane: "io-1" });
  tally.handle({ type: "job-progress", at: 1000, job: jobs[0]!, bytes: 4 * 2 ** 20 });
  const [io] = progressBlock(tally.snapshot(1000), { columns: 120, bandwidthLimit: 4 * 2 ** 20 });
  assert.match(
    io!,
    /^io +1\/4 active +files 0\/2 {2}4\.0 MiB {2}[\d.]+ [KM]?i?B\/s \(limit 4\.0 MiB\/s\)$/,
  );
  const [plain] = progressBlock(tally.snapshot(1000), { columns: 120 });
  assert.ok(!plain!.includes("limit"));
});
