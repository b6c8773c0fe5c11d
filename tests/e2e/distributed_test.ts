/**
 * Distributed runs on a real redis-server with real worker processes, killed with real signals:
 * the coordinator (`run --redis`) and workers (`taskpool worker`) through the CLI.
 */
import assert from "node:assert/strict";
import { cli, spawnCli } from "../helpers/cli.ts";
import { tempDir, textsUnder } from "../helpers/temp.ts";
import { exists } from "../helpers/run_yaml.ts";
import { startRedis, startWorker, type TestRedis } from "../helpers/redis.ts";
import { bodyBytes, fileBytes, startFaultServer } from "../helpers/fault_server.ts";
import type { Report } from "../../lib/report/types.ts";
import { descendantsOf, whenFiles } from "../helpers/processes.ts";
import { makeCa } from "../helpers/tls.ts";
import { tmux } from "../helpers/terminal.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

const SECRET = "t0ken-that-stays-on-workers";

/** Every value Redis holds, as text, whatever the key's type. */
async function redisContents(redis: TestRedis): Promise<string> {
  const keys = (await redis.cli("--scan")).split("\n").filter(Boolean);
  const parts: string[] = [];
  for (const key of keys) {
    const type = (await redis.cli("type", key)).trim();
    const read: Record<string, string[]> = {
      string: ["get", key],
      hash: ["hgetall", key],
      list: ["lrange", key, "0", "-1"],
      set: ["smembers", key],
      zset: ["zrange", key, "0", "-1"],
      stream: ["xrange", key, "-", "+"],
    };
    if (read[type]) parts.push(key, await redis.cli(...read[type]!));
  }
  return parts.join("\n");
}

/** Resolves once one attempt waits on `pool`'s intake list (no worker has taken it). */
async function untilQueued(redis: TestRedis, pool: "io" | "cpu"): Promise<void> {
  let queued = "";
  for (let i = 0; i < 500 && queued !== "1\n"; i++) {
    queued = await redis.cli("llen", `taskpool:intake:${pool}`);
  }
  assert.equal(queued, "1\n", "the attempt reached Redis");
}

async function reportOf(path: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("a job file runs on two workers: needs in order, each job's worker reported, ${VAR} only on workers", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("work/square.ts", "export default (n: number) => n * n;\n");
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      // Each held until both are in flight: one on each worker (io 1 each).
      `  - { name: a, download: { url: "${server.url}/together/t?n=2", to: a.bin, ` +
      `headers: { X-Token: "\${TOKEN}" } } }`,
      `  - { name: b, download: { url: "${server.url}/together/t?n=2", to: b.bin, ` +
      `headers: { X-Token: "\${TOKEN}" } } }`,
      "  - { name: square, compute: { module: ./work/square.ts, args: [12] } }",
      "  - name: note",
      "    needs: [a, b, square]",
      `    run: [sh, -c, 'echo "\${WHO}" > "$TASKPOOL_OUTPUT/note.txt"']`,
    ].join("\n"),
  );
  const env = { TOKEN: SECRET, WHO: "a worker" };
  await using one = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["--name", "one", "-o", "w1", "--io", "1"],
    env,
  });
  await using two = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["--name", "two", "-o", "w2", "--io", "1"],
    env,
  });
  // The coordinator has neither variable: it does not need them.
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url, "--html", "t.html"], {
    cwd: dir.path,
  });
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(run.stderr, /^\S+ ok +square \S+ on (one|two)@/m, "each line says where");
  const report = await reportOf(`${dir.path}/out/report.json`);
  const ran = Object.fromEntries(report.jobs.map((job) => [job.name, job.ranOn]));
  assert.deepEqual(
    new Set([ran.a, ran.b].map((label) => label?.split("@")[0])),
    new Set(["one", "two"]),
    "the pair ran at once, one on each worker",
  );
  for (const job of report.jobs) assert.ok([one.label, two.label].includes(job.ranOn!));
  const note = report.jobs.find((job) => job.name === "note")!;
  const last = Math.max(...report.jobs.filter((job) => job !== note).map((job) => job.endMs));
  assert.ok(note.startMs! >= last, "note ran after what it needs");
  assert.equal(report.jobs.find((job) => job.name === "square")!.result, 144);
  const noteOn = note.ranOn!.startsWith("one@") ? "w1" : "w2";
  assert.equal(await Deno.readTextFile(`${dir.path}/${noteOn}/note.txt`), "a worker\n");
  for (const headers of server.requests.get("/together/t")!) {
    assert.equal(headers.get("x-token"), SECRET, "the worker expanded the header");
  }
  const html = await Deno.readTextFile(`${dir.path}/t.html`);
  assert.ok(html.includes(one.label) && html.includes(two.label), "a lane group per worker");

  assert.ok(!(await redisContents(redis)).includes(SECRET), "no secret in Redis");
  for await (const [path, text] of textsUnder(dir.path)) {
    if (path.endsWith("jobs.yaml")) continue;
    assert.ok(!text.includes(SECRET), `${path} holds the secret`);
  }
  assert.equal(await one.stop(), 0);
  assert.equal(await two.stop(), 0);
});

Deno.test("more attempts than one bulk to Redis carries: each runs once", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await dir.write("work/next.ts", "export default (n: number) => n + 1;\n");
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - { name: t, compute: { module: ./work/next.ts, args: [1], isolation: thread }, repeat: 700 }\n",
  );
  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"] });
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url, "-q"], { cwd: dir.path });
  assert.equal(run.code, 0, run.stderr);
  const report = await reportOf(`${dir.path}/out/report.json`);
  assert.equal(report.jobs.length, 700);
  assert.ok(
    report.jobs.every((job) => job.status === "ok" && job.attempts === 1 && job.result === 2),
  );
  // Each attempt was one BullMQ job, dropped once completed: what Redis keeps (for a week) is
  // each attempt's outcome, a few hundred bytes.
  assert.equal(await redis.cli("zcard", "taskpool:cpu:completed"), "0\n");
  const outcomes = (await redis.cli("--scan", "--pattern", "taskpool:outcome:*")).trim();
  assert.equal(outcomes.split("\n").length, 700);
  const bytes = Number(await redis.cli("memory", "usage", outcomes.split("\n")[0]!));
  assert.ok(bytes < 400, `an outcome takes ${bytes} bytes`);
  assert.equal(await worker.stop(), 0);
});

Deno.test("a job taken ahead by a busy worker goes to an idle one, with no retry used", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      // `long` holds worker a's only io slot until released; a takes `short` ahead (two io jobs
      // a slot) and, finding no free slot, hands it back for b, which joins later.
      `  - { name: long, download: { url: "${server.url}/hold/long", to: long.bin }, retries: 0 }`,
      `  - { name: short, download: { url: "${server.url}/bytes/16", to: short.bin }, retries: 0 }`,
    ].join("\n"),
  );
  await using a = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["--name", "a", "-o", "wa", "--io", "1"],
  });
  const coordinator = spawnCli(["run", "jobs.yaml", "--redis", redis.url, "--json"], {
    cwd: dir.path,
  });
  await server.started("long");
  await using b = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["--name", "b", "-o", "wb", "--io", "1"],
  });
  // Without the hand-back, `short` would wait behind `long`, which waits for this file.
  await whenFiles(dir.path, () => exists(`${dir.path}/wb/short.bin`));
  server.release("long");
  const { code, stdout, stderr } = await coordinator.output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr) + decoder.decode(stdout));
  const report = await reportOf(`${dir.path}/out/report.json`);
  const job = (name: string) => report.jobs.find((each) => each.name === name)!;
  assert.equal(job("long").ranOn, a.label);
  assert.equal(job("short").ranOn, b.label);
  assert.equal(job("short").attempts, 1, "handing back used no retry");
  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
});

Deno.test("a worker SIGKILLed mid-compute and mid-download: its jobs run again elsewhere, the download resumes", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  // The module waits for ever where a `block` file sits beside it: only in the doomed copy.
  const module = [
    "export default async (n: number) => {",
    "  const blocked = await Deno.stat(new URL('./block', import.meta.url)).then(() => true, () => false);",
    "  if (blocked) await new Promise(() => {});",
    "  return n + 1;",
    "};",
  ].join("\n");
  for (const copy of ["doomed", "healthy"]) await dir.write(`${copy}/work/step.ts`, `${module}\n`);
  await dir.write("doomed/work/block", "");
  const size = 600_000;
  const yaml = [
    "output: out",
    "jobs:",
    "  - { name: step, compute: { module: ./work/step.ts, args: [41] } }",
    // The first response sends half and then stalls: the worker holding it is killed mid-body.
    `  - { name: big, download: { url: "${server.url}/file/big?size=${size}&stall=1", to: big.bin } }`,
  ].join("\n");
  await dir.write("doomed/jobs.yaml", yaml);
  await dir.write("healthy/jobs.yaml", yaml);
  const lease = ["--lease", "2s", "-o", `${dir.path}/shared`];
  const doomed = await startWorker(redis.url, { cwd: `${dir.path}/doomed`, args: lease });
  const coordinator = spawnCli(["run", "jobs.yaml", "--redis", redis.url, "--json"], {
    cwd: `${dir.path}/doomed`,
  });
  await whenFiles(
    `${dir.path}/shared`,
    async () =>
      (await Deno.stat(`${dir.path}/shared/big.bin.part`).catch(() => undefined))?.size ===
        size / 2,
  );
  await doomed.stop("SIGKILL");
  await using healthy = await startWorker(redis.url, { cwd: `${dir.path}/healthy`, args: lease });
  const { code, stdout } = await coordinator.output();
  assert.equal(code, 0, new TextDecoder().decode(stdout));
  const report = await reportOf(`${dir.path}/doomed/out/report.json`);
  for (const job of report.jobs) {
    assert.equal(job.status, "ok", job.name);
    assert.equal(job.ranOn, healthy.label, `${job.name} ran again on the healthy worker`);
    assert.equal(job.attempts, 1, "a stall uses up no retry");
  }
  assert.equal(report.jobs.find((job) => job.name === "step")!.result, 42);
  const big = report.jobs.find((job) => job.name === "big")!;
  assert.equal(big.resumedFrom, size / 2, "the healthy worker resumed the doomed one's .part");
  assert.deepEqual(await Deno.readFile(`${dir.path}/shared/big.bin`), fileBytes(size, 1));
  for (const left of ["big.bin.part", "big.bin.part.json"]) {
    assert.ok(!(await exists(`${dir.path}/shared/${left}`)), `${left} was cleared away`);
  }
});

Deno.test("a coordinator SIGKILLed and started again picks its run up; a finished run is not", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      // Each run of a command job appends a line: how often it ran is in the file.
      `  - { name: quick, run: [sh, -c, 'echo quick >> "$TASKPOOL_OUTPUT/runs"'] }`,
      `  - { name: held, download: { url: "${server.url}/hold/h", to: held.bin } }`,
      `  - { name: after, needs: [held], run: [sh, -c, 'echo after >> "$TASKPOOL_OUTPUT/runs"'] }`,
    ].join("\n"),
  );
  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"] });
  const first = spawnCli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  await server.started("h");
  await whenFiles(
    `${dir.path}/w`,
    async () => await Deno.readTextFile(`${dir.path}/w/runs`).catch(() => "") === "quick\n",
  );
  // The coordinator dies whole, launcher and run alike, as when its machine goes.
  for (const pid of [...descendantsOf(first.pid), first.pid]) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone already */ }
  }
  await first.status;
  await first.stdout.cancel();
  await first.stderr.cancel();

  const second = spawnCli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  server.release("h");
  const { code, stderr } = await second.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(new TextDecoder().decode(stderr), /picking up run/);
  assert.equal(
    await Deno.readTextFile(`${dir.path}/w/runs`),
    "quick\nafter\n",
    "nothing ran twice",
  );
  assert.equal(server.hits.get("/hold/h"), 1, "the held download was not fetched again");
  assert.deepEqual(await Deno.readFile(`${dir.path}/w/held.bin`), bodyBytes(16));

  const third = await cli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  assert.equal(third.code, 0, third.stderr);
  assert.doesNotMatch(third.stderr, /picking up run/, "a finished run is never picked up");
  assert.deepEqual(
    (await Deno.readTextFile(`${dir.path}/w/runs`)).split("\n").slice(2).toSorted(),
    ["", "after", "quick"],
    "the next run is a new run: both command jobs ran once more",
  );
  assert.equal(await worker.stop(), 0);
});

Deno.test("Redis restarted empty mid-run: the coordinator puts back what was lost, and a finished attempt is kept", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: held, download: { url: "${server.url}/hold/r", to: held.bin } }`,
      `  - { name: after, needs: [held], run: ["true"] }`,
    ].join("\n"),
  );
  const run = spawnCli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  // No worker yet: the attempt waits on the intake list, and is lost with Redis.
  await untilQueued(redis, "io");
  await redis.restartEmpty();
  await using worker = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["-o", "w", "--lease", "2s"],
  });
  await server.started("r");
  // Lost again while it runs: its worker keeps its outcome in the Redis that is there.
  await redis.restartEmpty();
  server.release("r");
  const { code, stderr } = await run.output();
  const said = new TextDecoder().decode(stderr);
  assert.equal(code, 0, said);
  assert.match(said, /Redis no longer has held: queued again/);
  assert.equal(server.hits.get("/hold/r"), 1, "held ran once");
  const report = await reportOf(`${dir.path}/out/report.json`);
  assert.deepEqual(report.jobs.map((job) => job.status), ["ok", "ok"]);
  assert.equal(await worker.stop(), 0);
});

Deno.test("a worker whose module differs or is missing, or that lacks a variable, fails that job saying so", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await dir.write("coord/work/m.ts", "export default () => 1;\n");
  await dir.write("coord/work/only.ts", "export default () => 3;\n");
  await dir.write("other/work/m.ts", "export default () => 2; // changed\n");
  const yaml = [
    "output: out",
    "jobs:",
    "  - { name: m, retries: 0, compute: { module: ./work/m.ts } }",
    "  - { name: n, retries: 0, compute: { module: ./work/only.ts } }",
    `  - { name: v, retries: 0, run: [sh, -c, 'echo \${MISSING_ONE}'] }`,
  ].join("\n");
  await dir.write("coord/jobs.yaml", yaml);
  await using worker = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["--dir", "other", "-o", "w"],
  });
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url], { cwd: `${dir.path}/coord` });
  assert.equal(run.code, 1);
  const report = await reportOf(`${dir.path}/coord/out/report.json`);
  const m = report.jobs.find((job) => job.name === "m")!;
  assert.equal(m.error?.code, "DEFINITION_DIFFERS");
  assert.match(m.error!.message, /has a different work\/m\.ts from the coordinator's/);
  const n = report.jobs.find((job) => job.name === "n")!;
  assert.equal(n.error?.code, "DEFINITION_MISSING");
  assert.match(n.error!.message, /has no work\/only\.ts in its --dir .*other.*pass --dir/);
  const v = report.jobs.find((job) => job.name === "v")!;
  assert.equal(v.error?.code, "MISSING_VARIABLE");
  assert.match(v.error!.message, /lacks \$\{MISSING_ONE\}/);
  assert.equal(await worker.stop(), 0);
});

Deno.test("SIGTERM: a worker finishes what it can within --kill-grace, hands back the rest, exits 0", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: held, download: { url: "${server.url}/hold/g", to: g.bin } }\n`,
  );
  const leaving = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["-o", "w", "--kill-grace", "1s", "--name", "leaving"],
  });
  const run = spawnCli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  await server.started("g");
  assert.equal(await leaving.stop("SIGTERM"), 0, leaving.stderr());
  await using staying = await startWorker(redis.url, {
    cwd: dir.path,
    args: ["-o", "w", "--name", "staying"],
  });
  server.release("g");
  const { code } = await run.output();
  assert.equal(code, 0);
  const [job] = (await reportOf(`${dir.path}/out/report.json`)).jobs;
  assert.equal(job!.ranOn, staying.label, "handed back, then run by the other worker");
  assert.equal(job!.attempts, 1, "handing back uses up no retry");
});

Deno.test("rediss:// with a password: the run works, the password is shown and kept nowhere", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/pki`);
  await makeCa(`${dir.path}/pki`);
  const password = "r3dis-pa55word";
  const tls = {
    cert: `${dir.path}/pki/leaf.pem`,
    key: `${dir.path}/pki/leaf.key`,
    ca: `${dir.path}/pki/ca.pem`,
  };
  await using redis = await startRedis({ tls, password });
  assert.ok(redis.url.startsWith("rediss://"));
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: hi, run: [sh, -c, 'echo hi > "$TASKPOOL_OUTPUT/hi"'] }\n`,
  );
  const env = { DENO_CERT: tls.ca };
  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"], env });
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path, env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await Deno.readTextFile(`${dir.path}/w/hi`), "hi\n");
  const wrong = await cli(
    ["run", "jobs.yaml", "--redis", redis.url.replace(password, "not-it")],
    { cwd: dir.path, env },
  );
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /refused the login/);
  assert.doesNotMatch(wrong.stderr, /^taskpool: redis /m, "said once, in the error that ends it");
  assert.equal(await worker.stop(), 0);
  for (const text of [run.stdout, run.stderr, wrong.stdout, wrong.stderr, worker.stderr()]) {
    assert.ok(!text.includes(password), "the password is never shown");
  }
  for await (const [path, text] of textsUnder(dir.path)) {
    assert.ok(!text.includes(password), `${path} holds the password`);
  }
});

Deno.test("in a terminal, a distributed run shows each worker and what it runs", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: slow, download: { url: "${server.url}/hold/tty", to: s.bin } }\n`,
  );
  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"] });
  const socket = `taskpool-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await using terminal = tmux(socket);
  const command = `cd '${dir.path}' && '${Deno.execPath()}' run -A '${MAIN}' run jobs.yaml ` +
    `--redis ${redis.url}; tmux -L ${socket} wait-for -S finished; exec sleep 600`;
  await terminal.run("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", command);
  await server.started("tty");
  const during = await terminal.screenWhen((text) => text.includes("1 running: slow"));
  assert.match(
    during,
    new RegExp(`^workers$\\n^  ${worker.label.replace(/\./g, "\\.")}  1 running: slow$`, "m"),
  );
  server.release("tty");
  await terminal.run("wait-for", "finished");
  assert.match(await terminal.screen(), /^taskpool: OK 1 jobs: 1 ok/m);
  assert.equal(await worker.stop(), 0);
});

Deno.test("timeouts, retries and --fail-fast mean what they mean on one machine", async () => {
  await using redis = await startRedis();
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      // Times out on its worker; the attempt is cancelled there, and retried once.
      `  - { name: slow, timeout: 500ms, retries: 1, backoff: 0, download: { url: "${server.url}/hold/never", to: s.bin } }`,
      // Fails twice with a retryable 503, then succeeds: retries and back-off as locally.
      `  - { name: flaky, retries: 2, backoff: 0, download: { url: "${server.url}/flaky/f?fail=2", to: f.bin } }`,
    ].join("\n"),
  );
  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"] });
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  assert.equal(run.code, 1, run.stderr);
  const report = await reportOf(`${dir.path}/out/report.json`);
  const slow = report.jobs.find((job) => job.name === "slow")!;
  assert.equal(slow.error?.code, "TIMEOUT");
  assert.equal(slow.attempts, 2);
  const flaky = report.jobs.find((job) => job.name === "flaky")!;
  assert.equal(flaky.status, "ok");
  assert.equal(flaky.attempts, 3);
  assert.deepEqual(flaky.attemptLog.map((attempt) => attempt.error?.code), [
    "HTTP_503",
    "HTTP_503",
    undefined,
  ]);

  await dir.write(
    "fast.yaml",
    [
      "output: out2",
      "jobs:",
      '  - { name: boom, run: [sh, -c, "exit 3"] }',
      `  - { name: held, download: { url: "${server.url}/hold/ff", to: h.bin } }`,
    ].join("\n"),
  );
  const fast = await cli(["run", "fast.yaml", "--redis", redis.url, "--fail-fast"], {
    cwd: dir.path,
  });
  assert.equal(fast.code, 1);
  const stopped = await reportOf(`${dir.path}/out2/report.json`);
  assert.equal(stopped.jobs.find((job) => job.name === "boom")!.error?.code, "EXIT_CODE");
  assert.equal(stopped.jobs.find((job) => job.name === "held")!.status, "cancelled");
  assert.equal(await worker.stop(), 0, "the worker was not held up by the cancelled jobs");
});

Deno.test("an attempt cancelled before any worker took it never runs, on a worker that comes later", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: late, timeout: 300ms, retries: 0, run: [sh, -c, 'echo ran > "$TASKPOOL_OUTPUT/late"'] }`,
    ].join("\n"),
  );
  // No worker yet: the attempt waits on the intake list until its timeout cancels it.
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  assert.equal(run.code, 1, run.stderr);
  const [job] = (await reportOf(`${dir.path}/out/report.json`)).jobs;
  assert.equal(job!.error?.code, "TIMEOUT");
  assert.equal(await redis.cli("llen", "taskpool:intake:cpu"), "1\n", "still waiting for a worker");

  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"] });
  // The worker queues it and finishes it without running it.
  const id = (await redis.cli("--scan", "--pattern", "taskpool:cancelled:*")).trim()
    .replace("taskpool:cancelled:", "");
  assert.match(id, /\|late\|1$/);
  let outcome = "";
  for (let i = 0; i < 500 && !outcome; i++) {
    outcome = (await redis.cli("get", `taskpool:outcome:${id}`)).trim();
  }
  assert.equal(JSON.parse(outcome).cancelled, true);
  assert.equal(await exists(`${dir.path}/w/late`), false, "the command never ran");
  assert.equal(await worker.stop(), 0);
});

Deno.test("a coordinator stopped while Redis is gone ends within seconds: report, summary, lock released", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await dir.write("jobs.yaml", "output: out\njobs:\n  - { name: waits, run: ['true'] }\n");
  // No worker: the attempt waits on the intake list.
  const run = spawnCli(["run", "jobs.yaml", "--redis", redis.url], { cwd: dir.path });
  await untilQueued(redis, "cpu");
  await redis.stop();
  // Its cancel mark now has nowhere to go: the coordinator must not wait for Redis for ever.
  run.kill("SIGTERM");
  const guard = setTimeout(() => run.kill("SIGKILL"), 30_000);
  const { code, stderr } = await run.output();
  clearTimeout(guard);
  const said = new TextDecoder().decode(stderr);
  assert.equal(code, 143, said);
  assert.match(
    said,
    /Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 5s; what it had yet/,
  );
  const report = await reportOf(`${dir.path}/out/report.json`);
  assert.equal(report.interrupted, true);
  assert.equal(report.jobs[0]!.status, "cancelled");
  assert.equal(await exists(`${dir.path}/out/.taskpool/lock`), false);
});

Deno.test("a full Redis (maxmemory) is said in words, and a run it cannot start exits 75 (try again)", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await dir.write("jobs.yaml", "output: out\njobs:\n  - { name: j, run: ['true'] }\n");
  await redis.cli("config", "set", "maxmemory", "1");
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url, "-q"], { cwd: dir.path });
  assert.equal(run.code, 75, run.stderr);
  assert.match(
    run.stderr,
    /^taskpool: Redis is full \(its maxmemory\): free some of it or raise maxmemory; .* Redis said: OOM /m,
  );
});

Deno.test("a large compute result comes back whole: announced as stored, read once from its key", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await dir.write("work/big.ts", "export default (n: number) => 'x'.repeat(n);\n");
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: big, compute: { module: ./work/big.ts, args: [300000] } }",
      "  - { name: small, compute: { module: ./work/big.ts, args: [3] } }",
    ].join("\n"),
  );
  await using worker = await startWorker(redis.url, { cwd: dir.path, args: ["-o", "w"] });
  const run = await cli(["run", "jobs.yaml", "--redis", redis.url, "-q"], { cwd: dir.path });
  assert.equal(run.code, 0, run.stderr);
  const report = await reportOf(`${dir.path}/out/report.json`);
  const result = (name: string) => report.jobs.find((job) => job.name === name)!.result;
  assert.equal(result("big"), "x".repeat(300_000));
  assert.equal(result("small"), "xxx");
  assert.equal(await worker.stop(), 0);
});
