import assert from "node:assert/strict";
import { ReportBuilder, SLOWEST_NAMED } from "../../lib/report/model.ts";
import { bareJob } from "../helpers/jobs.ts";
import type { JobOutcome, JobStatus } from "../../lib/scheduler/events.ts";
import type { Report } from "../../lib/report/types.ts";
import { tempDir } from "../helpers/temp.ts";

const job = bareJob;

const outcome = (status: JobStatus, startMs: number, endMs: number): JobOutcome => ({
  status,
  attempts: [{ startMs, endMs, lane: "cpu-1" }],
  readyMs: 0,
  startMs,
  endMs,
  result: undefined,
  ...(status === "ok" ? {} : { error: new Error(`${status} on purpose`) }),
});

/** A builder fed `count` jobs that finish in reverse order, but for those `skip` names. */
function reverseRun(dir: string, count: number, skip: (index: number) => boolean) {
  const jobs = Array.from({ length: count }, (_, i) => job(`j${i}`));
  const builder = new ReportBuilder({
    file: "jobs.yaml",
    output: dir,
    concurrency: { io: 1, cpu: 1, perHost: 1 },
    spool: `${dir}/.spool`,
  });
  const limits = { io: 1, cpu: 1 };
  builder.handle({ type: "run-started", at: 0, jobs, limits, pools: {}, transfers: [] });
  for (let index = count - 1; index >= 0; index--) {
    if (skip(index)) continue;
    const status = index % 97 === 5 ? "failed" : "ok";
    // Job j<i> takes i ms: the slowest are the last.
    const finished = outcome(status, 0, index);
    builder.handle({
      type: "job-finished",
      at: index,
      job: jobs[index]!,
      index,
      outcome: finished,
    });
  }
  return { builder, jobs };
}

Deno.test("ReportBuilder writes every job's line in the run's order, whatever order they finished in, and leaves no spool", async () => {
  await using dir = await tempDir();
  const count = 2500; // three pieces of 1000 lines
  const { builder } = reverseRun(dir.path, count, () => false);
  using _ = builder;
  const report = await builder.write(`${dir.path}/report.json`, { wallMs: 3000 });
  const written: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/report.json`));
  assert.deepEqual(
    written.jobs.map((j) => j.name),
    Array.from({ length: count }, (_, i) => `j${i}`),
  );
  assert.equal(written.jobs[7]!.durationMs, 7);
  const failed = written.jobs.filter((j) => j.status === "failed").length;
  assert.deepEqual(written.summary, {
    total: count,
    ok: count - failed,
    cached: 0,
    failed,
    skipped: 0,
    cancelled: 0,
    bytes: 0,
  });
  assert.deepEqual(report.summary, written.summary);
  assert.equal(report.exitCode, 1);
  // Named: every failure, and the slowest successes (the last jobs), in the run's order.
  const slowest = Array.from({ length: SLOWEST_NAMED }, (_, i) => `j${count - SLOWEST_NAMED + i}`);
  assert.deepEqual(
    report.named.map((j) => j.name),
    [...written.jobs.filter((j) => j.status === "failed").map((j) => j.name), ...slowest]
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["report.json"]);
  // The text is report.json's usual layout: one job a line.
  const text = await Deno.readTextFile(`${dir.path}/report.json`);
  assert.equal(text.split("\n").filter((line) => line.startsWith('    {"name":"j')).length, count);
});

Deno.test("ReportBuilder puts the jobs a stopped run never finished in their places, cancelled and marked interrupted", async () => {
  await using dir = await tempDir();
  const count = 1200;
  const unfinished = (index: number) => index % 10 === 3;
  const { builder } = reverseRun(dir.path, count, unfinished);
  using _ = builder;
  const report = builder.writeSync(`${dir.path}/report.json`, {
    wallMs: 50,
    interrupted: true,
    stoppedBy: "SIGINT",
  });
  assert.equal(report.exitCode, 130);
  const written: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/report.json`));
  assert.deepEqual(
    written.jobs.map((j) => j.name),
    Array.from({ length: count }, (_, i) => `j${i}`),
  );
  for (const [index, entry] of written.jobs.entries()) {
    if (unfinished(index)) {
      assert.equal(entry.status, "cancelled");
      assert.equal(entry.interrupted, true);
    } else {
      assert.notEqual(entry.status, "cancelled");
    }
  }
  assert.equal(written.summary.cancelled, count / 10);
  assert.equal(report.summary.cancelled, count / 10);
});
