/**
 * `deno task bundle`: the bundle runs a job file with Workers, a host process and a built-in,
 * from a folder with no other file of the repository.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import type { Report } from "../../lib/report/types.ts";
import { tempDir } from "../helpers/temp.ts";
import { startRedis } from "../helpers/redis.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("the bundle runs compute on Workers and in a process, built-ins included, with no repository beside it", async () => {
  await using dir = await tempDir();
  // The task's own command, into a temporary folder.
  const task = denoJson.tasks.bundle.replaceAll("dist/", `${dir.path}/dist/`)
    .replace("--outdir dist", `--outdir ${dir.path}/dist`)
    .replace(/^deno /, `'${Deno.execPath()}' `);
  const built = await new Deno.Command("sh", { args: ["-c", task], cwd: ROOT, stderr: "piped" })
    .output();
  assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
  // The helpers every chunk imports start Node's require only when bundled CommonJS calls it
  // (tools/finish_bundle.ts), so a run's processes load no Node layer for it.
  let helpers = 0;
  for await (const entry of Deno.readDir(`${dir.path}/dist`)) {
    if (!entry.name.endsWith(".js")) continue;
    const text = await Deno.readTextFile(`${dir.path}/dist/${entry.name}`);
    if (!text.includes("var __require =")) continue;
    helpers++;
    assert(!text.includes('from "node:module"'), `${entry.name} imports node:module`);
  }
  assert.equal(helpers, 1);
  // No module is named to a dynamic import by a string literal, which Deno would load before
  // the first module runs (each chunk, and Node's layer for node:crypto) without the
  // lazy-dynamic-imports flag, and users run the bundle with flags of their own.
  const literal = /\bimport\("/;
  const walk = async (folder: string): Promise<string[]> => {
    const found: string[] = [];
    for await (const entry of Deno.readDir(folder)) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory) found.push(...await walk(path));
      else if (entry.name.endsWith(".js") && literal.test(await Deno.readTextFile(path))) {
        found.push(path);
      }
    }
    return found;
  };
  assert.deepEqual(await walk(`${dir.path}/dist`), []);
  // Job files are read with yaml's ES build, bundled on its own: its CommonJS build, which
  // deno bundle picks, requires node:process.
  const yaml = await Deno.readTextFile(`${dir.path}/dist/yaml.js`);
  assert(yaml.includes("parseDocument") && !/["']node:/.test(yaml), "dist/yaml.js");

  // A runner thread of a job's own module may read the runner's entry files and nothing else of
  // the bundle: they import no chunk.
  for (const runner of ["web_runner.js", "node_runner.js"]) {
    const text = await Deno.readTextFile(`${dir.path}/dist/lib/pools/worker/${runner}`);
    assert.doesNotMatch(text, /from "\.[^"]*chunk-/, runner);
  }

  await dir.write("work/n.txt", "data");
  await dir.write("work/mods/double.ts", "export const double = (n: number) => 2 * n;\n");
  await dir.write(
    "work/jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: count, compute: { module: 'builtin:count', args: [1000] } }",
      "  - { name: hash, compute: { module: 'builtin:sha256', args: [.], isolation: process }, needs: [list] }",
      "  - { name: list, run: [sh, -c, 'cp ../n.txt .'], cwd: out }",
      "  - { name: double, compute: { module: ./mods/double.ts, export: double, args: [21] } }",
    ].join("\n"),
  );
  const run = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-run",
      "--allow-env",
      `${dir.path}/dist/taskpool.js`,
      "run",
      "jobs.yaml",
    ],
    cwd: `${dir.path}/work`,
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, stderr);
  const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/work/out/report.json`));
  assert.deepEqual(report.jobs.map((job) => [job.name, job.status]), [
    ["count", "ok"],
    ["hash", "ok"],
    ["list", "ok"],
    ["double", "ok"],
  ]);
  assert.equal(report.jobs[0]?.result, 1000);
  // A job's own module: its Worker host may read the module's folder and the runner alone.
  assert.equal(report.jobs[3]?.result, 42);
  assert.equal(report.jobs[3]?.isolation, "worker");
  assert.equal(report.jobs[0]?.isolation, "worker");
  assert.equal(report.jobs[1]?.isolation, "process");

  // A distributed run from the bundle: its worker and its coordinator load BullMQ from the
  // bundle's own files, and compute still finds its hosts.
  await using redis = await startRedis();
  const bundled = (...args: string[]) => [`${dir.path}/dist/taskpool.js`, ...args];
  const worker = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...bundled("worker", "--redis", redis.url, "-o", "w")],
    cwd: `${dir.path}/work`,
    stderr: "piped",
  }).spawn();
  const reader = worker.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("taking jobs")) {
    const { value, done } = await reader.read();
    if (done) break;
    said += value;
  }
  const remote = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      ...bundled("run", "jobs.yaml", "--redis", redis.url, "--report", "remote.json"),
    ],
    cwd: `${dir.path}/work`,
    env: { NO_COLOR: "1" },
  }).output();
  worker.kill("SIGTERM");
  await worker.status;
  await reader.cancel();
  assert.equal(remote.code, 0, new TextDecoder().decode(remote.stderr) + said);
  const remoteReport: Report = JSON.parse(
    await Deno.readTextFile(`${dir.path}/work/remote.json`),
  );
  assert.equal(remoteReport.jobs[0]?.result, 1000);
  assert.ok(remoteReport.jobs.every((job) => job.ranOn?.startsWith("w@")));
});
