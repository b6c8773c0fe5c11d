/**
 * Mirrors and checksum files, through the real pipeline against loopback servers: failing over
 * between sources within one attempt, resuming across sources only when their validators agree,
 * and verifying each file against a SHA256SUMS/SHA512SUMS file, local or fetched.
 */
import assert from "node:assert/strict";
import { bodyBytes, fileBytes, sha256Hex, startFaultServer } from "../../helpers/fault_server.ts";
import { exists, runYaml } from "../../helpers/run_yaml.ts";
import { tempDir } from "../../helpers/temp.ts";
import { serveLoopback } from "../../../lib/util/serve_loopback.ts";
import { loadPlan } from "../../../lib/jobfile/mod.ts";
import { InvalidJobFileError } from "../../../lib/jobfile/errors.ts";
import { KINDS } from "../../../tasks/mod.ts";

Deno.test("a source that fails hands over to the next mirror within one attempt", async () => {
  await using a = startFaultServer();
  await using b = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    [
      "output: out",
      "jobs:",
      "  - name: f",
      "    retries: 0",
      `    download: { url: "${a.url}/status/404", to: f.bin, mirrors: [` +
      `"${a.url}/status/503", "${b.url}/bytes/5000"] }`,
    ].join("\n"),
  );
  const job = report.job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.attempts, 1, "no retry, no back-off: the mirrors are tried in the attempt");
  assert.equal(job.servedBy, `${b.url}/bytes/5000`);
  const failed = job.failedSources as { url: string; error: string }[];
  assert.deepEqual(failed.map((each) => each.url), [`${a.url}/status/404`, `${a.url}/status/503`]);
  assert.match(failed[0]!.error, /404/);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), bodyBytes(5000));
});

Deno.test("a checksum mismatch on one mirror moves to the next; all failing names them all", async () => {
  await using a = startFaultServer();
  await using b = startFaultServer();
  await using dir = await tempDir();
  const good = await sha256Hex(bodyBytes(3000));
  const report = await runYaml(
    dir,
    [
      "output: out",
      "jobs:",
      `  - { name: ok, retries: 0, download: { url: "${a.url}/bytes/2999", to: ok.bin, ` +
      `sha256: "${good}", mirrors: ["${b.url}/bytes/3000"] } }`,
      `  - { name: bad, retries: 0, download: { url: "${a.url}/status/410", to: bad.bin, ` +
      `mirrors: ["${b.url}/status/500"] } }`,
    ].join("\n"),
  );
  assert.equal(report.job("ok").status, "ok");
  assert.equal(report.job("ok").servedBy, `${b.url}/bytes/3000`);
  assert.match(
    (report.job("ok").failedSources as { error: string }[])[0]!.error,
    /sha256 mismatch/,
  );
  const bad = report.job("bad");
  assert.equal(bad.status, "failed");
  assert.equal(bad.error?.code, "HTTP_500");
  assert.match(bad.error!.message, new RegExp(`every source failed: ${a.url}/status/410: .*410`));
  assert.equal(await exists(`${dir.path}/out/bad.bin`), false);
});

Deno.test("bytes from one mirror are resumed from another only when the validators agree", async () => {
  const size = 300_000;
  for (const [tag, resumed] of [["same", true], ["other", false]] as const) {
    await using a = startFaultServer();
    await using b = startFaultServer();
    await using dir = await tempDir();
    const report = await runYaml(
      dir,
      [
        "output: out",
        "jobs:",
        `  - { name: f, retries: 0, download: { url: "${a.url}/file/x?size=${size}&cut=1` +
        `&tag=same", to: f.bin, mirrors: ["${b.url}/file/x?size=${size}&tag=${tag}"] } }`,
      ].join("\n"),
    );
    const job = report.job("f");
    assert.equal(job.status, "ok", tag);
    assert.equal(job.resumedFrom, resumed ? size / 2 : undefined, tag);
    assert.equal(job.bytes, resumed ? size / 2 : size, tag);
    const asked = b.requests.get("/file/x")![0]!;
    assert.equal(asked.get("if-range"), '"same"', "the kept bytes' validator goes with the range");
    assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), fileBytes(size, 1), tag);
  }
});

Deno.test("a local SHA256SUMS verifies every file of a fan-out by its name", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const sums = [
    `${await sha256Hex(bodyBytes(100))}  100`,
    `${await sha256Hex(bodyBytes(201))} *./sub/200`, // a wrong digest for 200, by its base name
    `SHA256 (300) = ${await sha256Hex(bodyBytes(300))}`,
    "-----BEGIN PGP SIGNATURE-----",
  ].join("\n");
  await dir.write("SHA256SUMS", `${sums}\n`);
  const yaml = [
    "output: out",
    "jobs:",
    `  - name: files`,
    `    retries: 0`,
    `    download:`,
    `      checksums: SHA256SUMS`,
    `      urls: ["${server.url}/bytes/100", "${server.url}/bytes/200", ` +
    `"${server.url}/bytes/300", "${server.url}/bytes/400"]`,
  ].join("\n");
  const report = await runYaml(dir, yaml);
  assert.equal(report.job("files/100").status, "ok");
  assert.equal(report.job("files/300").status, "ok");
  assert.equal(report.job("files/200").error?.code, "INTEGRITY");
  assert.equal(await exists(`${dir.path}/out/200`), false, "a mismatch never lands");
  const unlisted = report.job("files/400");
  assert.equal(unlisted.error?.code, "CHECKSUM_UNLISTED");
  assert.match(unlisted.error!.message, /SHA256SUMS does not list 400/);
  assert.equal(unlisted.attempts, 1);
  assert.equal(server.hits.get("/bytes/400"), undefined, "an unlisted file is not fetched");

  const hits = server.hits.get("/bytes/100");
  const again = await runYaml(dir, yaml);
  assert.equal(again.job("files/100").cached, "checksum");
  assert.equal(server.hits.get("/bytes/100"), hits, "a file that matches needs no request");
});

Deno.test("a checksum file URL is fetched once per run; SHA-512 by the digest's length", async () => {
  await using server = startFaultServer();
  const digest = async (n: number) =>
    Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-512", bodyBytes(n))),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  const text = `${await digest(10)}  10\n${await digest(20)}  20\n${await digest(30)}  30\n`;
  let served = 0;
  await using sums = serveLoopback(() => {
    served++;
    return new Response(text);
  });
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    [
      "output: out",
      "jobs:",
      `  - name: files`,
      `    download: { checksums: "${sums.url}/SHA512SUMS", urls: ["${server.url}/bytes/10", ` +
      `"${server.url}/bytes/20", "${server.url}/bytes/30"] }`,
    ].join("\n"),
  );
  assert.deepEqual(report.jobs.map((job) => job.status), ["ok", "ok", "ok"]);
  assert.equal(served, 1);
});

Deno.test("a checksum file that lists a file twice with different digests is refused: a job-file error when local, the job's when fetched", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const good = await sha256Hex(bodyBytes(100));
  const text = [
    `${good}  100`,
    `SHA512 (100) = ${"e".repeat(128)}`, // another algorithm: the stronger digest is kept
    `${"0".repeat(64)}  200`,
    `${good}  ./200`,
    `${await sha256Hex(bodyBytes(300))}  300`,
    `${await sha256Hex(bodyBytes(300))}  300`, // the same digest twice: no conflict
  ].join("\n");
  await dir.write("SHA256SUMS", `${text}\n`);
  const urls = (...sizes: number[]) => sizes.map((n) => `"${server.url}/bytes/${n}"`).join(", ");
  // Local: the plan is refused, naming the file, the name and both lines.
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: files, download: { checksums: SHA256SUMS, urls: [${
      urls(200)
    }] } }\n`,
  );
  const error = await loadPlan(`${dir.path}/jobs.yaml`, { kinds: KINDS, env: () => undefined })
    .catch((error) => error);
  assert.ok(error instanceof InvalidJobFileError, String(error));
  assert.match(
    error.message,
    /jobs\.yaml:3:\d+: jobs\[0\]\.download\.checksums \S+SHA256SUMS lists 200 twice with different sha256 digests \(lines 3 and 4\)/,
  );
  // Fetched: each job it contradicts fails at once, with no request for its file.
  await using sums = serveLoopback(() => new Response(text));
  const report = await runYaml(
    dir,
    `output: out\njobs:\n  - { name: files, download: { checksums: "${sums.url}/SUMS", urls: [${
      urls(100, 200, 300)
    }] } }\n`,
  );
  const conflict = report.job("files/200");
  assert.equal(conflict.error?.code, "CHECKSUM_CONFLICT");
  assert.equal(conflict.attempts, 1);
  assert.match(conflict.error!.message, /SUMS lists 200 twice with different sha256 digests/);
  assert.equal(server.hits.get("/bytes/200"), undefined);
  assert.equal(report.job("files/100").error?.code, "INTEGRITY", "checked with the SHA-512");
  assert.equal(report.job("files/300").status, "ok");
});

Deno.test("keep_path keeps each URL's folders, cut_dirs drops leading ones, and checksum lines match by path", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const one = `${server.url}/file/a/2024/01/data.csv?size=10`;
  const two = `${server.url}/file/a/2024/02/data.csv?size=20&cd=evil.csv`;
  await dir.write(
    "SHA256SUMS",
    `${await sha256Hex(fileBytes(10, 1))}  ./2024/01/data.csv\n` +
      `${await sha256Hex(fileBytes(20, 1))}  2024/02/data.csv\n`,
  );
  const yaml = [
    "output: out",
    "jobs:",
    `  - { name: kept, download: { keep_path: true, to: mirror/, urls: ["${one}", "${two}"], ` +
    "checksums: SHA256SUMS } }",
    `  - { name: cut, download: { keep_path: true, cut_dirs: 3, urls: ["${one}", "${two}"] } }`,
  ].join("\n");
  const first = await runYaml(dir, yaml);
  assert.equal(first.summary.ok, 4, JSON.stringify(first.jobs.map((job) => job.error)));
  assert.deepEqual(first.jobs.map((job) => [job.name, job.path]), [
    ["kept/file/a/2024/01/data.csv", "mirror/file/a/2024/01/data.csv"],
    ["kept/file/a/2024/02/data.csv", "mirror/file/a/2024/02/data.csv"],
    ["cut/01/data.csv", "01/data.csv"],
    ["cut/02/data.csv", "02/data.csv"],
  ]);
  assert.equal(first.job("kept/file/a/2024/02/data.csv").sha256, await sha256Hex(fileBytes(20, 1)));
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/02/data.csv`), fileBytes(20, 1));
  assert.equal(await exists(`${dir.path}/out/mirror/file/a/2024/02/evil.csv`), false);
  const second = await runYaml(dir, yaml);
  assert.equal(second.summary.cached, 4);
});

Deno.test("keep_path needs a folder; cut_dirs needs keep_path", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: a, download: { keep_path: true, url: http://h/x/a.bin, to: a.bin } }",
      "  - { name: b, download: { cut_dirs: 1, urls: [http://h/x/b.bin] } }",
    ].join("\n"),
  );
  const error = await loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, env: () => undefined })
    .catch((e) => e);
  assert.ok(error instanceof InvalidJobFileError);
  assert.deepEqual(error.errors.map((e) => e.message), [
    "jobs.yaml:2:39: jobs[0].download.keep_path needs `to` to be a folder (ending in /) or left out",
    "jobs.yaml:3:38: jobs[1].download.cut_dirs applies only with keep_path: true",
  ]);
});
