/**
 * Repeated runs (cached by checksum or by a 304), --force, headers with secrets kept out of
 * the report, the per-host limit and connection reuse.
 */
import assert from "node:assert/strict";
import { bodyBytes, fileBytes, sha256Hex, startFaultServer } from "../../helpers/fault_server.ts";
import { runYaml } from "../../helpers/run_yaml.ts";
import { tempDir } from "../../helpers/temp.ts";

Deno.test("a second run downloads nothing that has not changed: 304s and checksum matches are cached", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const sha256 = await sha256Hex(bodyBytes(5000));
  const yaml = [
    "output: out",
    "jobs:",
    `  - { name: etag, download: { url: "${server.url}/file/e?size=30000", to: e.bin } }`,
    `  - { name: date, download: { url: "${server.url}/file/d?size=30000&etag=0", to: d.bin } }`,
    `  - { name: sum, download: { url: "${server.url}/bytes/5000", to: s.bin, sha256: ${sha256} } }`,
    `  - { name: after, needs: [etag], run: [test, -s, e.bin], cwd: out }`,
  ].join("\n");
  const first = await runYaml(dir, yaml);
  assert.equal(first.summary.ok, 4);
  assert.equal(first.summary.bytes, 65_000);

  const second = await runYaml(dir, yaml);
  assert.equal(second.exitCode, 0);
  assert.equal(second.summary.bytes, 0, "nothing downloaded again");
  assert.equal(second.summary.cached, 3);
  assert.equal(second.job("after").status, "ok", "a cached job satisfies its dependents");
  assert.equal(second.job("etag").cached, "not-modified");
  assert.equal(second.job("date").cached, "not-modified");
  assert.equal(second.job("sum").cached, "checksum");
  assert.equal(second.job("etag").size, 30_000);
  assert.equal(server.requests.get("/file/e")![1]!.get("if-none-match"), '"e-v1"');
  assert.equal(
    server.requests.get("/file/d")![1]!.get("if-modified-since"),
    new Date(Date.UTC(2026, 0, 1)).toUTCString(),
  );
  assert.equal(server.hits.get("/bytes/5000"), 1, "a checksum match needs no request");
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/e.bin`), fileBytes(30_000, 1));
});

Deno.test("a changed file, a file edited on disk and --force are downloaded again", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const yaml = [
    "output: out",
    "jobs:",
    `  - { name: changed, download: { url: "${server.url}/file/c?size=1000", to: c.bin } }`,
    `  - { name: edited, download: { url: "${server.url}/file/x?size=1000", to: x.bin } }`,
  ].join("\n");
  await runYaml(dir, yaml);
  server.bump("c");
  await Deno.writeTextFile(`${dir.path}/out/x.bin`, "edited by hand");

  const second = await runYaml(dir, yaml);
  assert.equal(second.job("changed").status, "ok");
  assert.equal(second.job("changed").bytes, 1000);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/c.bin`), fileBytes(1000, 2));
  assert.equal(second.job("edited").status, "ok");
  assert.equal(server.requests.get("/file/x")![1]!.get("if-none-match"), null);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/x.bin`), fileBytes(1000, 1));

  const forced = await runYaml(dir, yaml, { force: true });
  assert.equal(forced.summary.cached, 0);
  assert.equal(forced.summary.bytes, 2000);
  assert.equal(server.requests.get("/file/c")![2]!.get("if-none-match"), null);
});

Deno.test("remote_time gives a file its server's Last-Modified time, as curl -R does; a second run finds it current", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const version1 = Date.UTC(2026, 0, 1);
  const yaml = [
    "output: out",
    "defaults: { download: { remote_time: true } }",
    "jobs:",
    `  - { name: one, download: { url: "${server.url}/file/r?size=3000", to: r.bin } }`,
    `  - { name: split, download: { url: "${server.url}/file/s?size=3000000", to: s.bin, segments: 3 } }`,
    `  - { name: undated, download: { url: "${server.url}/file/u?size=10&lm=0", to: u.bin } }`,
    `  - { name: own, download: { url: "${server.url}/file/o?size=10", to: o.bin, remote_time: false } }`,
  ].join("\n");
  const started = Date.now();
  const first = await runYaml(dir, yaml);
  assert.equal(first.summary.ok, 4);
  const mtime = (name: string) => Deno.statSync(`${dir.path}/out/${name}`).mtime!.getTime();
  assert.equal(mtime("r.bin"), version1);
  assert.equal(mtime("s.bin"), version1, "a split download too");
  assert.ok(mtime("u.bin") >= started - 1000, "no Last-Modified: the file keeps its own time");
  assert.ok(mtime("o.bin") >= started - 1000, "remote_time: false in the job wins");
  const second = await runYaml(dir, yaml);
  assert.equal(second.summary.cached, 4);
  server.bump("r");
  const third = await runYaml(dir, yaml);
  assert.equal(third.job("one").status, "ok");
  assert.equal(mtime("r.bin"), Date.UTC(2026, 0, 2));
});

Deno.test("remote_time with a date the file system cannot keep (year 9999, 1900) still finds the file current next time", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const dates = ["Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 00:00:00 GMT"];
  const yaml = [
    "output: out",
    "defaults: { download: { remote_time: true } }",
    "jobs:",
    ...dates.map((date, i) =>
      `  - { name: d${i}, download: { url: "${server.url}/file/d${i}?size=10&etag=0&lm=${
        encodeURIComponent(date)
      }", to: d${i}.bin } }`
    ),
  ].join("\n");
  const first = await runYaml(dir, yaml);
  assert.equal(first.summary.ok, 2);
  const second = await runYaml(dir, yaml);
  assert.equal(
    second.summary.cached,
    2,
    "known by the time the file system kept, not the one asked",
  );
  assert.equal(second.job("d0").cached, "not-modified");
  assert.equal(server.requests.get("/file/d0")![1]!.get("if-modified-since"), dates[0]);
});

Deno.test("headers take ${VAR} from the environment; secrets stay out of the report and other origins", async () => {
  await using server = startFaultServer();
  await using other = startFaultServer();
  await using dir = await tempDir();
  const secret = "s3cr3t-t0ken-value";
  const yaml = [
    "output: out",
    "defaults:",
    "  download:",
    '    headers: { Authorization: "Bearer ${TOKEN}", Accept: "application/octet-stream" }',
    "jobs:",
    `  - name: ok`,
    `    download: { url: "${server.url}/bytes/10", headers: { X-Trace: "t-1" } }`,
    `  - name: echo`,
    `    download: { url: "${server.url}/status/500?echo=authorization", to: echo.bin }`,
    `    retries: 0`,
    `  - name: away`,
    `    download: { url: "${server.url}/to?url=${other.url}/bytes/20", to: away.bin }`,
  ].join("\n");
  const report = await runYaml(dir, yaml, { env: { TOKEN: secret } });
  const sent = server.requests.get("/bytes/10")![0]!;
  assert.equal(sent.get("authorization"), `Bearer ${secret}`);
  assert.equal(sent.get("accept"), "application/octet-stream");
  assert.equal(sent.get("x-trace"), "t-1");
  assert.deepEqual(report.job("ok").headers, {
    Authorization: "***",
    Accept: "application/octet-stream",
    "X-Trace": "t-1",
  });
  assert.match(report.job("echo").error!.message, /you sent authorization: \*\*\*\)/);
  assert.equal(report.job("away").status, "ok");
  const crossed = other.requests.get("/bytes/20")![0]!;
  assert.equal(crossed.get("authorization"), null, "no credentials to another origin");
  assert.equal(crossed.get("accept"), "application/octet-stream");
  const written = await Deno.readTextFile(`${dir.path}/out/report.json`);
  assert.equal(written.includes(secret), false);
  const state = await Deno.readTextFile(`${dir.path}/out/.taskpool/state.json`);
  assert.equal(state.includes(secret), false);
});

Deno.test("concurrency.per_host and concurrency.io are both honoured", async () => {
  await using server = startFaultServer();
  await using other = startFaultServer();
  await using dir = await tempDir();
  const yaml = [
    "output: out",
    "concurrency: { io: 3, per_host: 2 }",
    "jobs:",
    `  - name: a`,
    `    download: { urls: [${
      [1, 2, 3, 4, 5, 6].map((i) => `"${server.url}/together/a/${i}?n=2"`).join(", ")
    }] }`,
    `  - name: b`,
    `    download: { urls: [${
      [1, 2].map((i) => `"${other.url}/together/b/${i}?n=1"`).join(", ")
    }], to: b/ }`,
  ].join("\n");
  const report = await runYaml(dir, yaml);
  assert.equal(report.summary.ok, 8);
  assert.equal(server.mostInFlight.get("a"), 2);
  const lanes = new Set(report.jobs.map((job) => job.lane));
  assert.ok(lanes.size <= 3, `io limit: lanes ${[...lanes]}`);
});

Deno.test("downloads to one host reuse one connection (keep-alive)", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const urls = Array.from({ length: 10 }, (_, i) => `"${server.url}/bytes/${1000 + i}"`);
  const report = await runYaml(
    dir,
    `output: out\nconcurrency: { io: 1 }\njobs:\n  - { name: k, download: { urls: [${urls}] } }\n`,
  );
  assert.equal(report.summary.ok, 10);
  assert.equal(server.connections.size, 1);
});
