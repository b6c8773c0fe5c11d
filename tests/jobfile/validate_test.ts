import assert from "node:assert/strict";
import { InvalidJobFileError } from "../../lib/jobfile/errors.ts";
import { parseJobFileText } from "../../lib/jobfile/parse.ts";
import { validateJobFile } from "../../lib/jobfile/validate.ts";
import { KINDS } from "../../tasks/mod.ts";

const noEnv = () => undefined;

function errorsOf(text: string, env: (name: string) => string | undefined = noEnv): string[] {
  try {
    validateJobFile(parseJobFileText(text, "jobs.yaml"), { kinds: KINDS, env });
  } catch (error) {
    assert.ok(error instanceof InvalidJobFileError, String(error));
    return error.errors.map((e) => e.message);
  }
  assert.fail("expected the job file to be rejected");
}

Deno.test("validateJobFile() applies defaults and converts durations", () => {
  const file = validateJobFile(
    parseJobFileText(
      [
        "defaults: { retries: 3, timeout: 1m30s }",
        "jobs:",
        "  - name: a",
        "    download: { url: 'https://example.com/a.png', sha256: " + "AB".repeat(32) + " }",
        "    timeout: 2.5",
        "  - name: b",
        "    compute: { module: ./w.ts }",
        "    needs: [a]",
      ].join("\n"),
      "jobs.yaml",
    ),
    { kinds: KINDS, env: noEnv },
  );
  assert.equal(file.output, "downloads");
  assert.deepEqual(file.concurrency, { io: 16, cpu: "auto", per_host: 8 });
  assert.deepEqual(file.defaults, { retries: 3, timeout: 90_000, download: {} });
  assert.equal(file.jobs[0]?.timeout, 2500);
  assert.equal((file.jobs[0]?.download as { sha256?: string })?.sha256, "ab".repeat(32));
  assert.deepEqual(file.jobs[1]?.compute, { module: "./w.ts", export: "default", args: [] });
});

Deno.test("validateJobFile() suggests the closest key for a misspelt one", () => {
  assert.deepEqual(errorsOf("defaults: { retires: 2 }\njobs: [{ name: a, run: [x] }]\n"), [
    'jobs.yaml:1:13: defaults.retires is not a known key (did you mean "retries"?)',
  ]);
  assert.deepEqual(errorsOf("jobs:\n  - name: a\n    run: [x]\n    neds: [b]\n"), [
    'jobs.yaml:4:5: jobs[0].neds is not a known key (did you mean "needs"?)',
  ]);
  assert.match(
    errorsOf("jobs: [{ name: a, download: { url: 'http://h/x', sha265: abc } }]\n")[0]!,
    /jobs\[0\]\.download\.sha265 is not a known key \(did you mean "sha256"\?\)/,
  );
  assert.match(
    errorsOf("zzz: 1\njobs: [{ name: a, run: [x] }]\n")[0]!,
    /zzz is not a known key \(expected one of: /,
  );
});

Deno.test("validateJobFile() says what was expected and what was found", () => {
  const errors = errorsOf(
    [
      "version: 2",
      "output: 3",
      "concurrency: { io: 0, cpu: fast }",
      "defaults: { timeout: 3x, retries: -1 }",
      "jobs:",
      "  - name: 'a b'",
      "    download: { url: 'ftp://x/y' }",
      "  - name: c",
      "    run: echo hi",
      "    repeat: 1.5",
    ].join("\n"),
  );
  assert.deepEqual(errors, [
    "jobs.yaml:1:10: version must be 1 (the only version): got 2",
    "jobs.yaml:2:9: output must be a path (a string): got 3",
    "jobs.yaml:3:20: concurrency.io must be at least 1: got 0",
    'jobs.yaml:3:28: concurrency.cpu must be a whole number or "auto": got "fast"',
    'jobs.yaml:4:22: defaults.timeout must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h: got "3x"',
    "jobs.yaml:4:35: defaults.retries must be 0 or more: got -1",
    `jobs.yaml:6:11: jobs[0].name must use only letters, digits, '.', '_' and '-': got "a b"`,
    'jobs.yaml:7:22: jobs[0].download.url must be an http(s) URL: got "ftp://x/y"',
    "jobs.yaml:9:10: jobs[1].run must be a command as a list of strings (argv), such as [sh, -c, 'echo hi']: got \"echo hi\"",
    "jobs.yaml:10:13: jobs[1].repeat must be a whole number: got 1.5",
  ]);
});

Deno.test("validateJobFile() reports a missing required field at its parent", () => {
  assert.deepEqual(errorsOf("output: x\n"), ["jobs.yaml:1:1: jobs is required"]);
  assert.deepEqual(errorsOf("jobs:\n  - run: [x]\n"), ["jobs.yaml:2:5: jobs[0].name is required"]);
  assert.deepEqual(errorsOf("jobs: []\n"), [
    "jobs.yaml:1:7: jobs must list at least one job: got a list of 0",
  ]);
  assert.deepEqual(errorsOf("- a\n- b\n"), [
    "jobs.yaml:1:1: must be a mapping with a `jobs:` list: got a list of 2",
  ]);
});

Deno.test("validateJobFile() rejects a job with none or two of download, compute and run", () => {
  assert.deepEqual(errorsOf("jobs:\n  - name: a\n    needs: []\n"), [
    "jobs.yaml:2:5: jobs[0] must have one of download, compute or run: got none",
  ]);
  assert.deepEqual(
    errorsOf("jobs:\n  - name: a\n    run: [x]\n    compute: { module: m.ts }\n"),
    ["jobs.yaml:3:10: jobs[0].run must be the only kind of its job: it also has compute"],
  );
  assert.deepEqual(
    errorsOf("jobs:\n  - name: a\n    download: { url: 'http://h/a', urls: ['http://h/b'] }\n"),
    ["jobs.yaml:3:42: jobs[0].download.urls must be the only URL source: it also has url"],
  );
  assert.deepEqual(errorsOf("jobs:\n  - name: a\n    download: { to: x }\n"), [
    "jobs.yaml:3:15: jobs[0].download must have one of url, urls or urls_from: got none",
  ]);
});

Deno.test("validateJobFile() rejects duplicate names, unknown needs and cycles", () => {
  const errors = errorsOf(
    [
      "jobs:",
      "  - { name: fetch, run: [x] }",
      "  - { name: fetch, run: [y] }",
      "  - { name: build, run: [z], needs: [fecth, build] }",
      "  - { name: a, run: [z], needs: [b] }",
      "  - { name: b, run: [z], needs: [c] }",
      "  - { name: c, run: [z], needs: [a] }",
    ].join("\n"),
  );
  assert.deepEqual(errors, [
    'jobs.yaml:3:13: jobs[1].name repeats the name "fetch" of jobs[0]',
    'jobs.yaml:4:38: jobs[2].needs[0] names an unknown job: "fecth" (did you mean "fetch"?)',
    'jobs.yaml:4:45: jobs[2].needs[1] names the job itself: "build"',
    "jobs.yaml:5:33: jobs[3].needs forms a cycle: a -> b -> c -> a",
  ]);
  // A cycle through 1,000 jobs is told in one short line.
  const ring = Array.from(
    { length: 1000 },
    (_, i) => `  - { name: j${i}, run: [z], needs: [j${(i + 1) % 1000}] }`,
  );
  const [long] = errorsOf(["jobs:", ...ring].join("\n"));
  assert.equal(
    long,
    "jobs.yaml:2:34: jobs[0].needs forms a cycle: j0 -> j1 -> j2 -> j3 -> j4 -> j5 -> ... -> " +
      "j997 -> j998 -> j999 -> j0 (1000 jobs)",
  );
});

Deno.test("validateJobFile() interpolates ${VAR} and ${VAR:-default}, and rejects unset ones", () => {
  const env = (name: string) => ({ HOST: "127.0.0.1:8080" } as Record<string, string>)[name];
  const file = validateJobFile(
    parseJobFileText(
      "output: ${OUT:-out}\njobs:\n  - { name: a, download: { url: 'http://${HOST}/a' } }\n",
      "jobs.yaml",
    ),
    { kinds: KINDS, env },
  );
  assert.equal(file.output, "out");
  assert.equal((file.jobs[0]?.download as { url?: string })?.url, "http://127.0.0.1:8080/a");
  assert.deepEqual(errorsOf("jobs:\n  - { name: a, run: [echo, '${TOKEN}'] }\n", env), [
    "jobs.yaml:2:28: jobs[0].run[1] uses ${TOKEN}, which is not set in the environment (set it, or write ${TOKEN:-default})",
  ]);
});

Deno.test("validateJobFile() merges YAML merge keys and refuses __proto__ keys, merged or not", () => {
  const errors = errorsOf(
    "base: &b { retries: 1, __proto__: { polluted: 1 } }\n" +
      "jobs:\n  - { <<: *b, name: a, run: [x], __proto__: {} }\n",
  );
  assert.ok(errors.some((e) => /base is not a known key/.test(e)), errors.join("\n"));
  assert.ok(!errors.some((e) => /<</.test(e)), errors.join("\n"));
  assert.ok(
    errors.some((e) => /jobs\[0\]\.__proto__ is not a known key/.test(e)),
    errors.join("\n"),
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("validateJobFile() reports every error at once, in file order", () => {
  const errors = errorsOf(
    "jobs:\n  - { name: a, run: [x], retries: x }\n  - { name: a, rn: [y] }\n",
  );
  assert.equal(errors.length, 4, errors.join("\n"));
  const lines = errors.map((e) => Number(e.split(":")[1]));
  assert.deepEqual(lines, lines.toSorted((a, b) => a - b));
});

Deno.test("validateJobFile() checks download settings: headers, sizes, durations, digests", () => {
  const errors = errorsOf([
    "concurrency: { per_host: 0 }",
    "defaults:",
    "  download: { max_bytes: 4 gigs, headers: { Authorization: 'Bearer ${TOKEN}' } }",
    "jobs:",
    "  - name: a",
    "    download:",
    "      url: http://127.0.0.1/a",
    "      headers: { 'Bad Name': x }",
    "      idle_timeout: soon",
    "      sha512: abc",
    "  - { name: b, download: { urls: [http://127.0.0.1/b], sha512: " + "a".repeat(128) + " } }",
  ].join("\n"));
  assert.deepEqual(errors, [
    "jobs.yaml:1:26: concurrency.per_host must be at least 1: got 0",
    'jobs.yaml:3:26: defaults.download.max_bytes must be a size: bytes as a number, or a string like 512KiB, 10MB, 4GiB: got "4 gigs"',
    "jobs.yaml:3:60: defaults.download.headers.Authorization uses ${TOKEN}, which is not set in the environment (set it, or write ${TOKEN:-default})",
    `jobs.yaml:8:18: jobs[0].download.headers["Bad Name"] is not an HTTP header name: use letters, digits and !#$%&'*+.^_\`|~-`,
    'jobs.yaml:9:21: jobs[0].download.idle_timeout must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h: got "soon"',
    'jobs.yaml:10:15: jobs[0].download.sha512 must be 128 hex digits: got "abc"',
    "jobs.yaml:11:64: jobs[1].download.sha512 applies to a single url only: it cannot go with urls",
  ]);
});

Deno.test("validateJobFile() refuses a compute heap cap too small for a thread to start", () => {
  // 128 is bytes: its 1 MiB thread died as it started, taking its whole host process with it.
  const errors = errorsOf([
    "jobs:",
    "  - { name: a, compute: { module: 'builtin:count', args: [1], memory: 128 } }",
    "  - { name: b, compute: { module: 'builtin:count', args: [1], memory: 8MiB } }",
    "  - { name: c, compute: { module: 'builtin:count', args: [1], memory: 16MiB } }",
  ].join("\n"));
  assert.deepEqual(errors, [
    "jobs.yaml:2:71: jobs[0].compute.memory must be at least 16MiB: got 128 bytes (a number is bytes: 128MiB is 128 MiB)",
    "jobs.yaml:3:71: jobs[1].compute.memory must be at least 16MiB: got 8MiB",
  ]);
});

Deno.test("validateJobFile() checks rates, intervals, mirrors and segments", () => {
  const errors = errorsOf([
    "concurrency: { bandwidth: fast, per_host_bandwidth: 0, per_host_interval: often }",
    "defaults:",
    "  download: { segments: 0 }",
    "jobs:",
    "  - { name: a, download: { url: http://127.0.0.1/a, segments: 17, mirrors: [ftp://x/a] } }",
    "  - { name: b, download: { urls: [http://127.0.0.1/b], mirrors: [http://127.0.0.1/c] } }",
    "  - { name: c, download: { url: http://127.0.0.1/c, checksums: SUMS, sha256: " +
    "a".repeat(64) + " } }",
  ].join("\n"));
  assert.deepEqual(errors, [
    'jobs.yaml:1:27: concurrency.bandwidth must be a rate: bytes a second as a number, or a string like 500KiB/s, 4MiB/s, 1GB/s: got "fast"',
    "jobs.yaml:1:53: concurrency.per_host_bandwidth must be at least 1 byte a second: got 0",
    'jobs.yaml:1:75: concurrency.per_host_interval must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h: got "often"',
    "jobs.yaml:3:25: defaults.download.segments must be at least 1: got 0",
    "jobs.yaml:5:63: jobs[0].download.segments must be at most 16: got 17",
    'jobs.yaml:5:77: jobs[0].download.mirrors[0] must be an http(s) URL: got "ftp://x/a"',
    "jobs.yaml:6:65: jobs[1].download.mirrors applies to a single url only: it cannot go with urls",
    "jobs.yaml:7:78: jobs[2].download.sha256 must not go with checksums: the checksum file gives the digest",
  ]);
});

Deno.test("validateJobFile() refuses a control character in a path, naming it; a tab is taken", async () => {
  const errors = errorsOf(
    [
      'output: "out\\nx"',
      "jobs:",
      '  - { name: a, download: { url: "http://h/a", to: "a\\u001b[31m.bin" } }',
      '  - { name: b, run: [true], cwd: "sub\\r" }',
      '  - { name: c, compute: { module: "./m.ts", to: "r\\u0085.json" } }',
    ].join("\n"),
  );
  const tail = ", which would break the lines of the log and the summary";
  assert.deepEqual(errors, [
    `jobs.yaml:1:9: output must not contain a control character: character 4 is a newline${tail}: got "out\\nx"`,
    `jobs.yaml:3:51: jobs[0].download.to must not contain a control character: character 2 is an escape${tail}: got "a\\u001b[31m.bin"`,
    `jobs.yaml:4:34: jobs[1].cwd must not contain a control character: character 4 is a carriage return (Windows line endings?)${tail}: got "sub\\r"`,
    `jobs.yaml:5:49: jobs[2].compute.to must not contain a control character: character 2 is U+0085${tail}: got "r\\u0085.json"`,
  ]);
  // The quick checker, which passes valid files without zod, does not pass them either.
  const { loadPlan } = await import("../../lib/jobfile/mod.ts");
  const text = 'output: "out\\tdir"\njobs:\n  - { name: b, run: [true], cwd: "a\\tb" }\n';
  const plan = await loadPlan("-", {
    kinds: KINDS,
    stdin: new Blob([text]).stream(),
    cwd: "/tmp",
    env: noEnv,
  });
  assert.equal(plan.output, "/tmp/out\tdir");
});
