/**
 * The download features curl, wget and aria2 users reach for, through the real CLI in a
 * subprocess (the sandboxed child included): `--limit-rate`, logins from a netrc file, private
 * certificate authorities (`tls.ca` and `DENO_CERT`), and the bad input each may get.
 */
import assert from "node:assert/strict";
import { bodyBytes, startFaultServer } from "../helpers/fault_server.ts";
import { cli } from "../helpers/cli.ts";
import { tempDir, textsUnder } from "../helpers/temp.ts";
import { serveLoopback } from "../../lib/util/serve_loopback.ts";
import type { Report } from "../../lib/report/types.ts";
import { makeCa } from "../helpers/tls.ts";

async function reportOf(dir: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${dir}/out/report.json`));
}

Deno.test("a host's login comes from NETRC, is sent, and is written nowhere", async () => {
  const password = "n3trc-s3cret";
  const seen: (string | null)[] = [];
  await using server = serveLoopback((request) => {
    seen.push(request.headers.get("authorization"));
    return request.headers.get("authorization") === `Basic ${btoa(`robot:${password}`)}`
      ? new Response(bodyBytes(32))
      : new Response("who are you?", { status: 401 });
  });
  await using dir = await tempDir();
  const netrc = await dir.write(
    "netrc",
    `machine 127.0.0.1\n  login robot\n  password ${password}\n`,
  );
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: f, download: { url: "${server.url}/f.bin" } }\n`,
  );
  const env = { NETRC: netrc };
  const plan = await cli(["plan", "--json", "jobs.yaml"], { cwd: dir.path, env });
  const run = await cli(["run", "jobs.yaml", "--json"], { cwd: dir.path, env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/f.bin`), bodyBytes(32));
  assert.equal(seen.length, 1);
  for await (const [path, text] of textsUnder(`${dir.path}/out`)) {
    assert.ok(!text.includes(password) && !text.includes(btoa(`robot:${password}`)), path);
  }
  for (const output of [plan.stdout, plan.stderr, run.stdout, run.stderr]) {
    assert.ok(!output.includes(password));
  }
  // Without the file, no login: the server refuses.
  const without = await cli(["run", "jobs.yaml", "--force", "--json"], {
    cwd: dir.path,
    env: { NETRC: `${dir.path}/none` },
  });
  assert.equal(without.code, 1);
  assert.equal(seen.at(-1), null);
});

Deno.test("tls.ca and DENO_CERT trust a private CA; without them the server is refused", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/pki`);
  const { cert, key } = await makeCa(`${dir.path}/pki`);
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    signal: controller.signal,
    onListen: () => {},
  }, () => new Response(bodyBytes(100)));
  try {
    const url = `https://127.0.0.1:${server.addr.port}/secure.bin`;
    const job = `  - { name: f, retries: 0, download: { url: "${url}" } }`;
    await dir.write("trusting.yaml", `output: out\ntls: { ca: [pki/ca.pem] }\njobs:\n${job}\n`);
    await dir.write("plain.yaml", `output: out\njobs:\n${job}\n`);

    const trusting = await cli(["run", "trusting.yaml"], { cwd: dir.path });
    assert.equal(trusting.code, 0, trusting.stderr);
    assert.deepEqual(await Deno.readFile(`${dir.path}/out/secure.bin`), bodyBytes(100));

    const plain = await cli(["run", "plain.yaml", "--force"], { cwd: dir.path });
    assert.equal(plain.code, 1);
    assert.match(
      (await reportOf(dir.path)).jobs[0]!.error!.message,
      /UnknownIssuer \(no authority taskpool trusts signed the server's certificate: name the one that did in the job file's `tls: \{ ca: \[ca\.pem\] \}`, or in DENO_CERT\)$/,
    );

    const viaEnv = await cli(["run", "plain.yaml", "--force"], {
      cwd: dir.path,
      env: { DENO_CERT: `${dir.path}/pki/ca.pem` },
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("--limit-rate paces a run and bad rates, mirrors and checksum files exit 2", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    `output: out\njobs:\n  - { name: f, download: { url: "${server.url}/file/a?size=262144" } }\n`,
  );
  const limited = await cli(["run", "jobs.yaml", "--limit-rate", "512k", "--json"], {
    cwd: dir.path,
  });
  assert.equal(limited.code, 0, limited.stderr);
  assert.ok((await reportOf(dir.path)).wallMs >= 450, "256 KiB at 512 KiB/s");

  const badFlag = await cli(["run", "jobs.yaml", "--limit-rate", "fast"], { cwd: dir.path });
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--limit-rate must be a rate such as 500KiB\/s/);

  await dir.write("SUMS", "not a checksum line\n");
  await dir.write(
    "bad.yaml",
    [
      "concurrency: { bandwidth: 4 MiB per second }",
      "jobs:",
      `  - { name: a, download: { url: "${server.url}/a", checksums: SUMS } }`,
      `  - { name: b, download: { url: "${server.url}/b", checksums: MISSING } }`,
    ].join("\n"),
  );
  const bad = await cli(["validate", "bad.yaml"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad\.yaml:1:27: concurrency\.bandwidth must be a rate/);
  await dir.write(
    "bad.yaml",
    [
      "jobs:",
      `  - { name: a, download: { url: "${server.url}/a", checksums: SUMS } }`,
      `  - { name: b, download: { url: "${server.url}/b", checksums: MISSING } }`,
    ].join("\n"),
  );
  const sums = await cli(["validate", "bad.yaml"], { cwd: dir.path });
  assert.equal(sums.code, 2);
  assert.match(sums.stderr, /bad\.yaml:2:\d+: jobs\[0\]\.download\.checksums .*SUMS has no usable/);
  assert.match(sums.stderr, /bad\.yaml:3:\d+: jobs\[1\]\.download\.checksums cannot read/);
});

Deno.test("the sandboxed run may reach every mirror's host and the checksum file's", async () => {
  await using first = startFaultServer();
  await using mirror = startFaultServer();
  const digest = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bodyBytes(64))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  await using sums = serveLoopback(() => new Response(`${digest}  64\n`));
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      `  - { name: f, retries: 0, download: { url: "${first.url}/status/503", to: "64", ` +
      `mirrors: ["${mirror.url}/bytes/64"], checksums: "${sums.url}/SHA256SUMS" } }`,
    ].join("\n"),
  );
  const plan = await cli(["plan", "--json", "jobs.yaml"], { cwd: dir.path });
  const net: string = JSON.parse(plan.stdout).permissions.flags.find((flag: string) =>
    flag.startsWith("--allow-net=")
  );
  for (const server of [first, mirror, sums]) assert.ok(net.includes(new URL(server.url).host));
  const run = await cli(["run", "jobs.yaml"], { cwd: dir.path });
  assert.equal(run.code, 0, run.stderr);
  const [job] = (await reportOf(dir.path)).jobs;
  assert.equal(job!.servedBy, `${mirror.url}/bytes/64`);
  assert.equal(job!.sha256, digest);
});

Deno.test("urls_from takes aria2's input lines: TAB-separated mirrors, out= and checksum= under a URL", async () => {
  await using server = startFaultServer();
  await using mirror = startFaultServer();
  await using dir = await tempDir();
  const sha256 = async (bytes: Uint8Array<ArrayBuffer>) =>
    Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  await dir.write(
    "list.txt",
    [
      "# names, sources and digests as aria2 -i reads them",
      `${server.url}/bytes/64`,
      "  out=reports/march.csv",
      `  checksum=sha-256=${await sha256(bodyBytes(64))}`,
      `${server.url}/status/503\t${mirror.url}/bytes/32`,
      "  out=from-mirror.bin",
      `${server.url}/bytes/16`,
      `  checksum=sha-256=${"0".repeat(64)}`,
      `${server.url}/bytes/8`,
    ].join("\n"),
  );
  await dir.write(
    "jobs.yaml",
    "output: out\njobs:\n  - { name: f, retries: 0, download: { urls_from: list.txt, to: got/ } }\n",
  );
  const run = await cli(["run", "jobs.yaml", "-q"], { cwd: dir.path });
  assert.equal(run.code, 1, run.stderr);
  const byName = new Map((await reportOf(dir.path)).jobs.map((job) => [job.name, job]));
  assert.deepEqual([...byName.keys()], ["f/reports/march.csv", "f/from-mirror.bin", "f/16", "f/8"]);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/got/reports/march.csv`), bodyBytes(64));
  assert.equal(byName.get("f/from-mirror.bin")!.servedBy, `${mirror.url}/bytes/32`);
  assert.deepEqual(await Deno.readFile(`${dir.path}/out/got/from-mirror.bin`), bodyBytes(32));
  // The list's digest is the file's: a body that does not match is not kept.
  assert.equal(byName.get("f/16")!.error?.code, "INTEGRITY");
  assert.equal(await Deno.stat(`${dir.path}/out/got/16`).then(() => true, () => false), false);
  assert.equal(byName.get("f/8")!.status, "ok");

  // Bad lines: exit 2, each named by the list's line, nothing run.
  await dir.write(
    "bad.txt",
    [
      "  out=orphan.bin",
      `${server.url}/bytes/1`,
      "  out=../up.bin",
      `${server.url}/bytes/2`,
      "  dir=/tmp",
      "  checksum=md5=00",
      `${server.url}/bytes/3`,
      "  out=same.bin",
      `${server.url}/bytes/4`,
      "  out=same.bin",
    ].join("\n"),
  );
  await dir.write(
    "bad.yaml",
    "output: bad\njobs:\n  - { name: f, download: { urls_from: bad.txt, to: got/ } }\n",
  );
  const bad = await cli(["run", "bad.yaml"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  for (
    const expected of [
      /bad\.txt:1 gives out= with no URL above it/,
      /bad\.txt:3 out= must not contain "\.\.": got "\.\.\/up\.bin"/,
      /bad\.txt:5 has an option taskpool does not take: dir= \(it takes out= and checksum=\)/,
      /bad\.txt:6 checksum= must be sha-256=HEX or sha-512=HEX: got "md5=00"/,
      /bad\.txt:10 gives the file name same\.bin, as line 8 does .*: give one another out=/,
    ]
  ) assert.match(bad.stderr, expected);
  assert.equal(await Deno.stat(`${dir.path}/bad`).then(() => true, () => false), false);
});
