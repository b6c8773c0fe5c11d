import assert from "node:assert/strict";
import { formatSummary, MOST_FAILURES_LISTED, type SummaryOf } from "../../lib/report/summary.ts";
import { REPORT_VERSION, type ReportJob } from "../../lib/report/types.ts";
import { summarize } from "../../lib/report/model.ts";

const entry = (name: string, status: ReportJob["status"]): ReportJob => ({
  name,
  group: "g",
  kind: "download",
  status,
  attempts: 1,
  queuedMs: 0,
  startMs: 0,
  endMs: 5,
  durationMs: 5,
  lane: "io-1",
  attemptLog: [{ lane: "io-1", startMs: 0, endMs: 5 }],
  ...(status === "failed" ? { error: { message: `HTTP 503 for ${name}`, code: "HTTP_503" } } : {}),
});

/** A report of `jobs` as the summary reads it. */
function reportOf(jobs: ReportJob[], wallMs: number, bytes = 0): SummaryOf {
  const summary = { ...summarize(jobs), bytes };
  return {
    version: REPORT_VERSION,
    file: "jobs.yaml",
    output: "/out",
    startedAt: "",
    wallMs,
    exitCode: summary.failed > 0 ? 1 : 0,
    interrupted: false,
    peakRssBytes: 0,
    peakTotalRssBytes: 0,
    concurrency: { io: 1, cpu: 1, perHost: 1 },
    mode: { requested: "auto", used: "workers", why: "" },
    host: { cores: 2, deno: "", v8: "", os: "linux", arch: "x86_64" },
    summary,
    jobs,
  };
}

Deno.test("formatSummary lists the first failures with their reasons and counts the rest", () => {
  const failed = 25;
  const jobs = Array.from({ length: failed }, (_, i) => entry(`f/${i}`, "failed"));
  const lines = formatSummary(reportOf(jobs, 10)).split("\n");
  const listed = lines.filter((line) => /^failed {2}f\/\d+: HTTP 503 for f\/\d+$/.test(line));
  assert.equal(listed.length, MOST_FAILURES_LISTED);
  assert.ok(
    lines.includes(
      `failed  ${failed - MOST_FAILURES_LISTED} more (each with its reason in the report)`,
    ),
  );
  assert.equal(
    lines.at(-1),
    "taskpool: FAILED 25 jobs: 0 ok, 0 cached, 25 failed, 0 skipped, 0 cancelled in 10ms",
  );
});

Deno.test("formatSummary names the cancelled jobs, as it names the skipped ones", () => {
  const cancel = (name: string): ReportJob => ({
    ...entry(name, "cancelled"),
    error: { message: "interrupted by SIGTERM", code: "INTERRUPTED" },
  });
  const few = formatSummary(reportOf([cancel("nap"), cancel("dl/a.iso")], 10)).split("\n");
  assert.ok(few.includes("cancelled nap, dl/a.iso: interrupted by SIGTERM"), few.join("\n"));
  const many = Array.from({ length: 11 }, (_, i) => cancel(`c${i}`));
  const lines = formatSummary(reportOf(many, 10)).split("\n");
  assert.ok(
    lines.includes("cancelled c0, c1, c2, c3, c4, c5, c6, c7 and 3 more: interrupted by SIGTERM"),
    lines.join("\n"),
  );
});

Deno.test("formatSummary gives a slow rate in whole bytes per second", () => {
  const lines = formatSummary(reportOf([entry("f/0", "ok")], 66, 16)).split("\n");
  assert.ok(lines.includes("downloaded 16 B, 242 B/s"), lines.join("\n"));
});
