import assert from "node:assert/strict";
import { InvalidJobFileError } from "../../lib/jobfile/errors.ts";
import { parseJobFileText } from "../../lib/jobfile/parse.ts";
import { readJobFile } from "../../lib/jobfile/load.ts";
import { tempDir } from "../helpers/temp.ts";

function problems(text: string): string[] {
  try {
    parseJobFileText(text, "jobs.yaml");
  } catch (error) {
    assert.ok(error instanceof InvalidJobFileError);
    return error.errors.map((e) => e.message);
  }
  assert.fail("expected the text to be rejected");
}

Deno.test("parseJobFileText() keeps the line and column of values and keys", () => {
  const doc = parseJobFileText("jobs:\n  - name: a\n    run: [echo, hi]\n", "jobs.yaml");
  assert.deepEqual(doc.locate(["jobs", 0, "run", 1]), { line: 3, column: 17 });
  assert.deepEqual(doc.locateKey(["jobs", 0, "run"]), { line: 3, column: 5 });
  // A path below a known node falls back to its nearest ancestor.
  assert.deepEqual(doc.locate(["jobs", 0, "run", 9]), { line: 3, column: 10 });
});

Deno.test("parseJobFileText() reads JSON with positions", () => {
  const doc = parseJobFileText(
    '{\n  "jobs": [\n    {"name": "a", "run": ["true"]}\n  ]\n}\n',
    "j.json",
  );
  assert.deepEqual(doc.value, { jobs: [{ name: "a", run: ["true"] }] });
  assert.equal(doc.locate(["jobs", 0, "name"])?.line, 3);
});

Deno.test("parseJobFileText() names a duplicate key, its path and both places", () => {
  assert.deepEqual(problems("output: a\noutput: b\njobs: []\n"), [
    "jobs.yaml:2:1: output is given twice (lines 1 and 2) (keep one)",
  ]);
  assert.deepEqual(
    problems(
      "jobs:\n  - name: a\n    download:\n      url: http://h/a\n      to: x\n      to: y\n",
    ),
    ["jobs.yaml:6:7: jobs[0].download.to is given twice (lines 5 and 6) (keep one)"],
  );
  assert.deepEqual(problems('{"jobs": [{"name": "a",\n "run": ["x"],\n "name": "b"}]}'), [
    "jobs.yaml:3:2: jobs[0].name is given twice (lines 1 and 3) (keep one)",
  ]);
  // A JSON file on one line: the columns tell the two apart.
  assert.deepEqual(problems('{"jobs": [], "output": "a", "jobs": []}'), [
    "jobs.yaml:1:29: jobs is given twice (line 1, columns 2 and 29) (keep one)",
  ]);
});

Deno.test("parseJobFileText() stops an alias bomb", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
  ].join("\n");
  assert.match(problems(bomb)[0]!, /expands too many aliases/);
});

Deno.test("parseJobFileText() rejects empty files, syntax errors, unknown tags and a second document", () => {
  assert.match(problems("")[0]!, /^jobs\.yaml: is empty/);
  assert.match(problems("# only a comment\n")[0]!, /is empty/);
  assert.match(problems("jobs: [a, b\n")[0]!, /^jobs\.yaml:\d+:\d+: is not valid YAML or JSON/);
  // The line the parser stopped at is quoted: a wrong indent shows there.
  assert.match(
    problems("jobs:\n  - name: a\n   run: [true]\n")[0]!,
    /^jobs\.yaml:3:1: is not valid YAML or JSON: .* \(line 3 reads " {3}run: \[true\]"\)$/,
  );
  assert.match(
    problems("output: !secret x\njobs: []\n")[0]!,
    /^jobs\.yaml:1:9: uses an unknown tag: !secret/,
  );
  // Two files pasted into one: said in a user's words, not the parser's.
  assert.deepEqual(problems("jobs: []\n---\njobs: []\n"), [
    "jobs.yaml:2:1: holds a second YAML document (after `---`): a job file is one document",
  ]);
  // A first `---` only starts the one document.
  assert.deepEqual(parseJobFileText("---\njobs: []\n", "jobs.yaml").value, { jobs: [] });
});

Deno.test("readJobFile() refuses binary, non-UTF-8, oversized and missing files", async () => {
  await using dir = await tempDir();
  const reject = async (path: string, pattern: RegExp, maxBytes?: number) => {
    const error = await readJobFile(path, { cwd: dir.path, ...(maxBytes ? { maxBytes } : {}) })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof InvalidJobFileError, `expected ${path} to be refused`);
    assert.match(error.message, pattern);
  };
  await Deno.writeFile(`${dir.path}/binary.yaml`, new Uint8Array([0x6a, 0x00, 0x01]));
  await Deno.writeFile(`${dir.path}/latin1.yaml`, new Uint8Array([0x6a, 0xe9, 0x0a]));
  await dir.write("big.yaml", "x".repeat(100));
  await reject("binary.yaml", /binary\.yaml: is binary/);
  await reject("latin1.yaml", /is not UTF-8/);
  await reject(
    "big.yaml",
    /is larger than 50 bytes \(\d+\): list many URLs in a file of their own/,
    50,
  );
  await reject("missing.yaml", /missing\.yaml: does not exist/);
});

Deno.test("readJobFile() reads stdin for '-' and resolves against the current folder", async () => {
  const source = await readJobFile("-", {
    cwd: "/somewhere",
    stdin: new Blob(["jobs: []\n"]).stream(),
  });
  assert.equal(source.text, "jobs: []\n");
  assert.equal(source.baseDir, "/somewhere");
  assert.equal(source.file, "-");
});
