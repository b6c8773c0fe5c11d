/**
 * Split downloads, bandwidth limits, per-host politeness and server-given file names, through
 * the real pipeline against loopback servers.
 */
import assert from "node:assert/strict";
import { bodyBytes, fileBytes, startFaultServer } from "../../helpers/fault_server.ts";
import { exists, runYaml } from "../../helpers/run_yaml.ts";
import { tempDir } from "../../helpers/temp.ts";
import { serveLoopback } from "../../../lib/util/serve_loopback.ts";

const MiB = 2 ** 20;

Deno.test("segments: N fetches a file in N ranges at once into one verified .part", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const size = 8 * MiB + 3;
  const report = await runYaml(
    dir,
    `output: out\njobs:\n  - { name: f, download: { url: "${server.url}/file/big?size=${size}", ` +
      `to: big.bin, segments: 4, record_sha256: true } }`,
  );
  const job = report.job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.segments, 4);
  assert.equal(job.size, size);
  const ranges = server.requests.get("/file/big")!.map((headers) => headers.get("range"));
  assert.deepEqual(
    ranges.toSorted(),
    [
      "bytes=0-",
      `bytes=${Math.floor(size / 4)}-${Math.floor(size / 2) - 1}`,
      `bytes=${Math.floor(size / 2)}-${Math.floor((size * 3) / 4) - 1}`,
      `bytes=${Math.floor((size * 3) / 4)}-${size - 1}`,
    ].toSorted(),
  );
  assert.ok(server.connections.size >= 4, "one connection per range");
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/big.bin`), fileBytes(size, 1));
});

Deno.test("segments: a server that ignores ranges gets one stream", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const size = 4 * MiB;
  const report = await runYaml(
    dir,
    `output: out\njobs:\n  - { name: f, download: { url: "${server.url}/file/n?size=${size}` +
      `&norange=1", to: n.bin, segments: 8 } }`,
  );
  assert.equal(report.job("f").status, "ok");
  assert.equal(report.job("f").segments, undefined);
  assert.equal(server.hits.get("/file/n"), 1);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/n.bin`), fileBytes(size, 1));
});

Deno.test("segments: broken ranges resume each where it stopped on the next attempt", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const size = 4 * MiB;
  // The first 3 responses (the open-ended first range and two more) break half way.
  const report = await runYaml(
    dir,
    `output: out\njobs:\n  - { name: f, retries: 1, backoff: 0, download: { url: ` +
      `"${server.url}/file/s?size=${size}&cut=3", to: s.bin, segments: 4 } }`,
  );
  const job = report.job("f");
  assert.equal(job.status, "ok");
  assert.equal(job.attempts, 2);
  assert.ok((job.resumedFrom ?? 0) > 0, "the second attempt kept the ranges' bytes");
  assert.equal((job.resumedFrom ?? 0) + (job.bytes ?? 0), size);
  const second = server.requests.get("/file/s")!.slice(4).map((headers) => headers.get("if-range"));
  assert.ok(second.length > 0 && second.every((value) => value === '"s-v1"'));
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/s.bin`), fileBytes(size, 1));
  assert.equal(await exists(`${dir.path}/out/s.bin.part`), false);
});

Deno.test("a bandwidth limit holds over the run however many transfers share it", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const each = 256 * 1024;
  const report = await runYaml(
    dir,
    [
      "output: out",
      "concurrency: { io: 4, bandwidth: 1MiB/s }",
      "jobs:",
      `  - { name: f, download: { urls: [${
        [1, 2, 3, 4].map((n) => `"${server.url}/file/p${n}?size=${each}"`).join(", ")
      }] } }`,
    ].join("\n"),
  );
  assert.deepEqual(report.jobs.map((job) => job.status), ["ok", "ok", "ok", "ok"]);
  // 1 MiB at 1 MiB/s: the limit allows no less than a second (the bench measures accuracy).
  assert.ok(report.wallMs >= 950, `1 MiB at 1 MiB/s took ${report.wallMs} ms`);
});

Deno.test("per_host_interval spaces the requests to one host, redirects and retries too", async () => {
  const arrivals: number[] = [];
  let flaky = 0;
  await using server = serveLoopback((request) => {
    arrivals.push(performance.now());
    const path = new URL(request.url).pathname;
    if (path === "/hop") return Response.redirect(new URL("/a", request.url), 302);
    if (path === "/flaky" && flaky++ === 0) return new Response("busy", { status: 503 });
    return new Response(bodyBytes(10));
  });
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    [
      "output: out",
      "concurrency: { io: 8, per_host_interval: 150ms }",
      "jobs:",
      `  - { name: f, retries: 1, backoff: 0, download: { urls: ["${server.url}/hop", ` +
      `"${server.url}/b", "${server.url}/flaky"] } }`,
    ].join("\n"),
  );
  assert.deepEqual(report.jobs.map((job) => job.status), ["ok", "ok", "ok"]);
  assert.equal(arrivals.length, 5, "a redirect hop, two files, a 503 and its retry");
  const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
  assert.ok(gaps.every((gap) => gap >= 140), `gaps between requests: ${gaps.map(Math.round)}`);
});

Deno.test("a server's Content-Disposition names the file when the job file gave no name", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const yaml = [
    "output: out",
    "jobs:",
    `  - { name: dl, download: { url: "${server.url}/file/get?size=1000&cd=../report 2026.pdf" } }`,
    `  - { name: named, download: { url: "${server.url}/file/get2?size=10&cd=x.pdf", to: mine.bin } }`,
  ].join("\n");
  const report = await runYaml(dir, yaml);
  assert.equal(report.job("dl").path, "report 2026.pdf");
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/report 2026.pdf`), fileBytes(1000, 1));
  assert.equal(await exists(`${dir.path}/out/get`), false);
  assert.equal(report.job("named").path, "mine.bin", "a name in the job file wins");
  const again = await runYaml(dir, yaml);
  assert.equal(again.job("dl").cached, "not-modified", "the next run knows the file by its name");
  assert.equal(again.job("dl").path, "report 2026.pdf");
});

Deno.test("a server-given name that another download's file has fails as NAME_CLASH", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    [
      "output: out",
      "jobs:",
      `  - { name: mine, download: { url: "${server.url}/file/one?size=10", to: taken.bin } }`,
      `  - name: theirs`,
      `    needs: [mine]`,
      `    download: { url: "${server.url}/file/two?size=20&cd=taken.bin" }`,
      `  - { name: a, needs: [mine], download: { url: "${server.url}/file/a?size=5&cd=same.bin" } }`,
      `  - { name: b, needs: [a], download: { url: "${server.url}/file/b?size=6&cd=same.bin" } }`,
    ].join("\n"),
  );
  assert.equal(report.job("theirs").error?.code, "NAME_CLASH");
  assert.match(
    report.job("theirs").error!.message,
    /taken\.bin .*which is the file of the job mine/,
  );
  assert.equal(report.job("b").error?.code, "NAME_CLASH");
  assert.match(report.job("b").error!.message, /same\.bin .*which a wrote in this run/);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/taken.bin`), fileBytes(10, 1));
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/same.bin`), fileBytes(5, 1));
});

Deno.test("a server-given name that a later job's file or the run's report has fails as NAME_CLASH", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    [
      "output: out",
      "jobs:",
      `  - { name: first, download: { url: "${server.url}/file/one?size=20&cd=later.bin" } }`,
      `  - name: later`,
      `    needs: [first]`,
      `    download: { url: "${server.url}/file/two?size=10", to: later.bin }`,
      `  - { name: rep, download: { url: "${server.url}/file/r?size=30&cd=report.json" } }`,
    ].join("\n"),
  );
  assert.equal(report.job("first").error?.code, "NAME_CLASH");
  assert.match(
    report.job("first").error!.message,
    /later\.bin .*which is the file of the job later/,
  );
  assert.equal(report.job("rep").error?.code, "NAME_CLASH");
  assert.match(report.job("rep").error!.message, /which is the run's report/);
  assert.equal(report.job("later").status, "skipped");
  assert.equal(await exists(`${dir.path}/out/later.bin`), false, "first wrote nothing");
  assert.equal(report.jobs.length, 3, "report.json is the run's report");
  // A file an earlier run's download wrote, by a job this file no longer has.
  await runYaml(
    dir,
    `output: out\njobs:\n  - { name: x, download: { url: "${server.url}/file/two?size=10", to: later.bin } }\n`,
  );
  const again = await runYaml(
    dir,
    `output: out\njobs:\n  - { name: first, download: { url: "${server.url}/file/one?size=20&cd=later.bin" } }\n`,
  );
  assert.equal(again.job("first").error?.code, "NAME_CLASH");
  assert.match(again.job("first").error!.message, /later\.bin .*the download of .*file\/two/);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/later.bin`), fileBytes(10, 1));
  // An output that holds the job file.
  const yaml =
    `output: .\njobs:\n  - { name: j, download: { url: "${server.url}/file/j?size=7&cd=jobs.yaml" } }\n`;
  const own = await runYaml(dir, yaml);
  assert.equal(own.job("j").error?.code, "NAME_CLASH");
  assert.match(own.job("j").error!.message, /jobs\.yaml .*which is the job file/);
  assert.equal(await Deno.readTextFile(`${dir.path}/jobs.yaml`), yaml);
});

Deno.test("a target folder removed while the run goes on is made again by the next attempt", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    [
      "output: out",
      "jobs:",
      `  - { name: a, download: { url: "${server.url}/bytes/10", to: sub/a.bin } }`,
      `  - { name: rm, needs: [a], run: [rm, -rf, out/sub] }`,
      `  - { name: c, needs: [rm], backoff: 0, download: { url: "${server.url}/bytes/20", to: sub/c.bin } }`,
    ].join("\n"),
  );
  const c = report.job("c");
  assert.equal(c.status, "ok");
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/sub/c.bin`), bodyBytes(20));
});
