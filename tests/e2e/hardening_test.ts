/**
 * What a hostile tester found in the second round, each through the real CLI in a subprocess
 * against loopback servers: secrets that reached a file, names no file system takes, bombs,
 * servers that ask for a day, unnamed duplicate keys, remote modules, relative paths.
 */
import assert from "node:assert/strict";
import { cli } from "../helpers/cli.ts";
import { tempDir, textsUnder } from "../helpers/temp.ts";
import { exists } from "../helpers/run_yaml.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import type { Report } from "../../lib/report/types.ts";
import { serveLoopback } from "../../lib/util/serve_loopback.ts";
const WORK = new URL("../testdata/work.ts", import.meta.url).pathname;

/** The report a run wrote under `<folder>/out`, and its jobs by name. */
async function reportIn(folder: string) {
  const report: Report = JSON.parse(await Deno.readTextFile(`${folder}/out/report.json`));
  const job = (name: string) => report.jobs.find((each) => each.name === name)!;
  return { report, job };
}

Deno.test("a name no file system takes is a job-file error: exit 2 with its place, nothing run", async () => {
  await using dir = await tempDir();
  const long = "n".repeat(300);
  await dir.write(
    "nul.yaml",
    [
      "output: out",
      "jobs:",
      '  - { name: nul, download: { url: "http://127.0.0.1:1/b", to: "b06\\0.bin" } }',
      '  - { name: out, run: ["true"], outputs: ["o\\0"] }',
      '  - { name: thumb, compute: { module: "builtin:count", to: "t\\0.png" } }',
      "",
    ].join("\n"),
  );
  await dir.write(
    "long.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: long, download: { url: "http://127.0.0.1:1/b", to: "d/${long}.bin" } }`,
      `  - { name: fromurl, download: { url: "http://127.0.0.1:1/${long}" } }`,
      "",
    ].join("\n"),
  );
  for (const command of ["validate", "run"]) {
    const nul = await cli([command, "nul.yaml"], { cwd: dir.path });
    assert.equal(nul.code, 2, nul.stderr);
    assert.match(nul.stderr, /nul\.yaml:3:\d+: jobs\[0\]\.download\.to must not contain a NUL/);
    assert.match(nul.stderr, /nul\.yaml:4:\d+: jobs\[1\]\.outputs\[0\] must not contain a NUL/);
    assert.match(nul.stderr, /nul\.yaml:5:\d+: jobs\[2\]\.compute\.to must not contain a NUL/);
    const long = await cli([command, "long.yaml"], { cwd: dir.path });
    assert.equal(long.code, 2, long.stderr);
    assert.match(long.stderr, /long\.yaml:3:\d+: jobs\[0\]\.download\.to has a name of 304 bytes/);
    assert.match(long.stderr, /long\.yaml:4:\d+: jobs\[1\]\.download\.url has a name of 300 bytes/);
  }
  assert.equal(await exists(`${dir.path}/out`), false, "nothing ran");
});

Deno.test("a server that asks for longer than max_wait fails the job at once, saying so", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: day, download: { url: "${server.url}/flaky/day?fail=9&after=86400" }, retries: 3 }`,
      `  - { name: hour, download: { url: "${server.url}/flaky/hour?fail=9&status=429&after=3600", max_wait: 2s } }`,
      "",
    ].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const { job } = await reportIn(dir.path);
  assert.equal(job("day").attempts, 1, "no attempt against the server's wish");
  assert.equal(job("day").error?.code, "RETRY_LATER");
  assert.match(
    job("day").error!.message,
    /answered HTTP 503: server asked to retry after 24h, more than max_wait 1m$/,
  );
  assert.equal(job("hour").attempts, 1);
  assert.match(
    job("hour").error!.message,
    /HTTP 429: server asked to retry after 1h, more than max_wait 2s$/,
  );
  assert.match(stderr, /server asked to retry after 24h, more than max_wait 1m/);
});

Deno.test("a remote module is refused as such, and a URL never becomes a path", async () => {
  await using dir = await tempDir();
  await dir.write("work.ts", "export default () => 1;\n");
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: remote, compute: { module: http://127.0.0.1:1/m.ts } }",
      "  - { name: npm, compute: { module: 'npm:left-pad' } }",
      `  - { name: local, compute: { module: "file://${dir.path}/work.ts" } }`,
      "",
    ].join("\n"),
  );
  const { code, stderr } = await cli(["validate", "jobs.yaml"], { cwd: dir.path });
  assert.equal(code, 2, stderr);
  assert.match(
    stderr,
    /jobs\.yaml:2:\d+: jobs\[0\]\.compute\.module names a http: module, which taskpool does not load: got "http:\/\/127\.0\.0\.1:1\/m\.ts"/,
  );
  assert.match(stderr, /jobs\[1\]\.compute\.module names a npm: module/);
  assert.doesNotMatch(stderr, /http:\/127|jobs\[2\]/, "no URL turned into a path; file: URLs load");
});

Deno.test("under deno task from a subfolder, relative paths mean the caller's folder", async () => {
  await using dir = await tempDir();
  await dir.write("sub/jobs.yaml", 'output: out\njobs:\n  - { name: a, run: ["true"] }\n');
  await dir.write("sub/vars.env", "NAME=x\n");
  const config = new URL("../../deno.json", import.meta.url).pathname;
  // As typed at a shell: `deno task` keeps an INIT_CWD that is set already (this suite's own).
  const env = { ...Deno.env.toObject(), NO_COLOR: "1", RUST_BACKTRACE: "0" };
  delete (env as Record<string, string | undefined>).INIT_CWD;
  const task = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "--config", config, ...args],
      cwd: `${dir.path}/sub`,
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const validated = await task("taskpool", "validate", "jobs.yaml", "--env-file", "vars.env");
  assert.equal(validated.code, 0, new TextDecoder().decode(validated.stderr));
  const ran = await task(
    "run",
    "jobs.yaml",
    "--report",
    "r.json",
    "--html",
    "t.html",
    "--trace",
    "t.json",
    "-q",
  );
  assert.equal(ran.code, 0, new TextDecoder().decode(ran.stderr));
  for (const file of ["out/logs/a.log", "r.json", "t.html", "t.json"]) {
    assert.ok(await exists(`${dir.path}/sub/${file}`), `${file} in the caller's folder`);
  }
});

/** The gzip of `size` zero bytes: a small body that decodes to a large one. */
async function gzipOfZeros(size: number): Promise<Uint8Array<ArrayBuffer>> {
  const zeros = new Uint8Array(1024 * 1024);
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      for (let sent = 0; sent < size; sent += zeros.byteLength) controller.enqueue(zeros);
      controller.close();
    },
  }).pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("a gzip body is decoded at the pace of the writes, and max_bytes counts decoded bytes", async () => {
  const decoded = 256 * 2 ** 20;
  const bomb = await gzipOfZeros(decoded);
  await using server = serveLoopback(() =>
    new Response(bomb, { headers: { "content-encoding": "gzip" } })
  );
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "concurrency: { io: 1 }", // one body at a time: the figure is one decode's
      "jobs:",
      `  - { name: whole, download: { url: "${server.url}/z.bin", max_bytes: 1GiB } }`,
      `  - { name: capped, download: { url: "${server.url}/c.bin", max_bytes: 64MiB } }`,
      "",
    ].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "--cpu", "1"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const { report, job } = await reportIn(dir.path);
  assert.equal(job("whole").status, "ok");
  assert.equal((await Deno.stat(`${dir.path}/out/z.bin`)).size, decoded);
  assert.ok(
    report.peakRssBytes < 200e6, // the bench holds 1 GiB of decoding to its 150 MB target
    `peak RSS ${(report.peakRssBytes / 2 ** 20).toFixed(0)} MiB decoding ${bomb.byteLength} bytes`,
  );
  assert.equal(job("capped").error?.code, "TOO_LARGE");
  assert.equal(job("capped").attempts, 1);
  assert.match(
    job("capped").error!.message,
    /decodes to more than max_bytes 64\.0 MiB \(Content-Encoding gzip\)/,
  );
  assert.equal(await exists(`${dir.path}/out/c.bin`), false, "nothing lands under its name");
});

Deno.test("no password of a URL, no value of a secret-looking query parameter and no header value from ${VAR} reaches a file, a log or a message", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const password = "s3cret-pw";
  const fromEnv = "t0ps3cret-value";
  // A presigned URL's signature and an API key in a query string.
  const signature = "9f8e7d6c5b4a39281706";
  const apiKey = "AIzaSyD-example-key";
  const port = new URL(server.url).port;
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: ok, download: { url: "http://me:${password}@127.0.0.1:${port}/bytes/64" } }`,
      "  - name: echoed",
      `    download: { url: "${server.url}/status/500?echo=x-trace", headers: { X-Trace: "\${TRACE}" } }`,
      "    retries: 0",
      `  - { name: refused, download: { url: "http://me:${password}@127.0.0.1:1/x" }, retries: 0 }`,
      '  - { name: cmd, run: ["true", "--token=${TRACE}"], env: { T: "${TRACE}" } }',
      `  - { name: signed, download: { url: "${server.url}/bytes/64?X-Amz-Expires=60&X-Amz-Signature=${signature}", to: signed.bin } }`,
      `  - { name: keyed, download: { url: "${server.url}/status/500?key=${apiKey}&page=2", to: keyed.bin }, retries: 0 }`,
      "",
    ].join("\n"),
  );
  const env = { TRACE: fromEnv };
  const outputs = [
    await cli(["validate", "jobs.yaml"], { cwd: dir.path, env }),
    await cli(["plan", "jobs.yaml"], { cwd: dir.path, env }),
    await cli(["plan", "--json", "jobs.yaml"], { cwd: dir.path, env }),
  ];
  const run = await cli(
    ["run", "jobs.yaml", "--json", "--html", "t.html", "--trace", "t.json"],
    { cwd: dir.path, env },
  );
  assert.equal(run.code, 1, run.stderr);
  const { report, job } = await reportIn(dir.path);
  assert.equal(job("ok").status, "ok");
  assert.equal(job("signed").status, "ok");
  assert.match(String(job("signed").url), /\?X-Amz-Expires=60&X-Amz-Signature=\*\*\*$/);
  assert.match(job("keyed").error!.message, /\?key=\*\*\*&page=2 answered HTTP 500/);
  assert.match(JSON.stringify(report), /"X-Trace":"\*\*\*"/);
  let files = 0;
  for await (const [path, text] of textsUnder(dir.path)) {
    if (path.endsWith("jobs.yaml")) continue;
    files++;
    for (const secret of [password, fromEnv, signature, apiKey]) {
      assert.ok(!text.includes(secret), `${path} holds ${secret}`);
    }
  }
  assert.ok(files >= 5, "the report, state, timelines and logs were read");
  for (const { stdout, stderr } of [...outputs, run]) {
    for (const secret of [password, fromEnv, signature, apiKey]) {
      assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `printed ${secret}`);
    }
  }
});

Deno.test("a job file or an output whose path has a comma, which no Deno flag can carry: exit 2 saying so, nothing run", async () => {
  await using dir = await tempDir();
  await dir.write("a,b/jobs.yaml", "output: out\njobs:\n  - { name: t, run: [touch, ran] }\n");
  await dir.write("jobs.yaml", 'output: "out,put"\njobs:\n  - { name: t, run: [touch, ran] }\n');
  const folder = await cli(["run", "jobs.yaml"], { cwd: `${dir.path}/a,b` });
  assert.equal(folder.code, 2, folder.stderr);
  assert.match(
    folder.stderr,
    /a,b\/jobs\.yaml: Deno's permission flags separate paths with commas/,
  );
  const output = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(output.code, 2, output.stderr);
  assert.match(output.stderr, /\/out,put: Deno's permission flags .* rename it/);
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name).sort(), [
    "a,b",
    "jobs.yaml",
  ]);
  assert.equal(await exists(`${dir.path}/a,b/out`), false);
});

Deno.test("a file where a download's folder must be fails that job at once, naming it, and asks the server once", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write("out/files", "a file, not a folder\n");
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: d, download: { url: "${server.url}/bytes/16", to: files/b.bin } }`,
      `  - { name: e, download: { url: "${server.url}/bytes/32", to: e.bin } }`,
      "",
    ].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const { job } = await reportIn(dir.path);
  assert.equal(job("d").status, "failed");
  assert.equal(job("d").attempts, 1);
  assert.deepEqual(job("d").error, {
    message: `cannot make the folder ${dir.path}/out/files: ${dir.path}/out/files is a file`,
    code: "NOT_A_FOLDER",
  });
  assert.equal(server.hits.get("/bytes/16"), 1);
  assert.equal(job("e").status, "ok");
});

Deno.test("a folder where a download's file must go fails that job once, naming it, and leaves no part", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/out/got/b.bin`, { recursive: true });
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: d, download: { url: "${server.url}/bytes/16", to: got/b.bin } }\n`,
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const { job } = await reportIn(dir.path);
  assert.equal(job("d").attempts, 1);
  assert.deepEqual(job("d").error, {
    message: `cannot put the file at ${dir.path}/out/got/b.bin: a folder is there (remove it, ` +
      "or set `to` to another name)",
    code: "FOLDER_IN_THE_WAY",
  });
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/out/got`)].map((entry) => entry.name), [
    "b.bin",
  ]);
});

Deno.test("a folder where a compute result or a command's log must go fails that job, naming it", async () => {
  await using dir = await tempDir();
  const work = new URL("../testdata/work.ts", import.meta.url).pathname;
  await Deno.mkdir(`${dir.path}/out/r.bin`, { recursive: true });
  await Deno.mkdir(`${dir.path}/out/logs/l.log`, { recursive: true });
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: r, compute: { module: ${work}, export: bytes, args: [3], to: r.bin } }`,
      '  - { name: l, run: ["true"] }',
    ].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const { job } = await reportIn(dir.path);
  assert.equal(job("r").error?.message, `cannot write ${dir.path}/out/r.bin: a folder is there`);
  assert.equal(
    job("l").error?.message,
    `cannot write ${dir.path}/out/logs/l.log: a folder is there`,
  );
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/out`)].map((e) => e.name).toSorted(), [
    ".taskpool",
    "logs",
    "r.bin",
    "report.json",
  ]);
});

Deno.test("an io limit past what ulimit -n allows is lowered, and says so: every download would fail", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const lines = ["output: out", "concurrency: { per_host: 1000 }", "jobs:"];
  for (let i = 0; i < 300; i++) {
    // 16 bytes in some 300 ms: with no lower limit, all 300 would be open at once.
    const url = `${server.url}/file/f${i}?size=16&cap=40`;
    lines.push(`  - { name: f${i}, download: { url: "${url}", to: f${i}.bin } }`);
  }
  await dir.write("jobs.yaml", lines.join("\n"));
  const { code, stderr } = await cli(
    ["run", "jobs.yaml", "-j", "1000", "-q"],
    { cwd: dir.path, ulimitFiles: 256 },
  );
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    /^taskpool: io 1000 lowered to 64: this process may open 256 files at once \(ulimit -n\)/m,
  );
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`)) as Report;
  assert.equal(report.concurrency.io, 64);
  assert.equal(report.summary.ok, 300);

  // compare's launcher asks, and its child runs each mode with the io it was handed.
  const compared = await cli(
    ["compare", "jobs.yaml", "--modes", "async", "-j", "1000"],
    { cwd: dir.path, ulimitFiles: 256 },
  );
  assert.equal(compared.code, 0, compared.stderr);
  assert.equal(compared.stderr.match(/io 1000 lowered to 64/g)?.length, 1, compared.stderr);
  const run = JSON.parse(await Deno.readTextFile(`${dir.path}/out/compare/async-1/report.json`));
  assert.equal(run.concurrency.io, 64);
  assert.equal(run.summary.ok, 300);
});

Deno.test("a command's stderr and a compute task's message reach the terminal without their escape sequences", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: loud, run: [sh, -c, "printf '\\\\033[2J\\\\033[31mboom\\\\302\\\\205\\\\033[0m\\\\n' >&2; exit 3"] }`,
      `  - { name: thrown, compute: { module: ${WORK}, export: throwsColours } }`,
    ].join("\n"),
  );
  const { code, stdout, stderr } = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const output = stdout + stderr;
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(output, /[\x1b\x85\x07]/, "no escape, C1 or bell of theirs");
  assert.match(output, /failed +loud: sh exited with code 3: boom\\u0085$/m);
  assert.match(output, /failed +thrown: red\\u000asecond line $/m);
  // The report keeps what the command wrote, escaped by JSON.
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  assert.ok(report.jobs[0].error.detail.includes("\x1b[31mboom"), report.jobs[0].error.detail);
});
