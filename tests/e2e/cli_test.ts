import { decode } from "fast-png";
import assert from "node:assert/strict";
import { cli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp.ts";

Deno.test("taskpool validate: every problem with file:line:column, exit 2, nothing written", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - name: a\n    run: [x]\n    retires: 2\n  - { name: b, run: [y], needs: [c] }\n",
  );
  const { code, stdout, stderr } = await cli(["validate", "jobs.yaml"], { cwd: dir.path });
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    "taskpool: jobs.yaml: 2 errors\n" +
      '  jobs.yaml:5:5: jobs[0].retires is not a known key (did you mean "retries"?)\n' +
      '  jobs.yaml:6:34: jobs[1].needs[0] names an unknown job: "c"\n',
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["jobs.yaml"]);
  // run checks the same way before anything runs
  const run = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(run.code, 2);
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["jobs.yaml"]);
});

Deno.test("taskpool validate: a valid file exits 0, --quiet prints nothing", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.json", '{"jobs": [{"name": "a", "run": ["true"], "repeat": 3}]}');
  const loud = await cli(["validate", "jobs.json"], { cwd: dir.path });
  assert.equal(loud.code, 0);
  assert.equal(loud.stdout, "jobs.json: valid, 1 job (3 after fan-out)\n");
  const quiet = await cli(["validate", "--quiet", "jobs.json"], { cwd: dir.path });
  assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, "", ""]);
});

Deno.test("taskpool plan: expanded jobs in an order that satisfies needs", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: report, run: [echo, done], needs: [pics] }",
      "  - { name: pics, download: { urls: ['http://h/a.png', 'http://h/b.png'], to: p/ } }",
    ].join("\n"),
  );
  const { code, stdout } = await cli(["plan", "jobs.yaml"], { cwd: dir.path });
  assert.equal(code, 0);
  const [jobs, permissions] = stdout.trim().split("\npermissions");
  const rows = jobs!.split("\n").slice(1).map((line) => line.trim().split(/\s+/).slice(1, 3));
  assert.deepEqual(rows, [["pics/a.png", "download"], ["pics/b.png", "download"], [
    "report",
    "run",
  ]]);
  assert.match(stdout, /report +run +echo done {2}needs pics\/a\.png, pics\/b\.png/);
  // The permissions a run gets: its folders, the host it downloads from, its program.
  const flags = permissions!.split("\n").slice(1).map((line) => line.trim());
  assert.ok(flags.includes(`--allow-write=${dir.path}/downloads`), flags.join("\n"));
  assert.ok(flags.includes("--allow-net=h"), flags.join("\n"));
  assert.ok(flags.some((flag) => flag.startsWith("--allow-run=") && /\/echo(,|$)/.test(flag)));
  assert.ok(!flags.some((flag) => /^--allow-(all|read|write|net|run|env)$/.test(flag)));
});

Deno.test("taskpool: bad usage exits 2 with a hint", async () => {
  await using dir = await tempDir();
  for (
    const args of [
      ["frobnicate"],
      ["run"],
      ["run", "a.yaml", "--bogus"],
      [
        "run",
        "a",
        "--cpu",
        "0",
      ],
      [],
      ["demo", "--mode", "async", "--repeat", "2"],
      ["compare", "a.yaml", "--modes", "threads"],
    ]
  ) {
    const { code, stderr, stdout } = await cli(args, { cwd: dir.path });
    assert.equal(code, 2, `${args.join(" ")} -> ${code}`);
    assert.ok(stderr.length > 0 || stdout.includes("Usage"), args.join(" "));
  }
  const missing = await cli(["run", "nope.yaml"], { cwd: dir.path });
  assert.deepEqual([missing.code, missing.stderr], [
    2,
    "taskpool: nope.yaml: 1 error\n  nope.yaml: does not exist\n",
  ]);
});

Deno.test("taskpool schema prints the committed JSON Schema; --help and --version work", async () => {
  await using dir = await tempDir();
  const schema = await cli(["schema"], { cwd: dir.path });
  const committed = await Deno.readTextFile(
    new URL("../../schema/jobfile.schema.json", import.meta.url),
  );
  assert.equal(schema.stdout, committed);
  const help = await cli(["run", "--help"], { cwd: dir.path });
  assert.match(help.stdout, /^Usage: taskpool run FILE/);
  const version = await cli(["--version"], { cwd: dir.path });
  assert.match(version.stdout, /^taskpool \d+\.\d+\.\d+ \(deno /);
});

Deno.test("taskpool demo --mode runs the album example once with no network and leaves files and report", async () => {
  await using dir = await tempDir();
  const { code, stdout, stderr } = await cli(
    ["demo", "--latency", "5", "--output", "demo", "--mode", "workers"],
    { cwd: dir.path },
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /taskpool: OK 54 jobs: 54 ok/);
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/demo/report.json`));
  assert.equal(report.summary.total, 54);
  const files = [...Deno.readDirSync(`${dir.path}/demo/album`)].map((e) => e.name).sort();
  assert.equal(files.length, 24);
  assert.equal(files[0], "img-01.png");
  const hashes = report.jobs.find((job: { name: string }) => job.name === "hashes");
  assert.equal(Object.keys(hashes.result.files).length, 24);
  // Thumbnails: builtin:image on the Worker pool, under least privilege, written to `to`.
  const thumbs = [...Deno.readDirSync(`${dir.path}/demo/thumbs`)].map((e) => e.name);
  assert.equal(thumbs.length, 24);
  const thumb = decode(await Deno.readFile(`${dir.path}/demo/thumbs/24.png`));
  assert.equal(Math.max(thumb.width, thumb.height), 96);
});

Deno.test("taskpool demo compares the four modes on the album and prints the table", async () => {
  await using dir = await tempDir();
  const { code, stdout, stderr } = await cli(["demo", "--latency", "5", "--output", "demo"], {
    cwd: dir.path,
  });
  assert.equal(code, 0, stderr);
  const rows = stdout.split("\n").slice(1, 5).map((line) => line.split(/\s{2,}/)[0]);
  assert.deepEqual(rows, ["sequential", "async", "workers", "processes"]);
  const record = JSON.parse(await Deno.readTextFile(`${dir.path}/demo/compare/compare.json`));
  assert.equal(record.runs.length, 4);
  for (const run of record.runs) assert.equal(run.summary.ok, 54, run.mode);
  const files = [...Deno.readDirSync(`${dir.path}/demo/compare/processes-1/album`)];
  assert.equal(files.length, 24);
});
