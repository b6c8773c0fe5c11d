import assert from "node:assert/strict";
import type { Report } from "../../lib/report/types.ts";
import { cli, spawnCli } from "../helpers/cli.ts";
import { bodyBytes, sha256Hex, startFaultServer } from "../helpers/fault_server.ts";
import { tempDir } from "../helpers/temp.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).pathname;
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const readReport = async (path: string): Promise<Report> =>
  JSON.parse(await Deno.readTextFile(path));

Deno.test("taskpool run: downloads, compute and commands by their needs, with a full report", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "concurrency: { io: 4, cpu: 2 }",
      "defaults: { retries: 2, backoff: 1ms, download: { record_sha256: true } }",
      "jobs:",
      "  - name: files",
      `    download: { urls: ['${server.url}/bytes/1000', '${server.url}/bytes/70000'], to: data/ }`,
      "  - name: flaky",
      `    download: { url: '${server.url}/flaky/x?fail=2', to: flaky.bin }`,
      "  - name: sum",
      `    compute: { module: ${WORK}, export: add, args: [2, 3] }`,
      "  - name: hashes",
      "    needs: [files]",
      "    compute: { module: 'builtin:sha256', args: [data] }",
      "  - name: list",
      "    needs: [files, flaky]",
      "    run: [sh, -c, 'ls \"$TASKPOOL_OUTPUT/data\"']",
    ].join("\n"),
  );
  const { code, stdout, stderr } = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    /^taskpool: OK 6 jobs: 6 ok, 0 cached, 0 failed, 0 skipped, 0 cancelled in \S+$/m,
  );
  assert.match(stderr, /Z start +files\/1000 on io-\d/); // plain timestamped lines in a pipe

  const report = await readReport(`${dir.path}/out/report.json`);
  assert.equal(report.version, 2);
  assert.equal(report.exitCode, 0);
  assert.deepEqual(report.concurrency, { io: 4, cpu: 2, perHost: 8 });
  assert.deepEqual(report.summary, {
    total: 6,
    ok: 6,
    cached: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    bytes: 71_064,
  });
  assert.equal(report.host.deno, Deno.version.deno);
  assert.ok(!Number.isNaN(Date.parse(report.startedAt)));
  const byName = new Map(report.jobs.map((job) => [job.name, job]));

  const big = byName.get("files/70000")!;
  assert.equal(big.kind, "download");
  assert.equal(big.path, "data/70000");
  assert.equal(big.bytes, 70_000);
  assert.equal(big.sha256, await sha256Hex(bodyBytes(70_000)));
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/data/70000`), bodyBytes(70_000));
  assert.match(big.lane ?? "", /^io-\d$/);
  // One clean attempt: its lane and times are the entry's, and report.json does not repeat them.
  assert.equal(big.attemptLog, undefined);

  const flaky = byName.get("flaky")!;
  assert.equal(flaky.attempts, 3);
  assert.deepEqual(flaky.attemptLog.map((a) => a.error?.code ?? "ok"), [
    "HTTP_503",
    "HTTP_503",
    "ok",
  ]);

  assert.equal(byName.get("sum")?.result, 5);
  assert.equal(typeof byName.get("sum")?.worker, "number");
  const hashes = byName.get("hashes")!.result as { files: Record<string, string> };
  assert.equal(hashes.files["data/70000"], big.sha256);

  const list = byName.get("list")!;
  assert.equal(list.exitCode, 0);
  assert.equal(list.log, "logs/list.log");
  assert.equal(await Deno.readTextFile(`${dir.path}/out/logs/list.log`), "1000\n70000\n");
  // Timing: a job starts after its needs ended.
  const needsEnd = Math.max(
    ...["files/1000", "files/70000", "flaky"].map((n) => byName.get(n)!.endMs),
  );
  assert.ok(list.startMs! >= needsEnd, `${list.startMs} >= ${needsEnd}`);
  for (const job of report.jobs) {
    assert.ok(job.queuedMs! >= 0 && job.durationMs >= 0 && job.endMs >= job.startMs!);
  }
});

Deno.test("taskpool run: a failure skips its dependents, the rest goes on, exit code 1", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      `  - { name: missing, download: { url: '${server.url}/status/404' }, retries: 3 }`,
      "  - { name: after, run: ['true'], needs: [missing] }",
      `  - { name: fine, download: { url: '${server.url}/bytes/10', to: fine.bin } }`,
      `  - { name: broken, compute: { module: ${WORK}, export: throws } }`,
      "  - { name: exits, run: [sh, -c, 'echo nope >&2; exit 4'] }",
    ].join("\n"),
  );
  const { code, stdout } = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(code, 1);
  const summary = JSON.parse(stdout);
  assert.deepEqual(summary.summary, {
    total: 5,
    ok: 1,
    failed: 3,
    skipped: 1,
    cancelled: 0,
    bytes: 10,
    cached: 0,
  });
  assert.equal(summary.exitCode, 1);
  const report = await readReport(`${dir.path}/downloads/report.json`);
  const byName = new Map(report.jobs.map((job) => [job.name, job]));
  assert.equal(byName.get("missing")?.attempts, 1, "a 404 is not retried");
  assert.equal(byName.get("missing")?.error?.code, "HTTP_404");
  assert.equal(byName.get("after")?.status, "skipped");
  assert.equal(byName.get("after")?.error?.code, "SKIPPED");
  assert.equal(byName.get("fine")?.status, "ok");
  assert.equal(byName.get("broken")?.error?.message, "this job always fails");
  assert.match(byName.get("broken")?.error?.detail ?? "", /work\.ts:\d+/);
  assert.equal(byName.get("exits")?.exitCode, 4);
  assert.equal(byName.get("exits")?.error?.code, "EXIT_CODE");
  assert.match(byName.get("exits")?.error?.message ?? "", /exited with code 4: nope/);
});

Deno.test("taskpool run: a compute job past its timeout fails and the run still ends", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `jobs:\n  - { name: hang, compute: { module: ${WORK}, export: hangs }, timeout: 50ms }\n` +
      `  - { name: next, compute: { module: ${WORK}, export: add, args: [1, 1] }, needs: [] }\n`,
  );
  const { code } = await cli(["run", "jobs.yaml", "--cpu", "1"], { cwd: dir.path });
  assert.equal(code, 1);
  const report = await readReport(`${dir.path}/downloads/report.json`);
  assert.equal(report.jobs[0]?.error?.code, "TIMEOUT");
  assert.equal(report.jobs[1]?.result, 2);
});

Deno.test("taskpool run --fail-fast cancels what has not finished", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "concurrency: { io: 2, cpu: 1 }",
      "jobs:",
      `  - { name: held, download: { url: '${server.url}/hold/a', to: a.bin } }`,
      `  - { name: bad, download: { url: '${server.url}/status/500' }, retries: 0 }`,
      `  - { name: later, download: { url: '${server.url}/bytes/5', to: later.bin } }`,
    ].join("\n"),
  );
  const { code, stdout } = await cli(["run", "jobs.yaml", "--fail-fast", "--json"], {
    cwd: dir.path,
  });
  assert.equal(code, 1);
  const { summary } = JSON.parse(stdout);
  assert.deepEqual([summary.failed, summary.cancelled], [1, 2]);
  assert.equal(await exists(`${dir.path}/downloads/a.bin`), false);
});

Deno.test("taskpool run - reads the job file from stdin, paths relative to the current folder", async () => {
  await using dir = await tempDir();
  const { code, stdout } = await cli(["run", "-", "--quiet"], {
    cwd: dir.path,
    stdin:
      "output: here\njobs:\n  - { name: hi, run: [sh, -c, 'echo hi > \"$TASKPOOL_OUTPUT/hi.txt\"'] }\n",
  });
  assert.equal(code, 0);
  assert.match(stdout, /taskpool: OK 1 jobs/);
  assert.equal(await Deno.readTextFile(`${dir.path}/here/hi.txt`), "hi\n");
});

for (const [signal, expected] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`taskpool run: ${signal} cancels the run, writes the report and exits ${expected}`, async () => {
    await using server = startFaultServer();
    await using dir = await tempDir();
    await dir.write(
      "jobs.yaml",
      [
        "jobs:",
        `  - { name: held, download: { url: '${server.url}/hold/${signal}', to: held.bin } }`,
        "  - { name: after, run: ['true'], needs: [held] }",
      ].join("\n"),
    );
    const child = spawnCli(["run", "jobs.yaml"], { cwd: dir.path });
    await server.started(signal);
    child.kill(signal);
    const { code } = await child.output();
    assert.equal(code, expected);
    const report = await readReport(`${dir.path}/downloads/report.json`);
    assert.equal(report.interrupted, true);
    assert.equal(report.exitCode, expected);
    assert.deepEqual(report.jobs.map((job) => [job.name, job.status]), [
      ["held", "cancelled"],
      ["after", "cancelled"],
    ]);
    assert.equal(report.jobs[0]?.error?.code, "INTERRUPTED");
    assert.equal(await exists(`${dir.path}/downloads/held.bin`), false);
    server.release(signal);
  });
}
