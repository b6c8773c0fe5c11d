/**
 * Two runs on one output folder: the second exits 75 naming the first, or waits for it with
 * `--wait-lock`.
 */
import assert from "node:assert/strict";
import { lockFilePath } from "../../lib/run/run_lock.ts";
import { cli, spawnCli } from "../helpers/cli.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import { tempDir } from "../helpers/temp.ts";
import { cmdline, descendantsOf } from "../helpers/processes.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("taskpool run: a second run on the same output exits 75 and names the first; --wait-lock waits for it", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: held, download: { url: '${server.url}/hold/first', to: a.bin } }\n`,
  );
  const first = spawnCli(["run", "jobs.yaml"], { cwd: dir.path });
  await server.started("first");

  // The run proper is the child taskpool starts with narrow permissions: the lock names it.
  const holder = descendantsOf(first.pid).find((pid) => cmdline(pid).includes("--allow-write="));
  assert.ok(holder !== undefined, "the relaunched run is a child of the first");
  const second = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(second.code, 75, second.stderr);
  assert.match(second.stderr, new RegExp(`is in use by pid ${holder} on \\S+`));
  assert.match(second.stderr, /taskpool run jobs\.yaml/);
  assert.match(second.stderr, /--wait-lock/);
  assert.equal(second.stdout, "");

  // A script that asked for JSON gets it on stdout all the same.
  const json = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path });
  assert.equal(json.code, 75, json.stderr);
  const failure = JSON.parse(json.stdout);
  assert.equal(failure.exitCode, 75);
  assert.equal(failure.error.code, "LOCKED");
  assert.match(failure.error.message, new RegExp(`is in use by pid ${holder} on \\S+`));

  const bounded = await cli(["run", "--wait-lock", "0.3", "jobs.yaml"], { cwd: dir.path });
  assert.equal(bounded.code, 75, bounded.stderr);
  assert.match(bounded.stderr, /waiting for up to 300ms\n/);
  assert.match(bounded.stderr, /after waiting 0\.3s/);

  // A bare --wait-lock before the file waits as long as it takes.
  const third = spawnCli(["run", "--wait-lock", "jobs.yaml", "--json"], { cwd: dir.path });
  const reader = third.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("waiting")) said += (await reader.read()).value ?? "";
  assert.match(said, new RegExp(`in use by pid ${holder} .*; waiting\\n`));
  server.release("first");

  const firstDone = await first.output();
  assert.equal(firstDone.code, 0, decode(firstDone.stderr));
  const [thirdStatus, thirdStdout] = await Promise.all([
    third.status,
    new Response(third.stdout).text(),
    (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })(),
  ]);
  assert.equal(thirdStatus.code, 0);
  assert.equal(JSON.parse(thirdStdout).exitCode, 0);
  assert.equal(await Deno.stat(lockFilePath(`${dir.path}/out`)).catch(() => null), null);
});
