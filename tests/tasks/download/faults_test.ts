/**
 * Faults a download survives, each through the whole pipeline against the fault server:
 * retries by status, Retry-After and max_wait, per-host back-off, idle and attempt timeouts,
 * broken bodies, bad gzip, max_bytes, redirects and checksums.
 */
import assert from "node:assert/strict";
import { bodyBytes, sha256Hex, startFaultServer } from "../../helpers/fault_server.ts";
import { startRawServer } from "../../helpers/raw_server.ts";
import { exists, runYaml } from "../../helpers/run_yaml.ts";
import { tempDir } from "../../helpers/temp.ts";

/** A job file with one download job per entry. */
function jobFile(
  jobs: { name: string; url: string; extra?: string; download?: string }[],
  head = "concurrency: { io: 8, per_host: 8 }",
): string {
  return [
    head,
    "output: out",
    "jobs:",
    ...jobs.map(({ name, url, extra = "", download = "" }) =>
      `  - { name: ${name}, download: { url: "${url}", to: ${name}.bin${
        download ? `, ${download}` : ""
      } }${extra ? `, ${extra}` : ""} }`
    ),
  ].join("\n");
}

Deno.test("downloads retry 408, 425, 429 and 5xx with each failed attempt reported, never other 4xx", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const retryable = [408, 425, 429, 500, 502, 503, 504];
  const final = [400, 401, 403, 404, 410];
  const report = await runYaml(
    dir,
    jobFile([
      ...retryable.map((status) => ({
        name: `r${status}`,
        url: `${server.url}/flaky/${status}?fail=1&status=${status}`,
        extra: "retries: 1, backoff: 0",
      })),
      ...final.map((status) => ({
        name: `f${status}`,
        url: `${server.url}/status/${status}`,
        extra: "retries: 3, backoff: 0",
      })),
    ]),
  );
  for (const status of retryable) {
    const job = report.job(`r${status}`);
    assert.equal(job.status, "ok", `HTTP ${status} is retried`);
    assert.equal(job.attempts, 2);
    assert.equal(job.attemptLog[0]?.error?.code, `HTTP_${status}`);
    assert.equal(job.attemptLog[1]?.error, undefined);
  }
  for (const status of final) {
    const job = report.job(`f${status}`);
    assert.equal(job.status, "failed");
    assert.equal(job.attempts, 1, `HTTP ${status} is not retried`);
    assert.equal(job.error?.code, `HTTP_${status}`);
    assert.match(
      job.error!.message,
      new RegExp(`/status/${status} answered HTTP ${status}: "status`),
    );
  }
});

Deno.test("Retry-After in seconds and as an HTTP date delays the next attempt", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([
      {
        name: "seconds",
        url: `${server.url}/flaky/s?fail=1&status=429&after=1`,
        extra: "retries: 1, backoff: 0",
      },
      {
        name: "date",
        url: `${server.url}/flaky/d?fail=1&status=503&after_date=2`,
        extra: "retries: 1, backoff: 0",
      },
    ]),
  );
  for (const name of ["seconds", "date"]) {
    const job = report.job(name);
    assert.equal(job.status, "ok");
    const [first, second] = job.attemptLog;
    assert.ok(first!.retryDelayMs! >= 950, `${name}: waited ${first!.retryDelayMs} ms`);
    assert.ok(second!.startMs - first!.endMs >= 950, `${name}: next attempt came too soon`);
    assert.match(first!.error!.message, /Retry-After \d/);
  }
});

Deno.test("a Retry-After beyond max_wait fails the job at once, with no attempt against it", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([{
      name: "day",
      url: `${server.url}/flaky/day?fail=1&status=503&after=86400`,
      extra: "retries: 1, backoff: 0",
      download: "max_wait: 200ms",
    }]),
  );
  const job = report.job("day");
  assert.equal(job.status, "failed");
  assert.equal(job.attempts, 1);
  assert.equal(job.error?.code, "RETRY_LATER");
  assert.match(job.error!.message, /server asked to retry after 24h, more than max_wait 200ms$/);
});

Deno.test("a 429 pauses the whole host, not only its job; other hosts go on", async () => {
  await using server = startFaultServer();
  await using other = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([
      {
        name: "a",
        url: `${server.url}/flaky/a?fail=1&status=429&after=1`,
        extra: "retries: 1, backoff: 0",
      },
      { name: "b", url: `${server.url}/bytes/10` },
      { name: "c", url: `${other.url}/bytes/10` },
    ], "concurrency: { io: 4, per_host: 1 }"),
  );
  const pushedBack = report.job("a").attemptLog[0]!.endMs;
  const b = report.job("b");
  const c = report.job("c");
  assert.equal(b.status, "ok");
  assert.ok(
    b.startMs! - pushedBack >= 950,
    `b started ${b.startMs! - pushedBack} ms after the 429`,
  );
  assert.ok(c.startMs! < pushedBack + 500, "another host is not paused");
});

Deno.test("idle_timeout fails a stalled, a silent and a slow-drip transfer; timeout bounds an attempt", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([
      {
        name: "stall",
        url: `${server.url}/stall`,
        extra: "retries: 0",
        download: "idle_timeout: 200ms",
      },
      {
        name: "silent",
        url: `${server.url}/hold/never`,
        extra: "retries: 0",
        download: "idle_timeout: 200ms",
      },
      {
        name: "drip",
        url: `${server.url}/drip`,
        extra: "retries: 0",
        download: "idle_timeout: 300ms",
      },
      {
        name: "slow",
        url: `${server.url}/drip`,
        extra: "retries: 0, timeout: 300ms",
        download: "idle_timeout: 0",
      },
    ]),
  );
  for (const name of ["stall", "silent", "drip"]) {
    const job = report.job(name);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.code, "IDLE_TIMEOUT", name);
  }
  assert.match(report.job("stall").error!.message, /no data in 200ms \(idle_timeout\)/);
  assert.match(report.job("drip").error!.message, /only \d+ bytes in 300ms/);
  assert.equal(report.job("slow").error?.code, "TIMEOUT");
  for (const name of ["stall", "silent", "drip", "slow"]) {
    assert.equal(await exists(`${dir.path}/out/${name}.bin`), false);
  }
});

Deno.test("a short body and a bad gzip stream are retried and never renamed into place", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([
      {
        name: "short",
        url: `${server.url}/file/short?size=50000&cut=1&etag=0&lm=0`,
        extra: "retries: 1, backoff: 0",
      },
      // Bodies up to SMALL_BODY are read whole, larger ones piped: both paths are covered.
      {
        name: "short-big",
        url: `${server.url}/file/short-big?size=300000&cut=1&etag=0&lm=0`,
        extra: "retries: 1, backoff: 0",
      },
      { name: "gzip", url: `${server.url}/gzip/g?fail=1`, extra: "retries: 1, backoff: 0" },
      { name: "short-once", url: `${server.url}/short/10000`, extra: "retries: 0" },
      { name: "short-big-once", url: `${server.url}/short/300000`, extra: "retries: 0" },
      { name: "gzip-once", url: `${server.url}/gzip/h?fail=1`, extra: "retries: 0" },
    ]),
  );
  for (const name of ["short", "short-big", "gzip"]) {
    assert.equal(report.job(name).status, "ok");
    assert.equal(report.job(name).attempts, 2);
  }
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/gzip.bin`), bodyBytes(1000));
  for (const name of ["short-once", "short-big-once", "gzip-once"]) {
    assert.equal(report.job(name).status, "failed");
    assert.equal(await exists(`${dir.path}/out/${name}.bin`), false);
    // No validator to resume with (and gzip is never resumed): the .part goes too.
    assert.equal(await exists(`${dir.path}/out/${name}.bin.part`), false);
  }
  // A body that does not decode is the server's fault, said with its URL.
  const gzip = report.job("gzip-once").error!;
  assert.equal(gzip.code, "PROTOCOL");
  assert.match(gzip.message, /^GET http:\S+\/gzip\/h\?fail=1: its gzip body does not decode: /);
});

Deno.test("max_bytes stops an endless body and refuses a declared length over it", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([
      { name: "endless", url: `${server.url}/endless`, download: "max_bytes: 1MiB" },
      { name: "declared", url: `${server.url}/bytes/5000`, download: "max_bytes: 1000" },
    ]),
  );
  for (const name of ["endless", "declared"]) {
    const job = report.job(name);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.code, "TOO_LARGE");
    assert.equal(job.attempts, 1, "retrying cannot help");
    assert.equal(await exists(`${dir.path}/out/${name}.bin`), false);
    assert.equal(await exists(`${dir.path}/out/${name}.bin.part`), false);
  }
  assert.match(report.job("endless").error!.message, /sent more than 1\.0 MiB/);
  assert.match(report.job("declared").error!.message, /declares 4\.9 KiB/);
});

Deno.test("redirects are followed up to 10 and reported; loops, 11 hops and non-http targets fail", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const report = await runYaml(
    dir,
    jobFile([
      { name: "three", url: `${server.url}/redirect/3` },
      { name: "ten", url: `${server.url}/redirect/10` },
      { name: "eleven", url: `${server.url}/redirect/11` },
      { name: "loop", url: `${server.url}/loop/A` },
      { name: "file", url: `${server.url}/to?url=file:///etc/passwd` },
    ]),
  );
  assert.equal(report.job("three").status, "ok");
  assert.deepEqual(report.job("three").redirects, [
    `${server.url}/redirect/2`,
    `${server.url}/redirect/1`,
    `${server.url}/redirect/0`,
  ]);
  assert.equal(report.job("ten").redirects?.length, 10);
  for (const name of ["eleven", "loop", "file"]) {
    assert.equal(report.job(name).status, "failed");
    assert.equal(report.job(name).error?.code, "REDIRECT");
    assert.equal(report.job(name).attempts, 1);
  }
  assert.match(report.job("eleven").error!.message, /more than 10 redirects/);
  assert.match(
    report.job("loop").error!.message,
    /redirect loop: .*\/loop\/A -> .*\/loop\/B -> .*\/loop\/A/,
  );
  assert.match(
    report.job("file").error!.message,
    /redirected to file: \(only http\(s\) is followed\)/,
  );
});

Deno.test("sha256 and sha512 are verified before the rename", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  const bytes = bodyBytes(2000);
  const sha512 = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-512", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const report = await runYaml(
    dir,
    jobFile([
      { name: "good", url: `${server.url}/bytes/2000`, download: `sha512: ${sha512}` },
      {
        name: "bad",
        url: `${server.url}/bytes/2000`,
        download: `sha512: "${"0".repeat(128)}"`,
        extra: "retries: 0",
      },
      {
        name: "both",
        url: `${server.url}/bytes/2000`,
        download: `sha256: ${await sha256Hex(bytes)}, sha512: ${sha512}`,
      },
    ]),
  );
  assert.equal(report.job("good").status, "ok");
  assert.equal(report.job("both").status, "ok");
  assert.equal(report.job("bad").error?.code, "INTEGRITY");
  assert.match(report.job("bad").error!.message, /sha512 mismatch/);
  assert.equal(await exists(`${dir.path}/out/bad.bin`), false);
  assert.equal(await exists(`${dir.path}/out/bad.bin.part`), false);
});

Deno.test("a malformed HTTP answer fails as PROTOCOL, is retried, and leaves no file", async () => {
  await using server = startRawServer(async ({ send, count }) => {
    // The first two answers' heads are not HTTP (one per run below); the third one is.
    await send(
      count <= 2
        ? "HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok"
        : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    );
    return "close";
  });
  await using dir = await tempDir();
  const yaml = (retries: number) =>
    `output: out\njobs:\n  - { name: odd, download: { url: '${server.url}/a', to: a.bin }, retries: ${retries}, backoff: 1ms }\n`;
  const failed = await runYaml(dir, yaml(0));
  const job = failed.job("odd");
  assert.equal(job.status, "failed");
  assert.equal(job.error?.code, "PROTOCOL");
  assert.match(job.error!.message, /not an HTTP\/1\.x status line: "HTTP\/1\.1 2OO OK"/);
  assert.equal(await exists(`${dir.path}/out/a.bin`), false);
  const retried = await runYaml(dir, yaml(1));
  assert.equal(retried.job("odd").status, "ok");
  assert.equal(retried.job("odd").attempts, 2, "a malformed answer is worth another attempt");
  assert.equal(await Deno.readTextFile(`${dir.path}/out/a.bin`), "ok");
});
