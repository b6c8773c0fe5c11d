/**
 * What a shell script or cron relies on: --set, --env-file, stdin, report history, validate's
 * exit code, and the exit codes themselves.
 */
import assert from "node:assert/strict";
import type { Report } from "../../lib/report/types.ts";
import { cli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp.ts";

const ECHO_JOBS = [
  "output: out",
  "jobs:",
  `  - { name: say, run: [sh, -c, 'echo "\${GREETING:-hi} $EXTRA" > "$TASKPOOL_OUTPUT/said.txt"'] }`,
].join("\n");

Deno.test("taskpool run --set overrides top-level settings; a bad value names the --set", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.yaml", ECHO_JOBS);
  const ok = await cli(
    ["run", "jobs.yaml", "--set", "output=elsewhere", "--set", "concurrency.cpu=1", "--json"],
    { cwd: dir.path },
  );
  assert.equal(ok.code, 0, ok.stderr);
  const summary = JSON.parse(ok.stdout);
  assert.equal(summary.output, `${dir.path}/elsewhere`);
  const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/elsewhere/report.json`));
  assert.equal(report.concurrency.cpu, 1);

  const bad = await cli(["run", "jobs.yaml", "--set", "concurrency.io=lots"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--set concurrency\.io=lots: concurrency\.io must be a whole number/);

  const typo = await cli(["run", "jobs.yaml", "--set", "concurency.io=2"], { cwd: dir.path });
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /concurency is not a setting \(did you mean concurrency\?\); --set takes output/,
  );

  const jobs = await cli(["run", "jobs.yaml", "--set", "jobs=[]"], { cwd: dir.path });
  assert.equal(jobs.code, 2);
  assert.match(jobs.stderr, /not jobs/);
});

Deno.test("taskpool run --env-file fills ${VAR} and the commands' environment; the environment wins", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.yaml", ECHO_JOBS);
  await dir.write(".env", "# settings\nexport GREETING=hello\nEXTRA='from the file' # note\n");
  const fromFile = await cli(["run", "jobs.yaml", "--env-file", ".env"], { cwd: dir.path });
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(await Deno.readTextFile(`${dir.path}/out/said.txt`), "hello from the file\n");

  const overridden = await cli(["run", "jobs.yaml", "--env-file", ".env"], {
    cwd: dir.path,
    env: { GREETING: "hey" },
  });
  assert.equal(overridden.code, 0, overridden.stderr);
  assert.equal(await Deno.readTextFile(`${dir.path}/out/said.txt`), "hey from the file\n");

  await dir.write("bad.env", "A=1\nthis is not a setting\n");
  const bad = await cli(["run", "jobs.yaml", "--env-file", "bad.env"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad\.env:2: expected NAME=value/);
  const missing = await cli(["run", "jobs.yaml", "--env-file", "none.env"], { cwd: dir.path });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--env-file none\.env: does not exist/);
});

Deno.test("taskpool run: {date} and {time} in the report path keep a history; --keep-reports prunes it", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\nreport: reports/{date}/run-{time}.json\njobs:\n  - { name: t, run: ['true'] }\n",
  );
  // Reports of earlier runs, as this pattern names them, and a file that only has such a name.
  const earlier = '{\n  "version": 1,\n  "file": "jobs.yaml",\n  "jobs": []\n}\n';
  await dir.write("reports/2020-01-01/run-000000.json", earlier);
  await dir.write("reports/2020-01-02/run-000000.json", earlier);
  await dir.write("reports/2020-01-02/run-120000.json", earlier);
  await dir.write("reports/2020-01-02/notes.txt", "not a report");
  await dir.write("reports/2019-12-31/run-000000.json", '{"data": "not a report"}');
  const run = await cli(["run", "jobs.yaml", "--keep-reports", "2", "--json"], { cwd: dir.path });
  assert.equal(run.code, 0, run.stderr);
  const written: string = JSON.parse(run.stdout).report;
  assert.match(written, /\/reports\/\d{4}-\d{2}-\d{2}\/run-\d{6}\.json$/);
  assert.equal((JSON.parse(await Deno.readTextFile(written)) as Report).exitCode, 0);
  assert.equal(await Deno.stat(`${dir.path}/reports/2020-01-01`).catch(() => null), null);
  assert.equal(
    await Deno.stat(`${dir.path}/reports/2020-01-02/run-000000.json`).catch(() => null),
    null,
  );
  assert.ok(await Deno.stat(`${dir.path}/reports/2020-01-02/run-120000.json`));
  assert.ok(await Deno.stat(`${dir.path}/reports/2020-01-02/notes.txt`));
  assert.ok(await Deno.stat(`${dir.path}/reports/2019-12-31/run-000000.json`), "not a report");

  const plain = await cli(["run", "jobs.yaml", "--report", "r.json", "--keep-reports", "2"], {
    cwd: dir.path,
  });
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /--keep-reports needs a report path with \{date\} or \{time\}/);
});

Deno.test("taskpool validate --quiet prints nothing and says it with its exit code", async () => {
  await using dir = await tempDir();
  await dir.write("good.yaml", "jobs:\n  - { name: a, run: ['true'] }\n");
  await dir.write("bad.yaml", "jobs:\n  - { name: a, run: ['true'], retries: many }\n");
  const good = await cli(["validate", "--quiet", "good.yaml"], { cwd: dir.path });
  const bad = await cli(["validate", "--quiet", "bad.yaml"], { cwd: dir.path });
  assert.deepEqual([good.code, good.stdout, good.stderr], [0, "", ""]);
  assert.deepEqual([bad.code, bad.stdout, bad.stderr], [2, "", ""]);
  const loud = await cli(["validate", "bad.yaml"], { cwd: dir.path });
  assert.equal(loud.code, 2);
  assert.match(loud.stderr, /bad\.yaml:2:\d+: jobs\[0\]\.retries must be a whole number/);

  // --json, for a CI step that reads the problems.
  const goodJson = await cli(["validate", "--json", "good.yaml"], { cwd: dir.path });
  assert.deepEqual(JSON.parse(goodJson.stdout), {
    exitCode: 0,
    valid: true,
    jobs: 1,
    expanded: 1,
  });
  const badJson = await cli(["validate", "--json", "bad.yaml"], { cwd: dir.path });
  assert.equal(badJson.code, 2);
  const said = JSON.parse(badJson.stdout);
  assert.deepEqual([said.exitCode, said.valid, said.error.code], [2, false, "INVALID_JOB_FILE"]);
  assert.deepEqual(
    said.error.problems.map((p: { file: string; line: number; field: string }) => [
      p.file,
      p.line,
      p.field,
    ]),
    [["bad.yaml", 2, "jobs[0].retries"]],
  );
});

Deno.test("taskpool run - reads the job file from stdin; logs go to stderr, the summary to stdout", async () => {
  await using dir = await tempDir();
  const result = await cli(["run", "-"], {
    cwd: dir.path,
    stdin: "output: out\njobs:\n  - { name: a, run: ['true'] }\n  - { name: b, run: ['false'] }\n",
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /^taskpool: FAILED 2 jobs: 1 ok, 0 cached, 1 failed, 0 skipped, 0 cancelled in \S+$/m,
  );
  assert.doesNotMatch(result.stdout, /start\s+a/);
  assert.match(result.stderr, /start\s+a on cpu-\d/);
  assert.ok(!(result.stdout + result.stderr).includes("\x1b["), "no ANSI in a pipe");
});

Deno.test("taskpool run --report - (and --output, --trace, --html): exit 2, a file is needed, --json named; no file called '-'", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.yaml", "output: out\njobs:\n  - { name: t, run: [touch, ran] }\n");
  for (const flag of ["--report", "--output", "--trace", "--html"]) {
    const { code, stdout, stderr } = await cli(["run", "jobs.yaml", flag, "-"], { cwd: dir.path });
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    assert.match(stderr, new RegExp(`^taskpool: ${flag} -: taskpool writes a file there.*--json`));
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["jobs.yaml"]);
});

Deno.test("taskpool run refuses a --report, --trace or --html that would replace the job file, a list it reads, the report, a job's file or the lock", async () => {
  await using dir = await tempDir();
  const yaml = "output: out\njobs:\n  - { name: t, run: [touch, ran] }\n" +
    "  - { name: d, download: { urls_from: urls.txt } }\n" +
    "  - { name: c, compute: { module: ./mod.ts } }\n";
  await dir.write("jobs.yaml", yaml);
  await dir.write("urls.txt", "http://127.0.0.1:9/a.bin\n");
  await Deno.mkdir(`${dir.path}/reports`);
  await dir.write("mod.ts", "export default () => 1;\n");
  const refused: [string[], RegExp][] = [
    [["--report", "jobs.yaml"], /--report: \S+\/jobs\.yaml is the job file/],
    [["--report", "urls.txt"], /--report: \S+\/urls\.txt is a file the job file reads/],
    [["--report", "out/.taskpool/lock"], /--report: \S+\/lock is in the output's \.taskpool\//],
    [["--html", "jobs.yaml"], /--html jobs\.yaml is the job file/],
    [["--trace", "out/report.json"], /--trace out\/report\.json is the run's report/],
    [["--html", "out/logs/t.log"], /--html out\/logs\/t\.log is the file of the job t/],
    [["--html", "out/a.bin"], /--html out\/a\.bin is the file of the job d\/a\.bin/],
    [["--trace", "t.json", "--html", "t.json"], /--html t\.json is where --trace writes it too/],
    [["--report", "reports"], /--report: \S+\/reports is a folder, not a file/],
    [["--report", "mod.ts"], /--report: \S+\/mod\.ts is the module of the job c/],
    [["--html", "mod.ts"], /--html mod\.ts is the module of the job c/],
    [["--html", "reports/"], /--html reports\/ is a folder, not a file/],
  ];
  for (const [flags, message] of refused) {
    const { code, stderr } = await cli(["run", "jobs.yaml", ...flags], { cwd: dir.path });
    assert.equal(code, 2, `${flags.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
  }
  assert.equal(await Deno.readTextFile(`${dir.path}/jobs.yaml`), yaml);
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name).sort(), [
    "jobs.yaml",
    "mod.ts",
    "reports",
    "urls.txt",
  ]);
  // The same in the job file: exit 2 with its place.
  await dir.write(
    "own.yaml",
    "output: out\nreport: own.yaml\njobs:\n  - { name: t, run: [touch, ran] }\n",
  );
  const own = await cli(["validate", "own.yaml"], { cwd: dir.path });
  assert.equal(own.code, 2);
  assert.match(
    own.stderr,
    /own\.yaml:2:9: report is the job file: \S+own\.yaml \(choose another path\)/,
  );
});

Deno.test("taskpool compare and demo refuse a --trace or --html over their record or in a run folder they empty", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.yaml", "output: out\njobs:\n  - { name: t, run: ['true'] }\n");
  const refused: [string[], RegExp][] = [
    [
      ["compare", "jobs.yaml", "--html", "out/compare/compare.json"],
      /is where the comparison writes its record/,
    ],
    [
      ["compare", "jobs.yaml", "--trace", "out/compare/async-1/t.json"],
      /out\/compare\/async-1, a run folder the comparison empties/,
    ],
    [["compare", "jobs.yaml", "--html", "out/report.json"], /is the run's report/],
    [
      ["demo", "--output", "d", "--html", "d/compare/compare.json"],
      /is where the comparison writes its record/,
    ],
    [
      ["demo", "--output", "d", "--mode", "async", "--html", "d/report.json"],
      /is the run's report/,
    ],
  ];
  for (const [args, message] of refused) {
    const { code, stderr } = await cli(args, { cwd: dir.path });
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["jobs.yaml"]);
  // A page beside the run folders is fine.
  const fine = await cli([
    "compare",
    "jobs.yaml",
    "--modes",
    "async",
    "--html",
    "out/compare/t.html",
  ], {
    cwd: dir.path,
  });
  assert.equal(fine.code, 0, fine.stderr);
  assert.ok(Deno.statSync(`${dir.path}/out/compare/t.html`).isFile);
});

Deno.test("taskpool report --html of the report it reads is refused, the report kept", async () => {
  await using dir = await tempDir();
  await dir.write("jobs.yaml", "output: out\njobs:\n  - { name: t, run: ['true'] }\n");
  assert.equal((await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path })).code, 0);
  const before = await Deno.readTextFile(`${dir.path}/out/report.json`);
  const { code, stderr } = await cli(["report", "out/report.json", "--html", "out/report.json"], {
    cwd: dir.path,
  });
  assert.equal(code, 2);
  assert.match(stderr, /--html out\/report\.json is the report it reads/);
  assert.equal(await Deno.readTextFile(`${dir.path}/out/report.json`), before);
});

Deno.test("taskpool run --json with a bad job file or bad usage: one JSON object on stdout with each problem's place, exit 2", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - { name: t, run: [true], bogus: 1 }\n  - { name: t, run: [true] }\n",
  );
  const bad = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(bad.code, 2, bad.stderr);
  const said = JSON.parse(bad.stdout);
  assert.equal(said.exitCode, 2);
  assert.equal(said.error.code, "INVALID_JOB_FILE");
  assert.deepEqual(
    said.error.problems.map((p: { line: number; field: string }) => [p.line, p.field]),
    [[3, "jobs[0].bogus"], [4, "jobs[1].name"]],
  );
  assert.match(bad.stderr, /jobs\.yaml:3:\d+: jobs\[0\]\.bogus is not a known key/);

  const usage = await cli(["run", "jobs.yaml", "--json", "--cpu", "0"], { cwd: dir.path });
  assert.equal(usage.code, 2);
  assert.deepEqual(JSON.parse(usage.stdout).error.code, "USAGE");
  // Without --json, stdout stays empty.
  assert.equal((await cli(["run", "jobs.yaml"], { cwd: dir.path })).stdout, "");
});
