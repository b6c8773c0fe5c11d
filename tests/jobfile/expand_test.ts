import assert from "node:assert/strict";
import { InvalidJobFileError } from "../../lib/jobfile/errors.ts";
import type { ComputeJob } from "../../tasks/compute/job.ts";
import type { DownloadJob } from "../../tasks/download/job.ts";
import type { RunJob } from "../../tasks/command/job.ts";
import { loadPlan } from "../../lib/jobfile/mod.ts";
import { tempDir } from "../helpers/temp.ts";
import { KINDS } from "../../tasks/mod.ts";

const noEnv = () => undefined;

async function rejection(path: string, cwd: string): Promise<string[]> {
  const error = await loadPlan(path, { kinds: KINDS, cwd, env: noEnv }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof InvalidJobFileError, `expected rejection, got ${error}`);
  return error.errors.map((e) => e.message);
}

Deno.test("loadPlan() fans out urls and urls_from into one job per file, and needs wait for all", async () => {
  await using dir = await tempDir();
  await dir.write("lists/more.txt", "# mirrors\nhttp://h/c.png  # third\n\nhttps://h/d%20e.png\n");
  await dir.write(
    "sub/jobs.yaml",
    [
      "output: out",
      "defaults: { retries: 5 }",
      "jobs:",
      "  - name: pics",
      "    download: { urls: ['http://h/a.png', 'http://h/b.png'], to: album/ }",
      "  - name: more",
      "    download: { urls_from: ../lists/more.txt }",
      "  - name: one",
      "    download: { url: 'http://h/x?y=1', to: single/file.bin }",
      "    retries: 0",
      "  - name: after",
      "    run: [true]",
      "    needs: [pics, more]",
      "    repeat: 2",
    ].join("\n"),
  );
  const plan = await loadPlan("sub/jobs.yaml", {
    kinds: KINDS,
    cwd: dir.path,
    env: noEnv,
    cores: 3,
  });
  assert.equal(plan.output, `${dir.path}/sub/out`);
  assert.equal(plan.report, `${dir.path}/sub/out/report.json`);
  assert.deepEqual(plan.concurrency, { io: 16, cpu: 3, perHost: 8 });
  const downloads = plan.jobs.filter((job): job is DownloadJob => job.kind === "download");
  assert.deepEqual(downloads.map((job) => [job.name, job.relativePath, job.retries]), [
    ["pics/a.png", "album/a.png", 5],
    ["pics/b.png", "album/b.png", 5],
    ["more/c.png", "c.png", 5],
    ["more/d e.png", "d e.png", 5],
    ["one", "single/file.bin", 0],
  ]);
  assert.equal(downloads[0]?.path, `${dir.path}/sub/out/album/a.png`);
  const runs = plan.jobs.filter((job): job is RunJob => job.kind === "run");
  assert.deepEqual(runs.map((job) => job.name), ["after/1", "after/2"]);
  assert.deepEqual(runs[0]?.needs, ["pics/a.png", "pics/b.png", "more/c.png", "more/d e.png"]);
  assert.equal(runs[0]?.cwd, `${dir.path}/sub`);
  assert.equal(runs[1]?.logPath, `${dir.path}/sub/out/logs/after/2.log`);
});

Deno.test("loadPlan() lets command-line overrides win, resolved against the current folder", async () => {
  await using dir = await tempDir();
  await dir.write(
    "a/jobs.yaml",
    "concurrency: { io: 4, cpu: 1 }\njobs: [{ name: x, run: [true] }]\n",
  );
  const plan = await loadPlan("a/jobs.yaml", {
    kinds: KINDS,
    cwd: dir.path,
    env: noEnv,
    overrides: { output: "o", report: "r.json", io: 9, cpu: 2 },
  });
  assert.equal(plan.output, `${dir.path}/o`);
  assert.equal(plan.report, `${dir.path}/r.json`);
  assert.deepEqual(plan.concurrency, { io: 9, cpu: 2, perHost: 8 });
});

Deno.test("loadPlan() rejects targets outside the output folder before anything runs", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: up, download: { url: 'http://h/a', to: ../escape.txt } }",
      "  - { name: abs, download: { url: 'http://h/a', to: /etc/passwd } }",
      "  - { name: bare, download: { url: 'http://h/' } }",
      "  - { name: twin1, download: { url: 'http://h/same.txt' } }",
      "  - { name: twin2, download: { url: 'http://g/same.txt' } }",
    ].join("\n"),
  );
  const errors = await rejection("jobs.yaml", dir.path);
  assert.deepEqual(errors, [
    `jobs.yaml:2:52: jobs[0].download.to must not contain "..": got "../escape.txt"`,
    `jobs.yaml:3:53: jobs[1].download.to must be a relative path inside the output folder: got "/etc/passwd"`,
    "jobs.yaml:4:36: jobs[2].download.url has no usable file name in its URL path: set `to` (http://h/)",
    "jobs.yaml:6:30: jobs[4].download writes same.txt, which twin1 writes too (set distinct `to:` targets)",
  ]);
  assert.equal(await Deno.stat(`${dir.path}/downloads`).then(() => true, () => false), false);
});

Deno.test("loadPlan() refuses a command's cwd that is a file; a missing one may be made by a need", async () => {
  await using dir = await tempDir();
  await dir.write("notes.txt", "a file\n");
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: make, run: [mkdir, -p, later] }",
      "  - { name: use, run: ['true'], cwd: later, needs: [make] }",
      "  - { name: bad, run: ['true'], cwd: notes.txt }",
      "  - { name: below, run: ['true'], cwd: notes.txt/sub }",
    ].join("\n"),
  );
  assert.deepEqual(await rejection("jobs.yaml", dir.path), [
    `jobs.yaml:4:38: jobs[2].cwd is a file, not a folder: ${dir.path}/notes.txt`,
    `jobs.yaml:5:40: jobs[3].cwd is under a file, not a folder: ${dir.path}/notes.txt`,
  ]);
});

Deno.test("loadPlan() keeps a URL's control characters percent-encoded in the names it gives, as wget does", async () => {
  await using dir = await tempDir();
  // From a crawl's URL list: a newline would forge a log line, an escape drive the terminal.
  await dir.write(
    "urls.txt",
    "http://h/a%0Ab.txt\nhttp://h/x%1B%5B31mred\nhttp://h/c1%C2%9B.bin\nhttp://h/caf%C3%A9%20menu.pdf\n",
  );
  await dir.write("jobs.yaml", "jobs:\n  - { name: crawl, download: { urls_from: urls.txt } }\n");
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  const downloads = plan.jobs as DownloadJob[];
  assert.deepEqual(downloads.map((job) => job.name), [
    "crawl/a%0Ab.txt",
    "crawl/x%1B[31mred",
    "crawl/c1%C2%9B.bin",
    "crawl/café menu.pdf",
  ]);
  assert.deepEqual(downloads.map((job) => job.relativePath), [
    "a%0Ab.txt",
    "x%1B[31mred",
    "c1%C2%9B.bin",
    "café menu.pdf",
  ]);
});

Deno.test("loadPlan() rejects a file that taskpool writes itself, or that two kinds' jobs write", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: rep, download: { url: 'http://h/a', to: report.json } }",
      "  - { name: lock, download: { url: 'http://h/a', to: .taskpool/lock } }",
      "  - { name: state, download: { url: 'http://h/.taskpool/state.json', to: .taskpool/ } }",
      "  - { name: pic, download: { url: 'http://h/pic.png' } }",
      "  - { name: same, compute: { module: 'builtin:sha256', args: [x], to: pic.png } }",
      "  - { name: rep2, compute: { module: 'builtin:sha256', args: [x], to: report.json } }",
      "  - { name: dl, download: { url: 'http://h/a', to: logs/c.log } }",
      "  - { name: c, run: [true] }",
      "  - { name: big, download: { url: 'http://h/big.iso' } }",
      "  - { name: part, download: { urls: ['http://h/big.iso.part', 'http://h/big.iso.part.json'] } }",
    ].join("\n"),
  );
  assert.deepEqual(await rejection("jobs.yaml", dir.path), [
    "jobs.yaml:12:29: jobs[9].download writes big.iso.part, where big keeps its partial download (choose another `to:`)",
    "jobs.yaml:12:29: jobs[9].download writes big.iso.part.json, where big keeps its partial download (choose another `to:`)",
    "jobs.yaml:3:53: jobs[0].download.to writes report.json, where the run writes its report (set `to:` or `report:`)",
    "jobs.yaml:4:54: jobs[1].download.to writes .taskpool/lock, which is in the output's .taskpool/ folder, where taskpool keeps the run's lock and state (choose another `to:`)",
    "jobs.yaml:5:74: jobs[2].download.to writes .taskpool/state.json, which is in the output's .taskpool/ folder, where taskpool keeps the run's lock and state (choose another `to:`)",
    "jobs.yaml:7:28: jobs[4].compute writes pic.png, which pic writes too (set distinct `to:` targets)",
    "jobs.yaml:8:71: jobs[5].compute.to writes report.json, where the run writes its report (set `to:` or `report:`)",
    "jobs.yaml:10:21: jobs[7].run writes logs/c.log, which dl writes too (set distinct `to:` targets)",
  ]);
  // An output that holds the job file: a download may not replace it, nor a list it reads.
  await dir.write("urls.txt", "http://h/a.bin\n");
  await dir.write(
    "jobs.yaml",
    "output: .\njobs:\n  - { name: self, download: { url: 'http://h/a', to: jobs.yaml } }\n" +
      "  - { name: list, download: { url: 'http://h/a', to: urls.txt } }\n" +
      "  - { name: fan, download: { urls_from: urls.txt, to: got/ } }\n",
  );
  assert.deepEqual(await rejection("jobs.yaml", dir.path), [
    "jobs.yaml:3:54: jobs[0].download.to writes jobs.yaml, which is the job file (choose another `to:`)",
    "jobs.yaml:4:54: jobs[1].download.to writes urls.txt, which is a file the job file reads (choose another `to:`)",
  ]);
  // With the report elsewhere, report.json is a file like any other.
  await dir.write(
    "jobs.yaml",
    "output: out\nreport: r.json\njobs:\n  - { name: rep, download: { url: 'http://h/a', to: report.json } }\n",
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  assert.equal(plan.jobs.length, 1);
});

Deno.test("loadPlan() rejects a target that a symlink inside the output would carry outside", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/downloads`);
  await Deno.mkdir(`${dir.path}/elsewhere`);
  await Deno.symlink(`${dir.path}/elsewhere`, `${dir.path}/downloads/link`);
  await dir.write(
    "jobs.yaml",
    "jobs:\n  - { name: a, download: { url: 'http://h/a', to: link/a } }\n",
  );
  assert.deepEqual(await rejection("jobs.yaml", dir.path), [
    "jobs.yaml:2:51: jobs[0].download.to would write outside the output folder through a symlink: link/a",
  ]);
});

Deno.test("loadPlan() rejects missing modules, unknown built-ins and URL lists", async () => {
  await using dir = await tempDir();
  await dir.write("bad.txt", "not a url\n");
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: a, compute: { module: ./nope.ts } }",
      "  - { name: b, compute: { module: 'builtin:cout' } }",
      "  - { name: c, download: { urls_from: missing.txt } }",
      "  - { name: d, download: { urls_from: bad.txt } }",
      "  - { name: e, compute: { module: ./lists } }",
      "  - { name: f, compute: { module: ./bad.txt } }",
    ].join("\n"),
  );
  await Deno.mkdir(`${dir.path}/lists`);
  const errors = await rejection("jobs.yaml", dir.path);
  assert.equal(errors.length, 6, errors.join("\n"));
  assert.match(
    errors[4]!,
    /jobs\[4\]\.compute\.module names a folder, not a module: .*lists \(name/,
  );
  assert.match(
    errors[5]!,
    /jobs\[5\]\.compute\.module names a data file, not a module: .*bad\.txt/,
  );
  assert.match(
    errors[0]!,
    /^jobs\.yaml:2:35: jobs\[0\]\.compute\.module names a module that does not exist: .*nope\.ts$/,
  );
  assert.match(
    errors[1]!,
    /jobs\[1\]\.compute\.module names an unknown built-in: "builtin:cout" \(try builtin:count\)/,
  );
  assert.match(
    errors[2]!,
    /jobs\[2\]\.download\.urls_from cannot read the URL list .*missing\.txt/,
  );
  assert.match(errors[3]!, /bad\.txt:1 is not an http\(s\) URL: got "not a url"/);
});

Deno.test("loadPlan() names both places of a fan-out's repeated URL or file name", async () => {
  await using dir = await tempDir();
  const list = await dir.write(
    "urls.txt",
    "http://h/a/one.bin\n# a comment\nhttp://h/b/one.bin\nhttp://h/a/one.bin\nhttp://h/two.bin\n",
  );
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: l, download: { urls_from: urls.txt } }",
      "  - { name: u, download: { urls: [http://h/x.bin, http://h/y/x.bin, http://h/x.bin] } }",
      "  - { name: v, download: { urls: ['http://u:pw@h/z.bin', http://h/z.bin] } }",
    ].join("\n"),
  );
  assert.deepEqual(await rejection("jobs.yaml", dir.path), [
    `jobs.yaml:2:39: jobs[0].download.urls_from ${list}:3 gives the file name one.bin, as line 1 ` +
    "does (http://h/a/one.bin): keep their folders with keep_path: true, or give one a job of its own with `to`",
    `jobs.yaml:2:39: jobs[0].download.urls_from ${list}:4 repeats the URL of line 1: ` +
    "http://h/a/one.bin (list it once)",
    "jobs.yaml:3:51: jobs[1].download.urls[1] gives the file name x.bin, as urls[0] does " +
    "(http://h/x.bin): keep their folders with keep_path: true, or give one a job of its own with `to`",
    "jobs.yaml:3:69: jobs[1].download.urls[2] repeats the URL of urls[0]: http://h/x.bin (list it once)",
    "jobs.yaml:4:58: jobs[2].download.urls[1] gives the file name z.bin, as urls[0] does " +
    "(http://***:***@h/z.bin): keep their folders with keep_path: true, or give one a job of its own with `to`",
  ]);
});

Deno.test("a job file with many errors spells out the first 20 and counts the rest", async () => {
  await using dir = await tempDir();
  await dir.write("urls.txt", Array.from({ length: 25 }, (_, i) => `/f/${i}.bin`).join("\n"));
  await dir.write("jobs.yaml", "jobs:\n  - { name: files, download: { urls_from: urls.txt } }\n");
  const error = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv }).catch((
    e,
  ) => e);
  assert.ok(error instanceof InvalidJobFileError);
  assert.equal(error.errors.length, 25);
  const lines = error.message.split("\n");
  assert.match(lines[0]!, /jobs\.yaml: 25 errors$/);
  assert.match(lines[1]!, /urls\.txt:1 is not an http\(s\) URL/);
  assert.equal(lines.length, 1 + 20 + 1);
  assert.equal(lines.at(-1), "  … and 5 more");
});

Deno.test("compute isolation: Workers by default; memory and permissions resolved for either", async () => {
  await using dir = await tempDir();
  await dir.write("work.ts", "export default () => 1;\n");
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: capped, compute: { module: work.ts, memory: 256MiB, permissions: { read: [data], net: [example.com] } } }",
      "  - { name: plain, compute: { module: work.ts } }",
      "  - { name: apart, compute: { module: work.ts, isolation: process, permissions: { env: [HOME] } } }",
    ].join("\n"),
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  const [capped, plain, apart] = plan.jobs as ComputeJob[];
  assert.equal(capped!.isolation, "worker");
  assert.equal(capped!.memoryMb, 256);
  assert.deepEqual(capped!.permissions, {
    read: [`${dir.path}/data`],
    write: [],
    net: ["example.com"],
    env: false,
  });
  assert.equal(plain!.isolation, "worker");
  assert.deepEqual(plain!.permissions, { read: [], write: [], net: false, env: false });
  assert.equal(apart!.isolation, "process");
  assert.deepEqual(apart!.permissions.env, ["HOME"]);
  assert.equal(apart!.memoryMb, undefined);
});

Deno.test("kill_grace: per run job, in milliseconds; refused on other kinds", async () => {
  await using dir = await tempDir();
  await dir.write("work.ts", "export default () => 1;\n");
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: patient, run: [sleep, '1'], kill_grace: 30s }",
      "  - { name: plain, run: [sleep, '1'] }",
    ].join("\n"),
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  const [patient, plain] = plan.jobs as RunJob[];
  assert.equal(patient!.killGraceMs, 30_000);
  assert.equal(plain!.killGraceMs, undefined);
  await dir.write(
    "bad.yaml",
    "jobs:\n  - { name: c, compute: { module: work.ts }, kill_grace: 1s }\n",
  );
  const messages = await rejection("bad.yaml", dir.path);
  assert.match(messages[0]!, /bad\.yaml:2:\d+: jobs\[0\]\.kill_grace applies to run jobs only/);
});

Deno.test("env takes ${VAR} from taskpool's environment; clear_env replaces it; both run jobs only", async () => {
  await using dir = await tempDir();
  await dir.write("work.ts", "export default () => 1;\n");
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: alone, run: [env], clear_env: true, env: { TOKEN: '${API_TOKEN}', HOME: /x } }",
      "  - { name: added, run: [env], env: { MODE: '${MODE:-fast}' } }",
    ].join("\n"),
  );
  const env = (name: string) => name === "API_TOKEN" ? "t0k" : undefined;
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env });
  const [alone, added] = plan.jobs as RunJob[];
  assert.deepEqual([alone!.clearEnv, alone!.env], [true, { TOKEN: "t0k", HOME: "/x" }]);
  assert.deepEqual([added!.clearEnv, added!.env], [false, { MODE: "fast" }]);
  await dir.write(
    "bad.yaml",
    "jobs:\n  - { name: c, compute: { module: work.ts }, clear_env: true }\n",
  );
  const messages = await rejection("bad.yaml", dir.path);
  assert.match(messages[0]!, /bad\.yaml:2:\d+: jobs\[0\]\.clear_env applies to run jobs only/);
});

Deno.test("matrix: one job per argument list, appended to args or argv; to: needs {n} in a fan-out", async () => {
  await using dir = await tempDir();
  await dir.write("work.ts", "export default () => 1;\n");
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: thumb, compute: { module: work.ts, args: [base], to: 'thumbs/{n}.png' }, matrix: [[64], [128, {crop: true}]] }",
      "  - { name: convert, run: [convert, -q], matrix: [[a.png, 1], [b.png, true]] }",
      "  - { name: one, compute: { module: work.ts, to: one.bin } }",
    ].join("\n"),
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  const [thumb1, thumb2, convert1, convert2, one] = plan.jobs as [
    ComputeJob,
    ComputeJob,
    RunJob,
    RunJob,
    ComputeJob,
  ];
  assert.deepEqual(plan.jobs.map((job) => job.name), [
    "thumb/1",
    "thumb/2",
    "convert/1",
    "convert/2",
    "one",
  ]);
  assert.deepEqual(thumb1.args, ["base", 64]);
  assert.deepEqual(thumb2.args, ["base", 128, { crop: true }]);
  assert.equal(thumb2.to, `${dir.path}/out/thumbs/2.png`);
  assert.deepEqual(convert1.argv, ["convert", "-q", "a.png", "1"]);
  assert.deepEqual(convert2.argv, ["convert", "-q", "b.png", "true"]);
  assert.equal(one.to, `${dir.path}/out/one.bin`);

  // Checked with the file's shape, before expansion:
  await dir.write(
    "shape.yaml",
    [
      "jobs:",
      "  - { name: b, compute: { module: work.ts }, repeat: 2, matrix: [[1]] }",
      "  - { name: c, download: { url: 'http://127.0.0.1/x' }, matrix: [[1]] }",
    ].join("\n"),
  );
  const shape = (await rejection("shape.yaml", dir.path)).join("\n");
  assert.match(shape, /shape\.yaml:2:\d+: jobs\[0\]\.matrix cannot be combined with repeat/);
  assert.match(shape, /shape\.yaml:3:\d+: jobs\[1\]\.matrix applies to compute and run jobs only/);
  // Checked as the jobs expand:
  await dir.write(
    "bad.yaml",
    [
      "jobs:",
      "  - { name: a, compute: { module: work.ts, to: same.bin }, repeat: 2 }",
      "  - { name: d, run: [echo], matrix: [[{ x: 1 }]] }",
      "  - { name: e, compute: { module: work.ts, to: ../up.bin } }",
    ].join("\n"),
  );
  const bad = (await rejection("bad.yaml", dir.path)).join("\n");
  assert.match(bad, /bad\.yaml:2:\d+: jobs\[0\]\.compute\.to needs \{n\}/);
  assert.match(
    bad,
    /bad\.yaml:3:\d+: jobs\[1\]\.matrix\[0\]\[0\] must be a string, number or boolean/,
  );
  assert.match(bad, /bad\.yaml:4:\d+: jobs\[2\]\.compute\.to must not contain/);
});

Deno.test("loadPlan() makes inputs and outputs absolute, and rejects them where they do not belong", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: t, run: ['true'], inputs: ['src/**/*.c', out/raw.bin], outputs: [obj/t.o], repeat: 1 }",
    ].join("\n"),
  );
  await assert.rejects(
    loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv }),
    /jobs\[0\]\.outputs\[0\] needs \{n\} with repeat or matrix/,
  );
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: t, run: ['true'], inputs: ['src/**/*.c', out/raw.bin], outputs: ['obj/{n}.o'], repeat: 2 }",
    ].join("\n"),
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  assert.deepEqual(
    plan.jobs.map((job) => job.cache),
    [1, 2].map((n) => ({
      inputs: [`${dir.path}/src/**/*.c`, `${dir.path}/out/raw.bin`],
      outputs: [`${dir.path}/out/obj/${n}.o`],
    })),
  );

  await dir.write(
    "jobs.yaml",
    "jobs:\n  - { name: d, download: { url: 'http://h/a' }, inputs: [a] }\n",
  );
  assert.match(
    (await rejection("jobs.yaml", dir.path))[0]!,
    /jobs\.yaml:2:\d+: jobs\[0\]\.inputs applies to compute and run jobs only/,
  );
  await dir.write(
    "jobs.yaml",
    "jobs:\n  - { name: r, run: ['true'], inputs: [/etc/passwd], outputs: [../x] }\n",
  );
  const messages = await rejection("jobs.yaml", dir.path);
  assert.equal(messages.length, 2, messages.join("\n"));
  assert.match(
    messages[0]!,
    /jobs\.yaml:2:\d+: jobs\[0\]\.inputs\[0\] must be inside the job file's folder or the output/,
  );
  assert.match(messages[1]!, /jobs\.yaml:2:\d+: jobs\[0\]\.outputs\[0\] must not contain "\.\."/);
});

Deno.test("loadPlan() rejects an output or report under /dev, which no run's jobs may write", async () => {
  await using dir = await tempDir();
  // A link to /dev/shm counts as /dev/shm: Deno checks where a write really lands.
  await Deno.symlink("/dev/shm", `${dir.path}/shm`);
  await dir.write("a.yaml", "output: /dev/shm/taskpool-out\njobs:\n  - { name: t, run: [true] }\n");
  await dir.write(
    "b.yaml",
    "output: out\nreport: shm/r.json\njobs:\n  - { name: t, run: [true] }\n",
  );
  const [output] = await rejection("a.yaml", dir.path);
  assert.match(output!, /^a\.yaml:1:9: output must be writable by the run: .* under \/dev,/);
  assert.match(output!, /--allow-all/);
  const [report] = await rejection("b.yaml", dir.path);
  assert.match(report!, /^b\.yaml:2:9: report must be writable by the run: .*\/shm\/r\.json/);

  // From the command line, the flag is named, as bad usage (exit 2).
  const flagged = await loadPlan("b.yaml", {
    kinds: KINDS,
    cwd: dir.path,
    env: noEnv,
    overrides: { output: "/dev/shm/x", report: "r.json" },
  }).then(() => undefined, (error) => error);
  assert.equal(flagged?.name, "UsageError");
  assert.match(flagged.message, /^--output: \/dev\/shm\/x is under \/dev/);
  assert.equal(await Deno.stat("/dev/shm/taskpool-out").catch(() => "none"), "none");
});

Deno.test("loadPlan() rejects an output or report folder that a file stands in for, before anything runs", async () => {
  await using dir = await tempDir();
  await dir.write("taken", "a file\n");
  await dir.write("a.yaml", "output: taken\njobs:\n  - { name: t, run: [true] }\n");
  await dir.write("b.yaml", "output: taken/sub\njobs:\n  - { name: t, run: [true] }\n");
  await dir.write(
    "c.yaml",
    "output: out\nreport: taken/r.json\njobs:\n  - { name: t, run: [true] }\n",
  );
  const taken = `${dir.path}/taken`;
  for (const file of ["a.yaml", "b.yaml"]) {
    const messages = await rejection(file, dir.path);
    assert.deepEqual(messages, [
      `${file}:1:9: output cannot be made: ${taken} is a file, not a folder`,
    ]);
  }
  assert.deepEqual(await rejection("c.yaml", dir.path), [
    `c.yaml:2:9: report cannot be made: ${taken} is a file, not a folder`,
  ]);
  // From the command line, the flag is named, as bad usage (exit 2).
  for (
    const [flag, overrides] of [["--output", { output: "taken/x" }], ["--report", {
      report: "taken/r.json",
    }]] as const
  ) {
    const error = await loadPlan("a.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv, overrides })
      .then(() => undefined, (e) => e);
    assert.equal(error?.name, "UsageError");
    assert.equal(error.message, `${flag}: ${taken} is a file, not a folder`);
  }
  assert.equal(await Deno.stat(`${dir.path}/out`).catch(() => "none"), "none");
});

Deno.test("loadPlan() expands a urls_from of 200,000 URLs, and a job that needs them waits for all", async () => {
  await using dir = await tempDir();
  const count = 200_000;
  const urls = Array.from({ length: count }, (_, i) => `http://h/${i}.bin\n`).join("");
  await dir.write("urls.txt", urls);
  const file = await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: get, download: { urls_from: urls.txt, to: files/ } }",
      "  - { name: after, run: [true], needs: [get] }",
    ].join("\n"),
  );
  const plan = await loadPlan(file, { kinds: KINDS, env: noEnv });
  assert.equal(plan.jobs.length, count + 1);
  const last = plan.jobs[count - 1] as DownloadJob;
  assert.deepEqual([last.name, last.relativePath], [
    `get/${count - 1}.bin`,
    `files/${count - 1}.bin`,
  ]);
  assert.equal(plan.jobs[count]!.needs.length, count);
  assert.equal(plan.jobs[count]!.needs[count - 1], `get/${count - 1}.bin`);
});

Deno.test("loadPlan(): a timeout of 0 is no limit, and lifts the defaults' (as idle_timeout: 0)", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "defaults: { timeout: 10s }",
      "jobs:",
      "  - { name: zero, run: [true], timeout: 0 }",
      "  - { name: zero-s, run: [true], timeout: 0s }",
      "  - { name: inherits, run: [true] }",
      "  - { name: own, run: [true], timeout: 500ms }",
    ].join("\n"),
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  assert.deepEqual(plan.jobs.map((job) => job.timeoutMs), [undefined, undefined, 10_000, 500]);
});

Deno.test("loadPlan(): YAML anchors under x- keys, merged with <<, the keys beside them winning; errors placed at the anchor", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "x-common: &common { retries: 3, timeout: 10s }",
      "x-loud: &loud",
      "  retries: 1",
      "  env: { LOUD: '1' }",
      "jobs:",
      "  - { name: a, <<: *common, run: [true] }",
      "  - name: b",
      "    <<: [*loud, *common]",
      "    timeout: 1s",
      "    run: [true]",
    ].join("\n"),
  );
  const plan = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: noEnv });
  const [a, b] = plan.jobs as RunJob[];
  assert.deepEqual([a!.retries, a!.timeoutMs], [3, 10_000]);
  // Of a list, the first named wins; a key beside the merge wins over all.
  assert.deepEqual([b!.retries, b!.timeoutMs, b!.env], [1, 1000, { LOUD: "1" }]);

  await dir.write(
    "bad.yaml",
    [
      "x-common: &common",
      "  retries: nope",
      "jobs:",
      "  - { name: a, <<: *common, run: [true] }",
    ].join("\n"),
  );
  assert.deepEqual(await rejection("bad.yaml", dir.path), [
    'bad.yaml:2:12: jobs[0].retries must be a whole number: got "nope"',
  ]);
  await dir.write("scalar.yaml", "jobs:\n  - { name: a, run: [true], <<: 3 }\n");
  assert.deepEqual(await rejection("scalar.yaml", dir.path), [
    "scalar.yaml:2:33: merges what is not a mapping: `<<:` takes an alias of one (<<: *name), " +
    "a mapping, or a list of them",
  ]);
  // JSON may carry x- keys too: they are the file's own notes.
  await dir.write("notes.json", '{"x-owner": "ops", "jobs": [{"name": "a", "run": ["true"]}]}');
  const json = await loadPlan("notes.json", { kinds: KINDS, cwd: dir.path, env: noEnv });
  assert.equal(json.jobs.length, 1);
});
