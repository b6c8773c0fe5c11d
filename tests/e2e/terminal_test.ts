/**
 * The live progress display as a person sees it: taskpool runs in a real terminal (a tmux pane,
 * on its own tmux server), and the test reads the screen with `capture-pane`. In a pipe, the
 * same run prints plain lines.
 */
import assert from "node:assert/strict";
import { cli, RUN_FLAGS, spawnCli } from "../helpers/cli.ts";
import { whenFiles } from "../helpers/processes.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import { tempDir } from "../helpers/temp.ts";
import { tmux } from "../helpers/terminal.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
function jobFile(server: string): string {
  return [
    "output: out",
    "concurrency: { io: 4, cpu: 2 }",
    "jobs:",
    `  - { name: quick, download: { url: "${server}/bytes/2048" } }`,
    `  - { name: held, download: { url: "${server}/hold/tty" }, timeout: 60s }`,
    '  - { name: boom, run: ["sh", "-c", "exit 3"] }',
    "",
  ].join("\n");
}

Deno.test("taskpool run in a terminal: a line per pool, a bar with ETA, failures above, summary after", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("jobs.yaml", jobFile(server.url));
  const socket = `taskpool-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await using terminal = tmux(socket);
  const command = `cd '${dir.path}' && '${Deno.execPath()}' run -A '${MAIN}' run jobs.yaml; ` +
    `tmux -L ${socket} wait-for -S finished; exec sleep 600`;
  await terminal.run("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", command);

  await server.started("tty");
  const during = await terminal.screenWhen((text) =>
    /ETA/.test(text) && /files 1\/2/.test(text) && /jobs 1\/1/.test(text)
  );
  const lines = during.split("\n");
  const failure = lines.findIndex((line) => /^failed +boom .*exited with code 3/.test(line));
  const io = lines.findIndex((line) => /^io +1\/4 active +files 1\/2 +2\.0 KiB +\S+/.test(line));
  const cpu = lines.findIndex((line) => /^cpu +0\/2 busy +jobs 1\/1$/.test(line));
  const bar = lines.findIndex((line) => /^█+░+ +2\/3 +66% +1 failed +\S+ +ETA \S+$/.test(line));
  assert.ok(failure >= 0 && io === failure + 1 && cpu === io + 1 && bar === cpu + 1, during);
  assert.equal(lines.length, bar + 1, "the block is the last thing on screen");

  server.release("tty");
  await terminal.run("wait-for", "finished");
  const after = await terminal.screen();
  assert.doesNotMatch(after, /ETA|░|active|busy/, "the block is gone");
  assert.match(after, /^failed +boom .*exited with code 3/m);
  assert.match(after, /^taskpool: FAILED 3 jobs: 2 ok, 0 cached, 1 failed/m);
});

Deno.test("deno task run in a terminal: one Ctrl-C cancels cleanly, though it arrives twice", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("jobs.yaml", jobFile(server.url));
  // As users start it: `deno task run`. A Ctrl-C signals the terminal's foreground group, and
  // `deno task` also passes it on: taskpool gets it twice, a few ms apart.
  const task = `deno run ${RUN_FLAGS.join(" ")} '${MAIN}' run jobs.yaml`;
  await dir.write("deno.json", JSON.stringify({ tasks: { run: task } }));
  const socket = `taskpool-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await using terminal = tmux(socket);
  const command = `cd '${dir.path}' && '${Deno.execPath()}' task --quiet run; ` +
    `echo "exit code $?"; tmux -L ${socket} wait-for -S finished; exec sleep 600`;
  await terminal.run("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", command);

  await server.started("tty");
  await terminal.screenWhen((text) => /jobs 1\/1/.test(text));
  await terminal.run("send-keys", "-t", "main", "C-c");
  await terminal.run("wait-for", "finished");
  const after = await terminal.screen();
  // A second SIGINT would have exited at once, with no summary.
  assert.equal(after.match(/SIGINT received, cancelling/g)?.length, 1, after);
  assert.match(after, /^cancelled held: interrupted by SIGINT$/m);
  assert.match(after, /^taskpool: FAILED 3 jobs: .* 1 cancelled/m);
  assert.match(after, /^exit code 130$/m);
  server.release("tty");
});

Deno.test("taskpool run in a pipe: plain timestamped lines, no ANSI", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("jobs.yaml", jobFile(server.url));
  server.release("tty");
  const { code, stderr } = await cli(["run", "jobs.yaml"], {
    cwd: dir.path,
    env: { NO_COLOR: "" },
  });
  assert.equal(code, 1);
  assert.ok(!stderr.includes("\x1b"), stderr);
  const events = stderr.trimEnd().split("\n").map((line) => {
    const [stamp, event, name] = line.split(/ +/);
    assert.match(stamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    return `${event} ${name}`;
  });
  assert.deepEqual(events.sort(), [
    "failed boom",
    "ok held",
    "ok quick",
    "start boom",
    "start held",
    "start quick",
  ]);
});

Deno.test("a closed terminal (a hang-up) cancels the run cleanly, with its report", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("jobs.yaml", jobFile(server.url));
  const socket = `taskpool-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await using terminal = tmux(socket);
  // As users start it, `deno task run`: the hang-up reaches the launcher, which passes it on as
  // SIGTERM; the run's next write to the closed terminal then fails (EIO).
  const task = `deno run ${RUN_FLAGS.join(" ")} '${MAIN}' run jobs.yaml`;
  await dir.write("deno.json", JSON.stringify({ tasks: { run: task } }));
  await terminal.run(
    "new-session",
    "-d",
    "-s",
    "main",
    "-x",
    "100",
    "-y",
    "30",
    `cd '${dir.path}' && '${Deno.execPath()}' task --quiet run`,
  );
  await server.started("tty");
  await terminal.screenWhen((text) => /jobs 1\/1/.test(text));
  await terminal.run("kill-session", "-t", "main");

  const reportPath = `${dir.path}/out/report.json`;
  const written = () => Deno.stat(reportPath).then(() => true, () => false);
  await whenFiles(`${dir.path}/out`, written);
  const report = JSON.parse(await Deno.readTextFile(reportPath));
  assert.equal(report.interrupted, true);
  assert.equal(report.exitCode, 143);
  assert.equal(
    report.jobs.find((job: { name: string }) => job.name === "held").status,
    "cancelled",
  );
  server.release("tty");
});

Deno.test("a reader that goes away (| head) costs the logs, not the run: it ends with its report", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      '  - { name: a, run: [sh, -c, "echo started > a.txt; while [ ! -e go ]; do sleep 0.01; done"] }',
      '  - { name: b, needs: [a], run: [sh, -c, "echo b > b.txt"] }',
    ].join("\n"),
  );
  const child = spawnCli(["run", "jobs.yaml"], { cwd: dir.path });
  // The reader reads the first line, then leaves, as `2>&1 | head -1` does.
  const reader = child.stderr.getReader();
  await reader.read();
  await reader.cancel();
  await child.stdout.cancel();
  await Deno.writeTextFile(`${dir.path}/go`, "");
  // A run whose write threw used to wait for ever: it gets 30 s.
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const status = await child.status.finally(() => clearTimeout(deadline));
  assert.equal(status.signal, null, "the run never ended");
  assert.equal(status.code, 0);
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  assert.equal(report.summary.ok, 2);
  assert.equal(await Deno.readTextFile(`${dir.path}/b.txt`), "b\n");
});
