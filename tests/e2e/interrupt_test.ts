/**
 * Real signals on a real run with every kind of job in flight: a download half received, a
 * command with a child of its own, a Worker spinning in a busy loop, and a job still waiting.
 */
import assert from "node:assert/strict";
import type { Report } from "../../lib/report/types.ts";
import { spawnCli } from "../helpers/cli.ts";
import { fileBytes, sha256Hex, startFaultServer } from "../helpers/fault_server.ts";
import { cmdline, descendantsOf, survivorsOf, whenFiles } from "../helpers/processes.ts";
import { exists } from "../helpers/run_yaml.ts";
import { tempDir } from "../helpers/temp.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).pathname;
const SIZE = 2_000_000;
const sizeOf = (path: string) => Deno.stat(path).then((info) => info.size, () => -1);

/** A job file with four jobs in flight once started, and one waiting on a download. */
function jobFile(serverUrl: string, port: number, grace = "1s", trapTerm = false): string {
  const command = trapTerm
    ? `trap '' TERM; sleep 300 & echo $! > grandchild.pid; while :; do wait; done`
    : `sleep 300 & echo $! > grandchild.pid; wait`;
  return [
    "output: out",
    "concurrency: { io: 4, cpu: 2 }",
    "jobs:",
    `  - { name: big, download: { url: '${serverUrl}/file/big?size=${SIZE}&stall=1', to: big.bin } }`,
    `  - { name: sleeper, run: [sh, -c, "${command}"], cwd: out, kill_grace: ${grace} }`,
    `  - name: spin`,
    `    compute: { module: ${WORK}, export: spinsAfter, args: [${port}],`,
    `               permissions: { net: ['127.0.0.1:${port}'] } }`,
    "  - { name: later, needs: [big], run: ['true'] }",
  ].join("\n");
}

/** Starts the run and resolves once every job that can run is in flight. */
async function startRun(dir: string, text: string, listener: Deno.Listener) {
  await Deno.writeTextFile(`${dir}/jobs.yaml`, text);
  await Deno.mkdir(`${dir}/out`);
  const child = spawnCli(["run", "jobs.yaml"], { cwd: dir });
  const spinning = listener.accept().then((connection) => connection.close());
  await whenFiles(`${dir}/out`, async () =>
    await sizeOf(`${dir}/out/big.bin.part`) >= SIZE / 2 &&
    (await Deno.readTextFile(`${dir}/out/grandchild.pid`).catch(() => "")).endsWith("\n"));
  await spinning;
  const grandchild = Number(await Deno.readTextFile(`${dir}/out/grandchild.pid`));
  const processes = [...descendantsOf(child.pid), grandchild];
  return { child, processes, grandchild };
}

/** Reads a stream until `pattern` shows up; `rest` then resolves with all its text at its end. */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const rest = (async () => {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text += next.value;
    }
    return text;
  })();
  return { rest };
}

for (const [signal, expected] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`taskpool run: ${signal} stops every job, keeps the .part, kills every child, writes the report, exits ${expected}`, async () => {
    await using server = startFaultServer();
    await using dir = await tempDir();
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { child, processes } = await startRun(
      dir.path,
      jobFile(server.url, listener.addr.port),
      listener,
    );
    assert.ok(processes.length >= 3, `taskpool's children: ${processes}`);

    child.kill(signal);
    const { code, stderr } = await child.output();
    assert.equal(code, expected, new TextDecoder().decode(stderr));

    const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
    assert.equal(report.interrupted, true);
    assert.equal(report.exitCode, expected);
    for (const job of report.jobs) {
      assert.equal(job.status, "cancelled", job.name);
      assert.equal(job.interrupted, true, job.name);
      assert.equal(job.error?.code, "INTERRUPTED", job.name);
    }
    assert.deepEqual(report.jobs.map((job) => job.name), ["big", "sleeper", "spin", "later"]);
    assert.equal(await exists(`${dir.path}/out/big.bin`), false);
    assert.equal(await sizeOf(`${dir.path}/out/big.bin.part`), SIZE / 2);
    assert.equal(await exists(`${dir.path}/out/.taskpool/lock`), false);
    const survivors = await survivorsOf(processes);
    assert.deepEqual(survivors, [], "processes outlived taskpool");

    // The kept .part is resumed by the next run.
    await Deno.writeTextFile(
      `${dir.path}/again.yaml`,
      `output: out\njobs:\n  - { name: big, download: { url: '${server.url}/file/big?size=${SIZE}&stall=1', to: big.bin } }\n`,
    );
    const again = spawnCli(["run", "again.yaml", "--json"], { cwd: dir.path });
    const result = await again.output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    const resumed: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
    assert.equal(resumed.jobs[0]?.resumedFrom, SIZE / 2);
    assert.equal(
      await sha256Hex(await Deno.readFile(`${dir.path}/out/big.bin`)),
      await sha256Hex(fileBytes(SIZE, 1)),
    );
  });
}

Deno.test("taskpool run: a second SIGINT exits at once, still killing every child and leaving the report", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // The command ignores SIGTERM and has an hour's grace: only the second Ctrl-C ends this run.
  const { child, processes } = await startRun(
    dir.path,
    jobFile(server.url, listener.addr.port, "1h", true),
    listener,
  );
  child.kill("SIGINT");
  const stderr = await readUntil(child.stderr, /SIGINT received, cancelling/);
  child.kill("SIGINT");
  const [status, , text] = await Promise.all([
    child.status,
    child.stdout.cancel(),
    stderr.rest,
  ]);
  assert.equal(status.code, 130, text);
  const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  assert.equal(report.interrupted, true);
  assert.equal(report.jobs.find((job) => job.name === "sleeper")?.status, "cancelled");
  assert.equal(await exists(`${dir.path}/out/big.bin`), false);
  assert.equal(await exists(`${dir.path}/out/.taskpool/lock`), false);
  const survivors = (await survivorsOf(processes)).map((pid) => `${pid} ${cmdline(pid)}`);
  assert.deepEqual(survivors, [], "processes outlived taskpool");
});

Deno.test("taskpool run: killed outright (SIGKILL), it still ends each command's process group", async () => {
  await using dir = await tempDir();
  const out = `${dir.path}/out`;
  await Deno.mkdir(out);
  // One command ignores SIGTERM (it needs the SIGKILL after its grace), the other does not.
  const stubborn = `trap '' TERM; sleep 300 & echo $! > stubborn.pid; wait`;
  const polite = `sleep 300 & echo $! > polite.pid; wait`;
  await Deno.writeTextFile(
    `${dir.path}/jobs.yaml`,
    [
      "output: out",
      "concurrency: { cpu: 2 }",
      "jobs:",
      `  - { name: stubborn, run: [sh, -c, "${stubborn}"], cwd: out, kill_grace: 500ms }`,
      `  - { name: polite, run: [sh, -c, "${polite}"], cwd: out }`,
    ].join("\n"),
  );
  const launcher = spawnCli(["run", "jobs.yaml"], { cwd: dir.path });
  const pid = (name: string) => Deno.readTextFile(`${out}/${name}.pid`).catch(() => "");
  await whenFiles(
    out,
    async () => (await pid("stubborn")).endsWith("\n") && (await pid("polite")).endsWith("\n"),
  );
  const commands = [Number(await pid("stubborn")), Number(await pid("polite"))];
  // The run's process holds the output's lock and says its pid there.
  const run: number = JSON.parse(await Deno.readTextFile(`${out}/.taskpool/lock`)).pid;
  assert.ok(descendantsOf(launcher.pid).includes(run), "the run is the launcher's child");
  const processes = [...descendantsOf(run), ...commands];

  Deno.kill(run, "SIGKILL");
  launcher.kill("SIGKILL");
  await launcher.output();
  const survivors = (await survivorsOf(processes, 10_000))
    .map((pid) => `${pid} ${cmdline(pid)}`);
  assert.deepEqual(survivors, [], "processes outlived taskpool");
});
