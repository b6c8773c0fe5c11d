/**
 * Least privilege for the whole run: `taskpool run` (started as `deno task run` starts it) runs
 * the jobs in a child Deno whose permissions come from the job file, refuses what the file does
 * not name, and does not outlive a launcher that was killed.
 */
import assert from "node:assert/strict";
import { cli, spawnCli } from "../helpers/cli.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import { cmdline, descendantsOf, isRunning, whenFiles } from "../helpers/processes.ts";
import { tempDir } from "../helpers/temp.ts";
import { lockFilePath } from "../../lib/run/run_lock.ts";

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

/** The relaunched run below `launcher`: the Deno that got `--allow-write=`. */
function runProcess(launcher: number): number | undefined {
  return descendantsOf(launcher).find((pid) => cmdline(pid).includes("--allow-write="));
}

Deno.test("taskpool run: the jobs run with only the permissions the job file implies", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const port = new URL(server.url).port;
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: held, download: { url: '${server.url}/hold/perm', to: a.bin } }`,
      "  - { name: hello, run: [sh, -c, 'echo hi > $TASKPOOL_OUTPUT/hi.txt'] }",
    ].join("\n"),
  );
  const launcher = spawnCli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  await server.started("perm");
  const child = runProcess(launcher.pid);
  assert.ok(child !== undefined, "the run is a child of the launcher");
  const flags = cmdline(child).split(" ").filter((word) => word.startsWith("--allow-"));
  server.release("perm");
  const { code, stdout } = await launcher.output();
  assert.equal(code, 0);
  assert.equal(JSON.parse(new TextDecoder().decode(stdout)).exitCode, 0);

  assert.ok(flags.includes(`--allow-net=127.0.0.1:${port}`), flags.join("\n"));
  assert.ok(flags.includes(`--allow-write=${dir.path}/out`), flags.join("\n"));
  const run = flags.find((flag) => flag.startsWith("--allow-run="))!;
  assert.match(run, /\/sh(,|$)/);
  assert.ok(!run.includes("deno"), "no compute job, so no Deno host may be started");
  const env = flags.find((flag) => flag.startsWith("--allow-env="))!;
  assert.ok(!env.includes("HOME"), env);
  for (const kind of ["all", "read", "write", "net", "run", "env", "ffi", "sys"]) {
    assert.ok(!flags.includes(`--allow-${kind}`), `--allow-${kind} with no list`);
  }
  assert.equal(await Deno.readTextFile(`${dir.path}/out/hi.txt`), "hi\n");
});

Deno.test("taskpool run: a redirect to a host the job file does not name fails clearly, once", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const port = new URL(server.url).port;
  const url = `${server.url}/to?url=${encodeURIComponent(`http://localhost:${port}/bytes/64`)}`;
  const jobs = (permissions: string) =>
    `output: out\n${permissions}jobs:\n  - { name: moved, download: { url: '${url}', to: a.bin } }\n`;

  await dir.write("jobs.yaml", jobs(""));
  const refused = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(refused.code, 1, refused.stderr);
  const report = await readJson(`${dir.path}/out/report.json`);
  const [job] = report.jobs;
  assert.equal(job.status, "failed");
  assert.equal(job.error.code, "PERMISSION");
  assert.match(
    job.error.message,
    new RegExp(`redirected to localhost:${port}, which the job file`),
  );
  assert.match(job.error.message, new RegExp(`permissions: \\{ net: \\[localhost:${port}\\] \\}`));
  assert.equal(job.attempts, 1, "a refused host is not retried");
  assert.equal(await Deno.stat(`${dir.path}/out/a.bin`).catch(() => null), null);

  await dir.write("jobs.yaml", jobs(`permissions: { net: ['localhost:${port}'] }\n`));
  const allowed = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((await Deno.stat(`${dir.path}/out/a.bin`)).size, 64);
});

Deno.test("taskpool run: a run whose launcher is killed cancels itself and writes its report", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: held, download: { url: '${server.url}/hold/orphan', to: a.bin } }\n`,
  );
  const launcher = spawnCli(["run", "jobs.yaml"], { cwd: dir.path });
  await server.started("orphan");
  const child = runProcess(launcher.pid)!;
  assert.ok(child !== undefined);
  launcher.kill("SIGKILL"); // cannot be passed on: the child sees its stdin close instead
  await launcher.output();

  const reportPath = `${dir.path}/out/report.json`;
  const lock = lockFilePath(`${dir.path}/out`);
  await whenFiles(`${dir.path}/out`, async () => {
    const report = await readJson(reportPath).catch(() => undefined);
    return report?.interrupted === true && await Deno.stat(lock).catch(() => null) === null;
  });
  // `tail --pid` ends when that process does (coreutils); `timeout` bounds the wait.
  const ended = await new Deno.Command("timeout", {
    args: ["20", "tail", `--pid=${child}`, "-f", "/dev/null"],
  }).output();
  assert.ok(ended.success && !isRunning(child), "the orphaned run ended");
  const report = await readJson(reportPath);
  assert.equal(report.jobs[0].status, "cancelled");
  assert.equal(report.jobs[0].interrupted, true);
  server.release("orphan");
});

Deno.test("taskpool run: with narrow permissions, a missing program and a missing folder are told apart", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: noprog, run: [no-such-program-xyz] }",
      "  - { name: nofolder, run: ['true'], cwd: nowhere }",
    ].join("\n"),
  );
  const { code } = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(code, 1);
  const report = await readJson(`${dir.path}/out/report.json`);
  const message = (name: string) =>
    report.jobs.find((job: { name: string }) => job.name === name).error.message;
  assert.match(message("noprog"), /program not found: no-such-program-xyz/);
  assert.match(message("nofolder"), /working folder does not exist: .*\/nowhere/);
});

Deno.test("taskpool run: an output folder that is a symlink works with narrow permissions", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/elsewhere`);
  await Deno.symlink(`${dir.path}/elsewhere`, `${dir.path}/out`);
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: write, run: [sh, -c, 'echo hi > $TASKPOOL_OUTPUT/hi.txt'] }",
      "  - { name: hash, needs: [write], compute: { module: 'builtin:sha256', args: [hi.txt] } }",
    ].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(code, 0, stderr);
  assert.equal(await Deno.readTextFile(`${dir.path}/elsewhere/hi.txt`), "hi\n");
  const report = await readJson(`${dir.path}/elsewhere/report.json`);
  assert.equal(
    report.jobs[1].result.files["hi.txt"],
    "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4",
  );
});

Deno.test("taskpool run: HTTP_PROXY sends downloads through the proxy, as curl does", async () => {
  // The fault server acts as the proxy: it answers the absolute-form request by its path.
  await using proxy = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - { name: far, download: { url: 'http://files.invalid/bytes/64', to: a.bin } }\n",
  );
  const result = await cli(["run", "jobs.yaml", "--json"], {
    cwd: dir.path,
    env: { HTTP_PROXY: proxy.url, NO_PROXY: "" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await Deno.stat(`${dir.path}/out/a.bin`)).size, 64);
  const [request] = proxy.requests.get("/bytes/64") ?? [];
  assert.equal(request?.get("host"), "files.invalid");

  // A proxy that cannot be reached is named (its password hidden), with the reason.
  await dir.write(
    "down.yaml",
    "output: out\njobs:\n  - { name: far, download: { url: 'http://files.invalid/x', to: b.bin }, retries: 0 }\n",
  );
  const down = await cli(["run", "down.yaml"], {
    cwd: dir.path,
    env: { HTTP_PROXY: "http://me:pr0xy-pw@127.0.0.1:1", NO_PROXY: "" },
  });
  assert.equal(down.code, 1, down.stderr);
  assert.match(
    down.stderr,
    /far \d+ms: GET http:\/\/files\.invalid\/x: .*Connection refused.* \(HTTP_PROXY=http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:1\/ is set\)/,
  );
  assert.doesNotMatch(
    down.stderr + await Deno.readTextFile(`${dir.path}/out/report.json`),
    /pr0xy-pw/,
  );
});

Deno.test("taskpool run: with narrow permissions, what a finished command left in its group is ended, a SIGTERM-proof one with SIGKILL", async () => {
  await using dir = await tempDir();
  // Each leaves a background process in its group and exits at once; the second one's ignores
  // SIGTERM, so only the SIGKILL that follows can end it.
  const leave = (name: string, trap: string) =>
    `  - { name: ${name}, run: [sh, -c, '${trap}sleep 100 & echo $! > ${name}.pid'], kill_grace: 200ms }`;
  await dir.write(
    "jobs.yaml",
    ["output: out", "jobs:", leave("polite", ""), leave("stubborn", 'trap "" TERM; ')].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(code, 0, stderr);
  for (const name of ["polite", "stubborn"]) {
    const pid = Number(await Deno.readTextFile(`${dir.path}/${name}.pid`));
    assert.ok(pid > 0);
    assert.equal(isRunning(pid), false, `${name}'s background sleep (${pid}) outlived the run`);
  }
});

Deno.test("taskpool run: the child started early with the last run's grants is used only while they are the run's", async () => {
  await using dir = await tempDir();
  const run = () => cli(["run", "jobs.yaml"], { cwd: dir.path });
  const log = () => Deno.readTextFile(`${dir.path}/out/logs/t.log`);
  await dir.write("jobs.yaml", 'output: out\njobs:\n  - { name: t, run: ["true"] }\n');
  assert.equal((await run()).code, 0);
  // The same command line now runs printf, which the grants of the last run do not name.
  await dir.write("jobs.yaml", "output: out\njobs:\n  - { name: t, run: [printf, hi] }\n");
  const second = await run();
  assert.equal(second.code, 0, second.stderr);
  assert.match(await log(), /hi/);
  await Deno.remove(`${dir.path}/out/logs/t.log`);
  const third = await run();
  assert.equal(third.code, 0, third.stderr);
  assert.match(await log(), /hi/);
});

Deno.test("taskpool run: a launcher killed before its handoff leaves the child it started early nothing to do", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - { name: t, run: [sh, -c, 'echo ran > $TASKPOOL_OUTPUT/ran.txt'] }\n",
  );
  // The launcher reads the report of --rerun-failed before it hands over: a FIFO holds it there.
  const fifo = `${dir.path}/last.json`;
  assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
  const args = ["run", "jobs.yaml", "--rerun-failed", "last.json"];
  const first = spawnCli(args, { cwd: dir.path });
  await Deno.writeTextFile(fifo, '{ "jobs": [{ "name": "t", "status": "failed" }] }');
  assert.equal((await first.output()).code, 0);
  await Deno.remove(`${dir.path}/out/ran.txt`);

  const launcher = spawnCli(args, { cwd: dir.path });
  // Opened once the launcher reads it, which is after it started its child.
  const holding = await Deno.open(fifo, { write: true });
  const child = runProcess(launcher.pid);
  assert.ok(child !== undefined, "a child was started before the report was read");
  launcher.kill("SIGKILL");
  await launcher.status; // its output ends only when the child, which shares it, has ended
  // `tail --pid` ends when that process does (coreutils); `timeout` bounds the wait.
  const ended = await new Deno.Command("timeout", {
    args: ["20", "tail", `--pid=${child}`, "-f", "/dev/null"],
  }).output();
  const endedAlone = ended.success && !isRunning(child);
  if (!endedAlone) Deno.kill(child, "SIGKILL");
  holding.close();
  await launcher.output();
  assert.ok(endedAlone, "the child ended with its launcher");
  assert.equal(await Deno.stat(`${dir.path}/out/ran.txt`).catch(() => null), null);
});
