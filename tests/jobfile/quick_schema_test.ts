/**
 * The quick checker (lib/jobfile/quick_schema.ts) against zod, on the job files of the
 * repository and on mutations of them: whatever it passes, zod passes with the same value, and
 * what zod passes, it passes too (but for the few shapes it leaves to zod on purpose).
 */
import assert from "node:assert/strict";
import { KINDS } from "../../tasks/mod.ts";
import { parseJobFileText } from "../../lib/jobfile/parse.ts";
import { quickJobFile } from "../../lib/jobfile/quick_schema.ts";
import { jobFileSchemas } from "../../lib/jobfile/schema.ts";
import { interpolateDocument } from "../../lib/jobfile/interpolate.ts";

const root = new URL("../../", import.meta.url);

/** The job files of the repository: the examples, and the YAML blocks of the docs. */
async function repositoryJobFiles(): Promise<unknown[]> {
  const texts: string[] = [];
  for (const name of ["examples/jobs.yaml", "examples/demo.yaml"]) {
    texts.push(await Deno.readTextFile(new URL(name, root)));
  }
  for (
    const name of [
      "README.md",
      ...[...Deno.readDirSync(new URL("docs/", root))].map((entry) => `docs/${entry.name}`),
    ]
  ) {
    const text = await Deno.readTextFile(new URL(name, root));
    for (const [, block] of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      if (/^jobs:/m.test(block!)) texts.push(block!);
    }
  }
  // ${VAR} filled in as a run does; each variable is a URL, which every field using one takes.
  const env = () => "http://127.0.0.1:8000";
  return texts.map((text) => interpolateDocument(parseJobFileText(text, "jobs.yaml"), env).value);
}

/** A file that sets every key the schema has, each to a value it takes. */
const EVERYTHING = {
  $schema: "https://example.com/schema.json",
  version: 1,
  output: "out",
  report: "reports/{date}-{time}.json",
  concurrency: {
    io: 32,
    cpu: 2,
    per_host: 4,
    bandwidth: "4MiB/s",
    per_host_bandwidth: 1000,
    per_host_interval: "200ms",
  },
  permissions: { net: ["cdn.example.com", "mirror.example.com:8443"] },
  tls: { ca: ["ca.pem"] },
  defaults: {
    retries: 2,
    timeout: "30s",
    backoff: 0.5,
    download: {
      headers: { "User-Agent": "taskpool", Authorization: "Bearer ${TOKEN}" },
      max_bytes: "10MiB",
      idle_timeout: 10,
      max_wait: "1m",
      record_sha256: true,
      segments: 4,
    },
  },
  jobs: [
    {
      name: "one",
      download: {
        url: "https://example.com/a.png",
        to: "images/",
        sha256: "A".repeat(64),
        mirrors: ["https://mirror.example.com/a.png"],
        headers: { Accept: "image/png" },
        max_bytes: 1024,
        segments: 2,
      },
      retries: 1,
      timeout: 5,
      backoff: "1s",
    },
    {
      name: "many",
      needs: ["one"],
      download: {
        urls: ["https://example.com/b.png", "https://example.com/c.png"],
        checksums: "SHA256SUMS",
      },
    },
    { name: "listed", download: { urls_from: "urls.txt", sha512: "f".repeat(128) } },
    {
      name: "count",
      needs: ["many"],
      compute: {
        module: "builtin:count",
        export: "count",
        args: [1000, { deep: [1, "x"] }],
        isolation: "process",
        memory: "256MiB",
        permissions: { read: ["data"], write: ["out"], net: true, env: ["HOME"] },
        to: "results/{n}.bin",
      },
      matrix: [[1], [2, "b"]],
      inputs: ["data/**/*.csv"],
      outputs: ["results/{n}.bin"],
    },
    {
      name: "shell",
      run: ["sh", "-c", "echo hi", 1, true],
      cwd: "work",
      env: { A: "1" },
      clear_env: false,
      kill_grace: "2s",
      repeat: 3,
    },
  ],
};

/** Values of every type and many shapes, that some key takes and most do not. */
const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  1.5,
  16,
  4096,
  4097,
  1e6,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  "",
  "x",
  "auto",
  "1s",
  "500ms",
  "-1s",
  "4MiB",
  "4MiB/s",
  "500k",
  "1e3",
  "a".repeat(64),
  "https://example.com/x",
  "ftp://example.com/x",
  "http://",
  "line\nbreak",
  "nul\0",
  "${HOME}",
  "../up",
  "/abs",
  "a/{n}",
  [],
  [1],
  ["a"],
  ["a", ""],
  [[1]],
  [["a", 2]],
  {},
  { a: "b" },
  { a: 1 },
  { "bad name": "x" },
  { url: "https://example.com/y" },
  { module: "builtin:count" },
  { net: true },
  { ca: [] },
  { io: 1 },
  { retries: 1 },
  { download: {} },
];

/** Every key name the schema uses somewhere, to put where it does not belong. */
const KEYS = [
  ...new Set(
    JSON.stringify(EVERYTHING).match(/"([a-z_$][a-z_]*)":/gi)!.map((key) => key.slice(1, -2)),
  ),
  "unknown",
  "__proto__",
];

/** A deterministic random source. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** `value` with one random change deep inside: a key removed, added or given another value. */
function mutate(value: unknown, next: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const copy = structuredClone(value);
  // The containers of the copy, to change one of them.
  const containers: (Record<string, unknown> | unknown[])[] = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== "object") return;
    containers.push(node as Record<string, unknown>);
    for (const child of Object.values(node)) walk(child);
  };
  walk(copy);
  const target = pick(containers);
  const keys = Object.keys(target);
  const roll = next();
  if (Array.isArray(target)) {
    if (roll < 0.3 && target.length > 0) target.splice(Math.floor(next() * target.length), 1);
    else if (roll < 0.6) target.push(structuredClone(pick(VALUES)));
    else if (target.length > 0) {
      target[Math.floor(next() * target.length)] = structuredClone(pick(VALUES));
    }
  } else if (roll < 0.3 && keys.length > 0) {
    delete target[pick(keys)];
  } else if (roll < 0.5) {
    Object.defineProperty(target, pick(KEYS), {
      value: structuredClone(pick(VALUES)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else if (keys.length > 0) {
    target[pick(keys)] = structuredClone(pick(VALUES));
  }
  return copy;
}

/** Compares the two checkers on `value`; says which passed. */
function compare(value: unknown): { zod: boolean; quick: boolean } {
  const zod = jobFileSchemas(KINDS).file.safeParse(value);
  const quick = quickJobFile(value, KINDS);
  if (quick !== undefined) {
    assert(zod.success, `the quick checker passed what zod does not: ${JSON.stringify(value)}`);
    assert.deepStrictEqual(quick, zod.data, `different values for ${JSON.stringify(value)}`);
  }
  return { zod: zod.success, quick: quick !== undefined };
}

Deno.test("the quick checker passes the repository's job files, with zod's values", async () => {
  const files = [...await repositoryJobFiles(), EVERYTHING];
  let passed = 0;
  for (const file of files) {
    const { zod, quick } = compare(file);
    assert.equal(quick, zod, JSON.stringify(file));
    if (zod) passed++;
  }
  // A docs example may leave a placeholder (a digest written "..."): most pass.
  assert(passed >= 5, `${passed} of ${files.length} job files passed`);
});

Deno.test("on mutated job files, the quick checker passes what zod passes, with its values", async () => {
  const seeds = [...await repositoryJobFiles(), EVERYTHING];
  const next = random(42);
  let zodPassed = 0;
  let bothPassed = 0;
  let tried = 0;
  for (const seed of seeds) {
    let value: unknown = seed;
    for (let round = 0; round < 600; round++) {
      // Mostly one change to a valid file; sometimes changes pile up.
      value = mutate(next() < 0.7 ? seed : value, next);
      const { zod, quick } = compare(value);
      tried++;
      if (zod) zodPassed++;
      if (zod && quick) bothPassed++;
      else if (zod) {
        // Left to zod on purpose: a __proto__ key, which zod drops.
        assert.match(
          JSON.stringify(value),
          /__proto__/,
          `zod alone passed ${JSON.stringify(value)}`,
        );
      }
    }
  }
  // Both outcomes are well represented, or the comparison shows little.
  assert(zodPassed > tried / 10 && zodPassed < tried * 0.9, `${zodPassed} of ${tried} valid`);
  assert(bothPassed > zodPassed * 0.95, `quick passed ${bothPassed} of ${zodPassed}`);
  console.log(`${tried} mutations: zod passed ${zodPassed}, the quick checker ${bothPassed}`);
});
