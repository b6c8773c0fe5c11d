import assert from "node:assert/strict";
import type { Plan } from "../../lib/jobfile/job.ts";
import type { ComputeJob } from "../../tasks/compute/job.ts";
import type { DownloadJob } from "../../tasks/download/job.ts";
import type { RunJob } from "../../tasks/command/job.ts";
import { runGrants } from "../../lib/sandbox/grants.ts";
import { CommaInPathError, grantFlags } from "../../lib/sandbox/grant_flags.ts";
import { exitCodeOf } from "../../lib/errors.ts";
import { KINDS } from "../../tasks/mod.ts";

const common = {
  group: "g",
  needs: [],
  retries: 0,
  timeoutMs: undefined,
  backoffMs: 0,
  source: undefined,
};

function download(name: string, url: string): DownloadJob {
  return {
    ...common,
    kind: "download",
    name,
    url,
    path: `/srv/out/${name}`,
    relativePath: name,
    sha256: undefined,
    sha512: undefined,
    headers: {},
    secretHeaders: [],
    maxBytes: 1e9,
    idleTimeoutMs: 0,
    maxWaitMs: 0,
    recordSha256: false,
  };
}

function plan(jobs: Plan["jobs"], extra: Partial<Plan> = {}): Plan {
  return {
    file: "jobs.yaml",
    output: "/srv/out",
    report: "/srv/out/report.json",
    concurrency: { io: 4, cpu: 2, perHost: 4 },
    sources: ["/srv/jobs.yaml"],
    permissions: { net: false },
    jobs,
    ...extra,
  };
}

const noPrograms = { findProgram: () => undefined, setsid: null, kill: null, shell: null };

Deno.test("runGrants: download hosts, scheme ports left open, extra hosts from the file", () => {
  const grants = runGrants(
    KINDS,
    plan([
      download("a", "https://example.com/a"),
      download("b", "http://example.com/b"),
      download("c", "http://127.0.0.1:8080/c"),
    ], { permissions: { net: ["cdn.example.com"] } }),
    noPrograms,
  );
  assert.deepEqual(grants.net, ["127.0.0.1:8080", "cdn.example.com", "example.com"]);
  assert.deepEqual(grants.write, ["/srv/out"]);
  assert.deepEqual(grants.run, []);
  assert.ok(grants.read.includes("/srv/jobs.yaml"));
});

Deno.test("runGrants: a host list too long for one argument becomes any host", () => {
  const jobs = Array.from(
    { length: 5000 },
    (_, i) => download(`f${i}`, `https://mirror-${i}.example.org/f`),
  );
  assert.equal(runGrants(KINDS, plan(jobs), noPrograms).net, true);
  assert.equal((runGrants(KINDS, plan(jobs.slice(0, 10)), noPrograms).net as string[]).length, 10);
});

Deno.test("runGrants: a report with {date} in a folder name may write the folder above it", () => {
  const grants = runGrants(
    KINDS,
    plan([download("a", "https://example.com/a")], {
      report: "/var/reports/2026-11-22/run.json",
      reportPattern: "/var/reports/{date}/run.json",
    }),
    noPrograms,
  );
  assert.deepEqual(grants.write, ["/srv/out", "/var/reports"]);
});

Deno.test("runGrants: command programs with setsid, kill and the signalling shell; compute jobs' rights and Deno", () => {
  const run: RunJob = {
    ...common,
    kind: "run",
    name: "r",
    argv: ["make", "all"],
    cwd: "/srv",
    env: {},
    clearEnv: false,
    logPath: "/srv/out/logs/r.log",
  };
  const compute: ComputeJob = {
    ...common,
    kind: "compute",
    name: "c",
    moduleUrl: "file:///srv/work/task.ts",
    module: "./work/task.ts",
    exportName: "default",
    args: [],
    isolation: "worker",
    memoryMb: undefined,
    permissions: { read: ["/data"], write: ["/srv/out/sub"], net: ["api.example.com"], env: true },
  };
  const grants = runGrants(KINDS, plan([run, compute]), {
    findProgram: (program) => `/usr/bin/${program}`,
    setsid: "/usr/bin/setsid",
    kill: "/usr/bin/kill",
    shell: "/bin/sh",
    execPath: "/opt/deno",
  });
  assert.deepEqual(grants.run, [
    "/bin/sh",
    "/opt/deno",
    "/usr/bin/kill",
    "/usr/bin/make",
    "/usr/bin/setsid",
  ]);
  assert.deepEqual(grants.net, ["api.example.com"]);
  assert.equal(grants.env, true);
  // Nested paths fold into their folder: /srv/out/sub is inside /srv/out.
  assert.deepEqual(grants.write, ["/srv/out"]);
  for (const path of ["/srv/work", "/data", "/usr/bin/make"]) assert.ok(grants.read.includes(path));
});

Deno.test("grantFlags: lists become flags, true a bare flag, a comma is refused", () => {
  assert.deepEqual(
    grantFlags({ read: [], write: ["/o"], net: true, run: [], env: ["A", "B"], sys: [] }),
    ["--allow-write=/o", "--allow-net", "--allow-env=A,B"],
  );
  assert.throws(
    () => grantFlags({ read: ["/a,b"], write: [], net: [], run: [], env: [], sys: [] }),
    (error: Error) =>
      error instanceof CommaInPathError && exitCodeOf(error) === 2 &&
      error.message.startsWith("/a,b: Deno's permission flags separate paths with commas"),
  );
});

Deno.test("runGrants: paths under a top-level folder that does not exist are granted as written", () => {
  const output = "/taskpool-absent-top/out";
  const grants = runGrants(
    KINDS,
    plan([], { output, report: `${output}/report.json`, sources: ["/taskpool-absent/jobs.yaml"] }),
    noPrograms,
  );
  assert.deepEqual(grants.write, [output]);
  assert.deepEqual(
    grants.read.filter((path) => path.includes("absent")),
    ["/taskpool-absent-top/out", "/taskpool-absent/jobs.yaml"].sort(),
  );
});
