/**
 * The JSON reader (lib/jobfile/json_document.ts) against the YAML parser (lib/jobfile/parse.ts),
 * which reads JSON too: on what the reader takes, both give the same value and the same position
 * for every value and key; what it leaves, the YAML parser gets.
 */
import assert from "node:assert/strict";
import { parseJsonDocument } from "../../lib/jobfile/json_document.ts";
import { parseJobFileText } from "../../lib/jobfile/parse.ts";
import { pathsOf } from "../helpers/document_paths.ts";
import { InvalidJobFileError } from "../../lib/jobfile/errors.ts";

/** Asserts the reader takes `text` and agrees with the YAML parser on it. */
function assertSame(text: string) {
  const ours = parseJsonDocument(text, "jobs.json");
  assert(ours, `the JSON reader left ${JSON.stringify(text)}`);
  const yaml = parseJobFileText(text, "jobs.json");
  assert.deepStrictEqual(ours.value, yaml.value, text);
  for (const path of pathsOf(yaml.value)) {
    assert.deepEqual(ours.locate(path), yaml.locate(path), `value at ${JSON.stringify(path)}`);
    assert.deepEqual(ours.locateKey(path), yaml.locateKey(path), `key at ${JSON.stringify(path)}`);
  }
}

const JOB_FILE = {
  version: 1,
  output: "out",
  concurrency: { io: 32, cpu: "auto", bandwidth: "4MiB/s" },
  permissions: { net: ["cdn.example.com"] },
  defaults: { retries: 2, timeout: "30s", download: { headers: { Accept: "*/*" } } },
  jobs: [
    { name: "a", download: { url: "https://example.com/a.png", sha256: "ab".repeat(32) } },
    { name: "b", needs: ["a"], run: ["sh", "-c", 'echo "hi" && exit 0'], env: {} },
    { name: "c", compute: { module: "builtin:count", args: [1e6, -0.5, true, null, []] } },
    { name: "d", matrix: [[1], [2]], run: ["echo"], inputs: [] },
  ],
};

Deno.test("a JSON job file is read as the YAML parser reads it, values and positions", () => {
  for (const indent of [undefined, 2, "\t", 4]) {
    assertSame(JSON.stringify(JOB_FILE, null, indent));
  }
  assertSame(JSON.stringify(JOB_FILE, null, 2).replaceAll("\n", "\r\n"));
  assertSame(`\n\n   ${JSON.stringify(JOB_FILE)}  \n`);
  assertSame("{}");
  assertSame('{ "jobs" : [ ] , "x" :{}}');
});

Deno.test("strings and numbers come out as the YAML parser reads them", () => {
  const strings = [
    "",
    "plain",
    'quote " and backslash \\ and slash /',
    "\b\f\n\r\t",
    "\u0001\u001f",
    "é ü 字 😀",
    "\ud800 lone",
    "${VAR:-x}",
    "# not a comment",
    "- not a list",
    "key: not a map",
    "[not, a, list]",
  ];
  for (const string of strings) {
    assertSame(JSON.stringify({ s: string, [string || "empty"]: 1 }));
  }
  assertSame('{ "s": "\\u00e9\\u00E9\\/" }');
  const numbers = [
    "0",
    "-0",
    "1",
    "-1",
    "1.5",
    "0.1",
    "1e3",
    "1E-7",
    "2.5e+10",
    "123456789012345678901234567890",
    "9007199254740993",
    "1e400",
    "-1e400",
  ];
  for (const number of numbers) assertSame(`{ "n": ${number}, "list": [${number}] }`);
  assertSame('{ "t": true, "f": false, "z": null, "deep": [[[[{ "a": [[]] }]]]] }');
});

Deno.test("what the JSON reader leaves, the YAML parser reads or refuses", () => {
  const left = [
    "jobs: []", // YAML
    '[{ "name": "a" }]', // not an object
    '{ "a": 1, "a": 2 }', // a key twice: the YAML parser names both lines
    '{ "__proto__": {} }',
    '{ "a": "tab\there" }', // a raw control character
    '{ "a": 01 }',
    '{ "a": 1, }',
    '{ "a": .5 }',
    "{ 'a': 1 }",
    '{ "a": 1 } # comment',
    '{ "a": [1, 2 }',
    '{ "a": "\\x41" }',
    '\ufeff{ "a": 1 }',
    '{ "a": true1 }',
    '{ "a": 1 } { "b": 2 }',
    "{",
    "",
  ];
  for (const text of left) {
    assert.equal(parseJsonDocument(text, "jobs.json"), undefined, text);
  }
  // The key given twice gets the YAML parser's message, with its lines.
  assert.throws(
    () => parseJobFileText('{\n  "a": 1,\n  "a": 2\n}', "jobs.json"),
    (error: unknown) =>
      error instanceof InvalidJobFileError && /given twice \(lines 2 and 3\)/.test(error.message),
  );
});
