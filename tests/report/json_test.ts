import assert from "node:assert/strict";
import { reportJson, reportJsonChunks } from "../../lib/report/json.ts";
import type { Report } from "../../lib/report/types.ts";

/** A report's shape with `jobs`; the rest of its fields do not matter to the text. */
function reportWith(jobs: unknown[]): Report {
  return {
    version: 1,
    file: "jobs.yaml",
    wallMs: 12.5,
    jobs,
    summary: { ok: jobs.length },
  } as never;
}

Deno.test("reportJson: the same report back, each job on one line of its own", () => {
  const jobs = [
    { name: "a", status: "ok", result: { nested: [1, 2] } },
    { name: 'b "quoted"\nand a newline', status: "failed", error: "\u0000 jobs" },
    { name: "c", status: "cancelled" },
  ];
  const report = reportWith(jobs);
  const text = reportJson(report);
  assert.deepEqual(JSON.parse(text), report);
  const jobLines = text.split("\n").filter((line) => line.startsWith('    {"name"'));
  assert.deepEqual(jobLines.map((line) => JSON.parse(line.replace(/,$/, ""))), jobs);
  assert.ok(text.endsWith("\n}\n"));
});

Deno.test("reportJson: a report with no jobs", () => {
  const report = reportWith([]);
  const text = reportJson(report);
  assert.deepEqual(JSON.parse(text), report);
  assert.ok(text.includes('"jobs": []'));
});

Deno.test("reportJsonChunks: the report in pieces of jobs, whatever the count, reads back whole", () => {
  for (const count of [0, 1, 2, 999, 1000, 1001, 2500]) {
    const jobs = Array.from({ length: count }, (_, i) => ({ name: `j${i}`, status: "ok" }));
    const report = reportWith(jobs);
    const chunks = [...reportJsonChunks(report, 1000)];
    assert.equal(chunks.length, 2 + Math.ceil(count / 1000));
    const text = chunks.join("");
    assert.deepEqual(JSON.parse(text), report, `${count} jobs`);
    assert.equal(text.split("\n").filter((line) => line.startsWith('    {"name"')).length, count);
  }
});

Deno.test("reportJson: a job's attemptLog is left out where it repeats the entry, and read back", async () => {
  const { jobLine, withAttemptLog } = await import("../../lib/report/json.ts");
  const entry = (fields: Record<string, unknown>) =>
    ({ name: "a", status: "ok", startMs: 1, endMs: 5, lane: "io-1", ...fields }) as never;
  const clean = entry({ attemptLog: [{ lane: "io-1", startMs: 1, endMs: 5 }] });
  const never = entry({ status: "skipped", startMs: null, lane: null, attemptLog: [] });
  const kept = [
    entry({ attemptLog: [{ lane: "io-2", startMs: 1, endMs: 5 }] }), // another lane
    entry({ attemptLog: [{ lane: "io-1", startMs: 0.5, endMs: 5 }] }), // other times
    entry({ attemptLog: [{ lane: "io-1", startMs: 1, endMs: 5, error: { code: "X" } }] }),
    entry({
      attemptLog: [{ lane: "io-1", startMs: 1, endMs: 2 }, { lane: "io-1", startMs: 3, endMs: 5 }],
    }),
    entry({ status: "cancelled", attemptLog: [] }), // a lane but no attempt
  ];
  for (const job of [clean, never]) {
    const line = jobLine(job);
    assert.ok(!line.includes("attemptLog"), line);
    assert.deepEqual(withAttemptLog(JSON.parse(line)), job);
  }
  for (const job of kept) assert.deepEqual(JSON.parse(jobLine(job)), job);
});
