/**
 * A run whose disk refuses to take more, through the real CLI: the kernel's file-size limit
 * (`ulimit -f`, with SIGXFSZ ignored as a shell script can) makes every write past it fail with
 * EFBIG, as a full disk fails with ENOSPC, in the launcher's child as in any process.
 */
import assert from "node:assert/strict";
import { MAIN, RUN_FLAGS } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp.ts";
import { startFaultServer } from "../helpers/fault_server.ts";

/**
 * Blocks of 512 bytes a file may have: each download is smaller; the report is larger, and so are
 * the job lines gathered while the run goes (256 KiB a write).
 */
const LIMIT_BLOCKS = 32;

/** Runs taskpool with `args` in `cwd`, where no file may grow past {@linkcode LIMIT_BLOCKS}. */
async function runLimited(cwd: string, args: string[]) {
  const script = `trap "" XFSZ; ulimit -f ${LIMIT_BLOCKS}; exec "$0" "$@"`;
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: ["-c", script, Deno.execPath(), "run", ...RUN_FLAGS, MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("a run that cannot write its report: the files it could, a big one failed once, a summary, exit 74 naming what was not saved", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const small = 1000;
  const urls = Array.from({ length: small }, (_, i) => `${server.url}/file/f${i}?size=16`);
  await dir.write("urls.txt", `${urls.join("\n")}\n`);
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: small, download: { urls_from: urls.txt, to: files/ } }",
      `  - { name: big, download: { url: "${server.url}/bytes/65536", to: big.bin } }`,
      "",
    ].join("\n"),
  );
  const { code, stdout: out, stderr: err } = await runLimited(dir.path, ["run", "jobs.yaml", "-q"]);
  assert.equal(code, 74, `${out}\n${err}`);
  const report = `${dir.path}/out/report.json`;
  assert.match(err, new RegExp(`taskpool: not saved: cannot write ${report}: File too large`));
  assert.doesNotMatch(err, /Uncaught|error:/);
  // Every job is in the summary; the big file failed at its first attempt: no retry helps.
  assert.match(out, /taskpool: FAILED 1001 jobs: 1000 ok, 0 cached, 1 failed, 0 skipped/);
  assert.match(out, /^failed {2}big: File too large .*big\.bin\.part'$/m);
  assert.equal(server.hits.get("/bytes/65536"), 1);
  assert.doesNotMatch(out, /^report: /m, "no report to point to");
  // What was written is whole, and nothing half-written or temporary is left.
  const files = [...Deno.readDirSync(`${dir.path}/out/files`)].map((entry) => entry.name);
  assert.equal(files.length, small);
  assert.equal((await Deno.readFile(`${dir.path}/out/files/f7`)).length, 16);
  const left = [...Deno.readDirSync(`${dir.path}/out`)].map((entry) => entry.name).sort();
  assert.deepEqual(left, [".taskpool", "files"]);
});

Deno.test("a command whose log cannot be written: what it did first, else the log named; the run goes on", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      // 100 KB on stdout, past the limit of its log; then success or exit 3.
      "  - { name: loud, run: [sh, -c, 'head -c 100000 /dev/zero'] }",
      "  - { name: loudfail, run: [sh, -c, 'head -c 100000 /dev/zero; exit 3'] }",
      "  - { name: quiet, run: [sh, -c, 'echo hi'] }",
      "",
    ].join("\n"),
  );
  const { code, stdout, stderr } = await runLimited(dir.path, ["run", "jobs.yaml", "-q"]);
  assert.equal(code, 1, `${stdout}\n${stderr}`);
  assert.match(stdout, /^failed {2}loud: cannot write \S+\/loud\.log: File too large/m);
  assert.match(stdout, /^failed {2}loudfail: sh exited with code 3/m);
  assert.match(stdout, /taskpool: FAILED 3 jobs: 1 ok, 0 cached, 2 failed/);
  assert.equal(await Deno.readTextFile(`${dir.path}/out/logs/quiet.log`), "hi\n");
});
