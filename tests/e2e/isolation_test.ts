import assert from "node:assert/strict";
import { dirname } from "node:path";
import { cli } from "../helpers/cli.ts";
import { runYaml } from "../helpers/run_yaml.ts";
import { tempDir } from "../helpers/temp.ts";
import { survivorsOf } from "../helpers/processes.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).pathname;

for (const isolation of ["worker", "process"] as const) {
  Deno.test(`isolation: ${isolation} survives a throw, a busy loop, Deno.exit, OOM and reads outside its rights`, async () => {
    await using dir = await tempDir();
    await using secrets = await tempDir();
    const secret = await secrets.write("id_rsa", "not for compute jobs\n");
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const job = (name: string, exportName: string, args: unknown[], extra = "") =>
      [
        `  - name: ${name}`,
        `    compute: { module: ${WORK}, export: ${exportName}, args: ${
          JSON.stringify(args)
        }, isolation: ${isolation}${extra} }`,
      ].join("\n");
    const report = await runYaml(
      dir,
      [
        "output: out",
        "concurrency: { cpu: 2 }",
        "jobs:",
        job("throws", "throws", []),
        job("spins", "spins", []),
        "    timeout: 300ms",
        job("exits", "exits", [7]),
        job("hogs", "hogsMemory", [], ", memory: 64MiB"),
        job("snoops", "readsFile", [secret]),
        job("phones", "connects", [listener.addr.port]),
        job("allowed", "readsFile", [secret], `, permissions: { read: [${dirname(secret)}] }`),
        // Listed last: it runs on a host freed (or replaced) after the failures above.
        job("after", "add", [20, 22]),
      ].join("\n"),
    );
    const failed = (name: string) => {
      const entry = report.job(name);
      assert.equal(entry.status, "failed", `${name}: ${JSON.stringify(entry)}`);
      assert.equal(entry.isolation, isolation);
      return entry.error!;
    };
    assert.equal(failed("throws").message, "this job always fails");
    assert.equal(failed("spins").code, "TIMEOUT");
    assert.equal(failed("exits").message, "the task called Deno.exit(7)");
    assert.equal(failed("hogs").message, "the task ran out of memory (memory: 64 MiB)");
    assert.match(failed("snoops").message, /read access to .*id_rsa/);
    // The job file grants rights, not Deno's flags: the message says where.
    assert.match(
      failed("snoops").message,
      /grant more in the job's permissions, such as permissions: \{ read: \[.*id_rsa\] \}$/,
    );
    assert.doesNotMatch(failed("snoops").message, /--allow-read/);
    assert.match(failed("phones").message, /net access to "127\.0\.0\.1:\d+"/);
    assert.equal(report.job("allowed").status, "ok");
    assert.equal(report.job("allowed").result, "not for compute jobs\n");
    const ranOn = isolation === "worker" ? "worker" : "pid";
    assert.equal(typeof report.job("allowed")[ranOn], "number");
    assert.equal(report.job("after").result, 42);
    assert.equal(report.exitCode, 1);
  });
}

for (const isolation of ["worker", "process", "thread"] as const) {
  Deno.test(`isolation: ${isolation} writes a Uint8Array result to its to: file`, async () => {
    await using dir = await tempDir();
    const report = await runYaml(
      dir,
      [
        "output: out",
        "jobs:",
        `  - { name: blob, compute: { module: ${WORK}, export: bytes, args: [300], isolation: ${isolation}, to: 'blobs/{n}.bin' }, repeat: 2 }`,
        `  - { name: loose, compute: { module: ${WORK}, export: bytes, args: [3], isolation: ${isolation} } }`,
        `  - { name: text, compute: { module: ${WORK}, export: letters, args: [3], isolation: ${isolation}, to: t.txt } }`,
      ].join("\n"),
    );
    const written = await Deno.readFile(`${dir.path}/out/blobs/2.bin`);
    assert.deepEqual(written, Uint8Array.from({ length: 300 }, (_, i) => i % 256));
    const result = report.job("blob/2").result as Record<string, unknown>;
    assert.equal(result.to, "blobs/2.bin");
    assert.equal(result.bytes, 300);
    assert.match(String(result.sha256), /^[0-9a-f]{64}$/);
    assert.equal(report.job("loose").status, "failed");
    assert.equal(
      report.job("loose").error!.message,
      "the task returned 3 bytes: set compute.to to write them to a file",
    );
    assert.equal(report.job("text").status, "failed");
    assert.equal(
      report.job("text").error!.message,
      "the task returned a string, not bytes, so nothing was written to compute.to (t.txt): " +
        "return a Uint8Array, or leave out to",
    );
  });
}

for (const isolation of ["worker", "process", "thread"] as const) {
  Deno.test(`isolation: ${isolation} fails a result JSON would lose or cannot write, and says what a thrown object holds`, async () => {
    await using dir = await tempDir();
    const job = (name: string) =>
      `  - { name: ${name}, compute: { module: ${WORK}, export: ${name}, isolation: ${isolation} } }`;
    const names = [
      "wordCounts",
      "huge",
      "curried",
      "circular",
      "emptyLooking",
      "rejectsWithObject",
      "numbers",
      "hostile",
      "tooDeep",
      "deepEnough",
      "add",
    ];
    const report = await runYaml(dir, ["output: out", "jobs:", ...names.map(job)].join("\n"));
    const message = (name: string) => {
      assert.equal(report.job(name).status, "failed", name);
      return report.job(name).error!.message;
    };
    assert.equal(
      message("wordCounts"),
      'the result has no JSON form: it holds a Map (at key "words"), which JSON writes as {}; ' +
        "return Object.fromEntries(map)",
    );
    assert.equal(
      message("huge"),
      "the result has no JSON form: it holds a bigint (return it as a string or a number)",
    );
    assert.equal(message("curried"), "the result has no JSON form: it is a function");
    assert.equal(
      message("circular"),
      "the result has no JSON form: it refers to itself (a circular structure)",
    );
    assert.deepEqual(report.job("emptyLooking").result, { nothing: {}, text: "{}" });
    assert.equal(message("rejectsWithObject"), '{"code":42,"reason":"quota"}');
    assert.equal(
      message("numbers"),
      "the result has no JSON form: it holds an AsyncGenerator, which JSON writes as {}; " +
        "return what it yields or resolves to",
    );
    assert.equal(
      message("tooDeep"),
      "the result is nested 5000 levels deep (arrays or objects within each other), more than " +
        "1000: return it flatter, or its JSON text as a string",
    );
    let deepest = report.job("deepEnough").result;
    let levels = 0;
    for (; Array.isArray(deepest); levels++) deepest = deepest[0];
    assert.deepEqual([levels, deepest], [1000, '[[{"\\"[{']);
    // A result that throws when looked at fails its job; the thread goes on to the next.
    assert.equal(message("hostile"), "a trap that throws");
    assert.equal(report.job("add").status, "ok");
  });
}

Deno.test("a Worker host starts no more threads than the run has jobs for, whatever --cpu says", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: c, compute: { module: ${WORK}, export: add, args: [1, 2] }, repeat: 2 }\n`,
  );
  // 200 threads would hold some 1.6 GB: each Deno Worker is a V8 isolate of its own.
  const { code, stderr } = await cli(["run", "jobs.yaml", "--cpu", "200", "-q"], { cwd: dir.path });
  assert.equal(code, 0, stderr);
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  assert.equal(report.concurrency.cpu, 200);
  const mib = report.peakTotalRssBytes / 2 ** 20;
  assert.ok(mib < 400, `taskpool and its host held ${mib.toFixed(0)} MiB`);
});

Deno.test("isolation: thread survives a throw, a busy loop, Deno.exit and reads outside its rights, in taskpool's own process", async () => {
  await using dir = await tempDir();
  await using secrets = await tempDir();
  const secret = await secrets.write("id_rsa", "not for compute jobs\n");
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const job = (name: string, exportName: string, args: unknown[], extra = "") =>
    `  - { name: ${name}, compute: { module: ${WORK}, export: ${exportName}, args: ${
      JSON.stringify(args)
    }, isolation: thread${extra} } }`;
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "concurrency: { cpu: 2 }",
      "jobs:",
      job("throws", "throws", []),
      job("spins", "spins", []).replace(/ }$/, ", timeout: 300ms }"),
      job("exits", "exits", [7]),
      job("snoops", "readsFile", [secret]),
      job("phones", "connects", [listener.addr.port]),
      job("allowed", "readsFile", [secret], `, permissions: { read: [${dirname(secret)}] }`),
      job("after", "add", [20, 22]),
    ].join("\n"),
  );
  // Through the CLI: the thread stuck in its loop cannot be stopped, and the run ends anyway.
  const { code, stderr } = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  const entry = (name: string) => report.jobs.find((job: { name: string }) => job.name === name);
  const failed = (name: string) => {
    assert.equal(entry(name).status, "failed", `${name}: ${JSON.stringify(entry(name))}`);
    assert.equal(entry(name).isolation, "thread");
    return entry(name).error;
  };
  assert.equal(failed("throws").message, "this job always fails");
  assert.equal(failed("spins").code, "TIMEOUT");
  assert.equal(failed("exits").message, "the task called Deno.exit(7)");
  assert.match(failed("snoops").message, /read access to .*id_rsa/);
  assert.match(failed("phones").message, /net access to "127\.0\.0\.1:\d+"/);
  assert.equal(entry("allowed").result, "not for compute jobs\n");
  assert.equal(entry("after").result, 42);
  assert.equal(typeof entry("after").worker, "number");
  assert.equal(entry("after").pid, undefined); // no host process of its own
});

Deno.test("isolation: thread refuses memory:, which no thread in taskpool's process can have", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `jobs:\n  - name: capped\n    compute: { module: ${WORK}, export: add, args: [1, 2], isolation: thread, memory: 64MiB }\n`,
  );
  const { code, stderr } = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(code, 2, stderr);
  assert.match(stderr, /jobs\.yaml:3:\d+.*jobs\[0\]\.compute\.memory/s);
  assert.match(stderr, /cannot cap the heap of a thread in taskpool's own process/);
});

/** The Worker host processes on this machine whose command line names `folder`. */
function hostsNaming(folder: string): number[] {
  return [...Deno.readDirSync("/proc")].filter((entry) => /^\d+$/.test(entry.name)).map((entry) =>
    Number(entry.name)
  ).filter((pid) => {
    try {
      const line = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      return line.includes("host_main") && line.includes(folder);
    } catch {
      return false; // gone meanwhile
    }
  });
}

Deno.test("a command line run again starts its Worker host early: the same results, a changed file, a run with none; no host left", async () => {
  await using dir = await tempDir();
  for (const name of ["a", "b"]) {
    await dir.write(
      `${name}/mod.ts`,
      `export default (n: number) => ({ module: "${name}", n: n * 2 });\n`,
    );
  }
  const jobFile = (module: string) =>
    `output: out\njobs:\n  - { name: c, compute: { module: ./${module}/mod.ts, args: [21] }, repeat: 3 }\n`;
  // The same command line each time: the first run writes its host down, the next start it early.
  const steps = [
    { file: jobFile("a"), module: "a" },
    { file: jobFile("a"), module: "a" },
    { file: jobFile("b"), module: "b" }, // another host: the one started early is killed
    { file: "output: out\njobs:\n  - { name: t, run: [touch, ran] }\n", module: undefined },
    { file: jobFile("a"), module: "a" }, // after a run with no host: none started early
  ];
  for (const [index, step] of steps.entries()) {
    await dir.write("jobs.yaml", step.file);
    const { code, stderr } = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
    assert.equal(code, 0, `run ${index}: ${stderr}`);
    const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
    if (step.module) {
      assert.deepEqual(
        report.jobs.map((job: { result: unknown }) => job.result),
        [1, 2, 3].map(() => ({ module: step.module, n: 42 })),
        `run ${index}`,
      );
    }
    // Killed, or told to end by their stdin closing: gone once the process table says so.
    assert.deepEqual(await survivorsOf(hostsNaming(dir.path)), [], `run ${index} left a host`);
  }
});

Deno.test("a compute module may import local modules from outside its folder, and read nothing else there", async () => {
  await using dir = await tempDir();
  await dir.write("shared/util.ts", "export const twice = (n: number) => n * 2;\n");
  await dir.write("shared/secret.txt", "not imported\n");
  await dir.write(
    "jobs/m.ts",
    [
      'import { twice } from "../shared/util.ts";',
      "export default (n: number) => twice(n);",
      'export const peek = () => Deno.readTextFileSync(new URL("../shared/secret.txt", import.meta.url));',
      "",
    ].join("\n"),
  );
  const lines = ["output: out", "jobs:"];
  for (const isolation of ["worker", "process", "thread"]) {
    lines.push(
      `  - { name: ${isolation}, compute: { module: ./jobs/m.ts, args: [21], isolation: ${isolation} } }`,
    );
    lines.push(
      `  - { name: peek-${isolation}, compute: { module: ./jobs/m.ts, export: peek, isolation: ${isolation} } }`,
    );
  }
  await dir.write("jobs.yaml", `${lines.join("\n")}\n`);
  const { code, stderr } = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
  assert.equal(code, 1, stderr);
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  const job = (name: string) => report.jobs.find((each: { name: string }) => each.name === name);
  for (const isolation of ["worker", "process", "thread"]) {
    assert.equal(job(isolation).result, 42, JSON.stringify(job(isolation)));
    assert.match(job(`peek-${isolation}`).error.message, /read access to .*secret\.txt/);
  }
});

Deno.test("a variable not granted reads as unset on a Worker or in a process; on a thread it fails", async () => {
  await using dir = await tempDir();
  const names = JSON.stringify(["TASKPOOL_TEST_GRANTED", "TASKPOOL_TEST_SECRET"]);
  const job = (isolation: string) =>
    `  - { name: ${isolation}, compute: { module: ${WORK}, export: readsEnv, args: [${names}], ` +
    `isolation: ${isolation}, permissions: { env: [TASKPOOL_TEST_GRANTED] } } }`;
  await dir.write(
    "jobs.yaml",
    ["output: out", "jobs:", job("worker"), job("process"), job("thread")].join("\n"),
  );
  const { code, stderr } = await cli(["run", "jobs.yaml", "-q"], {
    cwd: dir.path,
    env: { TASKPOOL_TEST_GRANTED: "granted", TASKPOOL_TEST_SECRET: "s3cret" },
  });
  assert.equal(code, 1, stderr);
  const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
  const byName = (name: string) => report.jobs.find((j: { name: string }) => j.name === name);
  // An npm package that looks up LOG_TOKENS at import loads, as where the variable is unset.
  assert.deepEqual(byName("worker").result, ["granted", null]);
  assert.deepEqual(byName("process").result, ["granted", null]);
  assert.match(byName("thread").error.message, /^Requires env access to "TASKPOOL_TEST_SECRET"/);
});

Deno.test("a compute task that reads stdin finds its end at once, wherever it runs, and takes none of taskpool's", async () => {
  await using dir = await tempDir();
  const job = (isolation: string) =>
    `  - { name: ${isolation}, compute: { module: ${WORK}, export: readsStdin, isolation: ${isolation} }, timeout: 30s }`;
  await dir.write(
    "jobs.yaml",
    ["output: out", "jobs:", ...["thread", "worker", "process"].map(job)].join("\n"),
  );
  // Input on taskpool's own stdin: the tasks do not get it either (a command's stdin is
  // /dev/null), and with a task reading it, stdin used to wait until the job's timeout.
  for (const mode of ["workers", "sequential"]) {
    const { code, stderr } = await cli(["run", "jobs.yaml", "-q", "--mode", mode], {
      cwd: dir.path,
      stdin: "typed at the terminal\n",
    });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(await Deno.readTextFile(`${dir.path}/out/report.json`));
    for (const entry of report.jobs) assert.equal(entry.result, null, `${mode}: ${entry.name}`);
  }
});
