import assert from "node:assert/strict";
import { HttpStatusError } from "../../../lib/http/errors.ts";
import { IntegrityError } from "../../../tasks/download/errors.ts";
import type { DownloadJob } from "../../../tasks/download/job.ts";
import { createDownloadKind, isRetryable } from "../../../tasks/download/download_kind.ts";
import { bodyBytes, sha256Hex, startFaultServer } from "../../helpers/fault_server.ts";
import { tempDir } from "../../helpers/temp.ts";

function downloadJob(url: string, output: string, extra: Partial<DownloadJob> = {}): DownloadJob {
  return {
    kind: "download",
    name: "file",
    group: "file",
    needs: [],
    retries: 0,
    timeoutMs: undefined,
    backoffMs: 0,
    source: undefined,
    url,
    path: `${output}/sub/file.bin`,
    relativePath: "sub/file.bin",
    sha256: undefined,
    sha512: undefined,
    headers: {},
    secretHeaders: [],
    maxBytes: 2 ** 32,
    idleTimeoutMs: 30_000,
    maxWaitMs: 60_000,
    recordSha256: false,
    ...extra,
  };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

for (const size of [1000, 300_000]) {
  Deno.test(`download() streams a body of ${size} bytes into place, unhashed`, async () => {
    await using server = startFaultServer();
    await using dir = await tempDir();
    await using kind = createDownloadKind({ output: dir.path });
    const result = await kind.run(downloadJob(`${server.url}/bytes/${size}`, dir.path), {
      signal: new AbortController().signal,
      attempt: 1,
    });
    assert.deepEqual(result, { bytes: size, size, path: "sub/file.bin" });
    assert.deepEqual(await Deno.readFile(`${dir.path}/sub/file.bin`), bodyBytes(size));
    assert.equal(await exists(`${dir.path}/sub/file.bin.part`), false);
  });

  Deno.test(`download() with recordSha256 reports the SHA-256 of ${size} bytes`, async () => {
    await using server = startFaultServer();
    await using dir = await tempDir();
    await using kind = createDownloadKind({ output: dir.path });
    const job = downloadJob(`${server.url}/bytes/${size}`, dir.path, { recordSha256: true });
    const result = await kind.run(job, { signal: new AbortController().signal, attempt: 1 });
    assert.deepEqual(result, {
      bytes: size,
      size,
      path: "sub/file.bin",
      sha256: await sha256Hex(bodyBytes(size)),
    });
    assert.deepEqual(await Deno.readFile(`${dir.path}/sub/file.bin`), bodyBytes(size));
  });
}

Deno.test("download() fails on an HTTP error with status, URL and body excerpt, and writes nothing", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await using kind = createDownloadKind({ output: dir.path });
  const error = await kind.run(downloadJob(`${server.url}/status/404`, dir.path), {
    signal: new AbortController().signal,
    attempt: 1,
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof HttpStatusError);
  assert.equal(error.status, 404);
  assert.equal(
    error.message,
    `GET ${server.url}/status/404 answered HTTP 404: "status 404 from the fault server"`,
  );
  assert.equal(isRetryable(error), false);
  assert.equal(isRetryable(new HttpStatusError({ status: 503, url: "x" })), true);
  assert.equal(await exists(`${dir.path}/sub/file.bin`), false);
});

Deno.test("download() never renames a broken body into place", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await using kind = createDownloadKind({ output: dir.path });
  const error = await kind.run(downloadJob(`${server.url}/short/100000`, dir.path), {
    signal: new AbortController().signal,
    attempt: 1,
  }).then(() => undefined, (e) => e);
  assert.ok(error, "a short body must fail");
  assert.equal(isRetryable(error), true);
  assert.equal(await exists(`${dir.path}/sub/file.bin`), false);
  assert.equal(await exists(`${dir.path}/sub/file.bin.part`), false);
});

Deno.test("download() verifies sha256 before the rename", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await using kind = createDownloadKind({ output: dir.path });
  const job = downloadJob(`${server.url}/bytes/1000`, dir.path, { sha256: "0".repeat(64) });
  const error = await kind.run(job, { signal: new AbortController().signal, attempt: 1 })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof IntegrityError);
  assert.match(error.message, /sha256 mismatch .* expected 0{64}, got [0-9a-f]{64}/);
  assert.equal(await exists(`${dir.path}/sub/file.bin`), false);
  const good = { ...job, sha256: await sha256Hex(bodyBytes(1000)) };
  assert.equal(
    (await kind.run(good, { signal: new AbortController().signal, attempt: 1 })).bytes,
    1000,
  );
});

Deno.test("download() stops a stalled transfer when its signal aborts, leaving no file", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await using kind = createDownloadKind({ output: dir.path });
  const controller = new AbortController();
  const run = kind.run(downloadJob(`${server.url}/stall`, dir.path), {
    signal: controller.signal,
    attempt: 1,
  });
  await server.started("stall");
  controller.abort(new DOMException("timed out", "TimeoutError"));
  await assert.rejects(run, (e: DOMException) => e.name === "TimeoutError");
  assert.equal(await exists(`${dir.path}/sub/file.bin`), false);
  assert.equal(await exists(`${dir.path}/sub/file.bin.part`), false);
});

Deno.test("download() refuses to follow a symlink planted in the output after planning", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/out`);
  await Deno.mkdir(`${dir.path}/elsewhere`);
  await Deno.symlink(`${dir.path}/elsewhere`, `${dir.path}/out/sub`);
  await using kind = createDownloadKind({ output: `${dir.path}/out` });
  const job = downloadJob(`${server.url}/bytes/10`, `${dir.path}/out`);
  await assert.rejects(
    kind.run(job, { signal: new AbortController().signal, attempt: 1 }),
    /would land outside the output folder/,
  );
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/elsewhere`)], []);
});
