/**
 * Resuming broken transfers with Range + If-Range, and the clean restarts when a server
 * ignores ranges or its file changed. The final bytes always equal a fresh download.
 */
import assert from "node:assert/strict";
import { fileBytes, sha256Hex, startFaultServer } from "../../helpers/fault_server.ts";
import { exists, runYaml } from "../../helpers/run_yaml.ts";
import { tempDir } from "../../helpers/temp.ts";

const SIZE = 200_000;

/** One download job; `hashed` adds `record_sha256` (resuming then hashes the kept part). */
function oneDownload(url: string, retries: number, options: { hashed?: boolean } = {}): string {
  const record = options.hashed ? ", record_sha256: true" : "";
  return [
    "output: out",
    "jobs:",
    `  - { name: f, download: { url: "${url}", to: f.bin${record} }, retries: ${retries}, ` +
    "backoff: 0 }",
  ].join("\n");
}

Deno.test("a broken transfer resumes from its .part with Range and If-Range (ETag)", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    oneDownload(`${server.url}/file/r?size=${SIZE}&cut=1`, 1, { hashed: true }),
  );
  const job = report.job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.attempts, 2);
  assert.equal(job.resumedFrom, SIZE / 2);
  assert.equal(job.bytes, SIZE / 2, "only the rest travelled");
  assert.equal(job.size, SIZE);
  const second = server.requests.get("/file/r")![1]!;
  assert.equal(second.get("range"), `bytes=${SIZE / 2}-`);
  assert.equal(second.get("if-range"), '"r-v1"');
  const expected = fileBytes(SIZE, 1);
  assert.equal(job.sha256, await sha256Hex(expected));
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), expected);
  assert.equal(await exists(`${dir.path}/out/f.bin.part`), false);
});

Deno.test("without an ETag, If-Range carries Last-Modified", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    oneDownload(`${server.url}/file/lm?size=${SIZE}&cut=1&etag=0`, 1),
  );
  assert.equal(report.job("f").resumedFrom, SIZE / 2);
  const second = server.requests.get("/file/lm")![1]!;
  assert.equal(second.get("if-range"), new Date(Date.UTC(2026, 0, 1)).toUTCString());
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), fileBytes(SIZE, 1));
});

Deno.test("a server that ignores Range gets a clean restart", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    oneDownload(`${server.url}/file/n?size=${SIZE}&cut=1&norange=1`, 1),
  );
  const job = report.job("f");
  assert.equal(job.status, "ok");
  assert.equal(server.requests.get("/file/n")![1]!.get("range"), `bytes=${SIZE / 2}-`);
  assert.equal(job.resumedFrom, undefined);
  assert.equal(job.bytes, SIZE);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), fileBytes(SIZE, 1));
});

Deno.test("a file that changed between attempts is downloaded afresh, not spliced", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    oneDownload(`${server.url}/file/c?size=${SIZE}&cut=1&change=1`, 1, { hashed: true }),
  );
  const job = report.job("f");
  assert.equal(job.status, "ok");
  assert.equal(server.version("c"), 2);
  assert.equal(job.resumedFrom, undefined);
  const expected = fileBytes(SIZE, 2);
  assert.equal(job.sha256, await sha256Hex(expected));
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), expected);
});

Deno.test("a run that fails keeps its .part, and the next run resumes it", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const yaml = oneDownload(`${server.url}/file/x?size=${SIZE}&cut=1`, 0);
  const first = await runYaml(dir, yaml);
  assert.equal(first.job("f").status, "failed");
  assert.equal(await exists(`${dir.path}/out/f.bin`), false);
  assert.equal((await Deno.stat(`${dir.path}/out/f.bin.part`)).size, SIZE / 2);

  const second = await runYaml(dir, yaml);
  const job = second.job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.resumedFrom, SIZE / 2);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), fileBytes(SIZE, 1));
  assert.equal(await exists(`${dir.path}/out/f.bin.part`), false);
});

Deno.test("a .part that changed on disk is not trusted: the download starts afresh", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const yaml = oneDownload(`${server.url}/file/t?size=${SIZE}&cut=1`, 0);
  await runYaml(dir, yaml);
  await Deno.writeTextFile(`${dir.path}/out/f.bin.part`, "tampered", { append: true });
  const job = (await runYaml(dir, yaml)).job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.resumedFrom, undefined);
  assert.equal(server.requests.get("/file/t")![1]!.get("range"), null);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), fileBytes(SIZE, 1));
});

Deno.test("a .part whose run died before saving its state is resumed from its sidecar", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const size = 600_000; // over the size that gets a sidecar
  const yaml = oneDownload(`${server.url}/file/k?size=${size}&cut=1`, 0);
  assert.equal((await runYaml(dir, yaml)).job("f").status, "failed");
  assert.equal(await exists(`${dir.path}/out/f.bin.part.json`), true);
  // What a SIGKILLed run leaves: the .part and its sidecar, and no state of them.
  await Deno.remove(`${dir.path}/out/.taskpool/state.json`);

  const job = (await runYaml(dir, yaml)).job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.resumedFrom, size / 2);
  assert.equal(server.requests.get("/file/k")![1]!.get("range"), `bytes=${size / 2}-`);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), fileBytes(size, 1));
  assert.equal(await exists(`${dir.path}/out/f.bin.part.json`), false);
});
