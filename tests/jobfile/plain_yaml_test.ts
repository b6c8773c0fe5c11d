/**
 * The plain-YAML reader (lib/jobfile/plain_yaml.ts) against the YAML parser (lib/jobfile/parse.ts):
 * on every text the reader takes, both give the same value and the same position for every value
 * and key, and the parser finds nothing wrong; the texts are the repository's job files, files
 * written in every style the `yaml` package writes, and thousands of mutations of them.
 */
import assert from "node:assert/strict";
import { parsePlainYaml } from "../../lib/jobfile/plain_yaml.ts";
import { parseJobFileText } from "../../lib/jobfile/parse.ts";
import { pathsOf } from "../helpers/document_paths.ts";
import { YAML } from "../../lib/jobfile/yaml.ts";
import { parseSettings } from "../../lib/jobfile/settings.ts";

const root = new URL("../../", import.meta.url);

/**
 * Whether the reader took `text`; when it did, asserts the parser reads it without a problem and
 * agrees on the value and every position.
 */
function agrees(text: string): boolean {
  const ours = parsePlainYaml(text, "jobs.yaml");
  if (!ours) return false;
  let yaml;
  try {
    yaml = parseJobFileText(text, "jobs.yaml");
  } catch (error) {
    assert.fail(`the reader took what the parser refuses (${error}):\n${text}`);
  }
  assert.deepStrictEqual(ours.value, yaml.value, text);
  for (const path of pathsOf(yaml.value)) {
    const where = `${JSON.stringify(path)} in\n${text}`;
    assert.deepEqual(ours.locate(path), yaml.locate(path), `value at ${where}`);
    assert.deepEqual(ours.locateKey(path), yaml.locateKey(path), `key at ${where}`);
  }
  return true;
}

/** The repository's job files: the examples, and the YAML blocks of the README and docs/. */
async function repositoryTexts(): Promise<string[]> {
  const texts: string[] = [];
  for (const name of ["examples/jobs.yaml", "examples/demo.yaml"]) {
    texts.push(await Deno.readTextFile(new URL(name, root)));
  }
  const docs = [...Deno.readDirSync(new URL("docs/", root))].map((entry) => `docs/${entry.name}`);
  for (const name of ["README.md", ...docs]) {
    const text = await Deno.readTextFile(new URL(name, root));
    for (const [, block] of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) texts.push(block!);
  }
  return texts;
}

const JOB_FILE = {
  version: 1,
  output: "out",
  concurrency: { io: 32, cpu: "auto", bandwidth: "4MiB/s", per_host_interval: "200ms" },
  permissions: { net: ["cdn.example.com", "mirror.example.com:8443"] },
  defaults: {
    retries: 2,
    timeout: "30s",
    backoff: 0.5,
    download: { headers: { Accept: "*/*", Authorization: "Bearer ${TOKEN}" } },
  },
  jobs: [
    { name: "a", download: { url: "https://example.com/a.png?x=1&y=2#top", to: "img/" } },
    { name: "b", needs: ["a"], run: ["sh", "-c", 'echo "hi" && exit 0 # not a comment'], env: {} },
    { name: "c", compute: { module: "builtin:count", args: [1e6, -0.5, true, null, [], 0] } },
    { name: "d", matrix: [[1], [2, "x y"]], run: ["echo", "{n}"], inputs: ["data/**/*.csv"] },
    { name: "e: colon", run: ["printf", "%s\\n", "it's", "- dash", "[x]", "a: b", "#hash"] },
    { name: "f", run: ["true", "True", "null", "~", "1.5", "0x1F", "0o17", "1e3", "", " pad "] },
    { name: "é 字 😀", clear_env: false, kill_grace: "2s", repeat: 3, cwd: "." },
  ],
};

/** Strings over several lines, which the `yaml` package writes as block scalars. */
const MULTILINE = {
  jobs: [
    { name: "g", run: ["sh", "-c", "set -e\necho one # two\n\n  indented\n"], env: { A: "x\ny" } },
    { name: "h", run: ["printf", "kept\n\n\n", "a\n\nb", " lead\n", "\nfirst empty\n"] },
  ],
};

/** Strings over several lines as the `yaml` package writes them: block scalars. */
function multilineTexts(): string[] {
  const texts: string[] = [];
  for (const indent of [2, 4]) {
    for (const indentSeq of [true, false]) {
      for (const collectionStyle of ["any", "block"] as const) {
        texts.push(YAML.stringify(MULTILINE, { indent, indentSeq, collectionStyle, lineWidth: 0 }));
      }
    }
  }
  return texts;
}

/** The job file written in each style the `yaml` package writes. */
function styledTexts(): string[] {
  const texts: string[] = [];
  for (const indent of [2, 4]) {
    for (const indentSeq of [true, false]) {
      for (const collectionStyle of ["any", "block", "flow"] as const) {
        for (const defaultStringType of ["PLAIN", "QUOTE_SINGLE", "QUOTE_DOUBLE"] as const) {
          texts.push(
            YAML.stringify(JOB_FILE, {
              indent,
              indentSeq,
              collectionStyle,
              defaultStringType,
              defaultKeyType: "PLAIN",
              lineWidth: 0,
            }),
          );
        }
      }
    }
  }
  return texts;
}

/** A seeded generator of numbers in [0, 1), so a failure can be run again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces that make YAML mean something else, or nothing, where they land. */
const PIECES = [
  " ",
  "  ",
  "\n",
  "\n  ",
  "-",
  "- ",
  ":",
  ": ",
  "#",
  " #",
  "'",
  '"',
  "[",
  "]",
  "{",
  "}",
  ",",
  "&a ",
  "*a",
  "!!str ",
  "|",
  ">",
  "? ",
  "---\n",
  "...",
  "\\",
  "\\n",
  "\t",
  "\r",
  "0",
  "1.",
  ".5",
  "~",
  "null",
  "true",
  "<<: ",
  "__proto__: 1",
  "%",
  "@",
  "`",
  "x",
];

/** `text` with one random change: a piece put in, a character or line cut, a line moved in or out. */
function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  const lines = text.split("\n");
  const line = Math.floor(next() * lines.length);
  switch (Math.floor(next() * 6)) {
    case 0:
    case 1:
      return text.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at + 1);
    case 3:
      lines.splice(line, 1);
      return lines.join("\n");
    case 4:
      lines[line] = " " + lines[line];
      return lines.join("\n");
    default:
      lines[line] = lines[line]!.replace(/^ {1,2}/, "");
      return lines.join("\n");
  }
}

Deno.test("the repository's job files are read as the YAML parser reads them", async () => {
  const texts = await repositoryTexts();
  const taken = texts.filter(agrees);
  // Every job file but those with an anchor is plain (some blocks are parts).
  for (const text of texts) {
    if (/^jobs:/m.test(text) && !/&\w|\*\w/m.test(text)) {
      assert(taken.includes(text), `left:\n${text}`);
    }
  }
});

Deno.test("a job file in every style the yaml package writes is read as the parser reads it", () => {
  const texts = styledTexts();
  for (const text of texts) assert(agrees(text), `left:\n${text}`);
  for (const text of texts) {
    assert(agrees(`# a comment\n---   # the document\n\n${text.replaceAll("\n", "  \n")}# end`));
  }
  for (const text of multilineTexts()) assert(agrees(text), `left:\n${text}`);
});

Deno.test("scalars, positions and layouts come out as the YAML parser reads them", () => {
  const taken = [
    "a:\nb: 1\n",
    "a:   # c\n  # d\nb:\n",
    "---\n# x\na:\n- 1\n-\n- [x, {y: 2}]\n",
    "\n# c\n  a: 1\n  b: 2\n",
    "a:\n  - b: 1\n    c:\n  -   d: 2\n",
    "a:\n  -\n    b: 1\n  - - x\n",
    "a: [\n  1, 2,\n  3 ]\nb: {\n  c: d }\n",
    '{ "jobs": [], "a": {"b":1} }',
    'a: \'it\'\'s\' # c\nb: "q\\"\\n\\u00e9"\n\'c d\': "e"\n"f": 1',
    "a: x#y\nb: http://h:80/p?q#f\nc: -1\nd: +1\ne: .5\nf: 1.\ng: 012\nh: 1_000\ni: 0x1f\nj: 0o17",
    "a: 1e3\nb: -1E-3\nc: 1e\nd: TRUE\ne: False\nf: NULL\ng: ~\nh: yes\ni: 2026-12-07\nj: 1:30",
    "a: [a b, 'c', \"d\", -e, 1, {f: [g]}, x:y, [], {}]",
    "a: b\n\n\n",
    "a:",
    "a: 1 ",
    "a: |\n  one\n   two\n\n  # three\nb: >-\n  four\n  five\n\n  six\n\n",
    "a:\n  - |+\n    x\n\n  - >\n\n    y\n    z\n# c\nb: |-\n    deep\n",
    "a: | # comment\n  x: y\n  - z\n  'q'\n",
    "a:\n  - |2-\n     lead\n    b\n  - >+2\n    x\n\nb: |1\n  two\nc: >-\n  one\n\n\n  two\n",
  ];
  for (const text of taken) assert(agrees(text), `left:\n${text}`);
});

Deno.test("what the reader leaves, the YAML parser reads or refuses", () => {
  const left = [
    "", // empty
    "# only a comment\n",
    "- a\n- b\n", // not a mapping
    "a: &x 1\nb: *x\n", // anchors and aliases
    "a: !!str 1\n",
    "a: >\n  text\n   more\n", // a more-indented line in a folded scalar
    "a: |\n  text", // no line break at the end
    "a: |\nb: 1\n", // empty
    "a: |\n    \n  text\n", // a leading line with more spaces than the first
    "a: some\n  long text\n", // a scalar over two lines
    "a: 'two\n  lines'\n",
    "a: 1\na: 2\n", // a key twice
    "__proto__: 1\n",
    "<<: {a: 1}\n",
    "1: a\n", // a key that is no string
    "a:\tb\n",
    "a: b\r\n",
    "\ufeffa: b\n",
    "a: b: c\n",
    "a: [b,,]\n",
    "a: {b}\n",
    "a: .inf\n",
    "a: b\n---\nc: d\n",
    "%YAML 1.2\n---\na: b\n",
    "? a\n: b\n",
    'a: "\\x41"\n',
    "a:\n  b: 1\n c: 2\n",
    "a: 1\n  b: 2\n",
  ];
  for (const text of left) {
    assert.equal(parsePlainYaml(text, "jobs.yaml"), undefined, JSON.stringify(text));
  }
});

Deno.test("on thousands of mutations, what the reader takes the YAML parser reads the same", async () => {
  const seeds = [...await repositoryTexts(), ...styledTexts(), ...multilineTexts()];
  const next = random(24);
  let taken = 0;
  let total = 0;
  for (const seed of seeds) {
    for (let round = 0; round < 100; round++) {
      let text = seed;
      const changes = 1 + Math.floor(next() * 3);
      for (let change = 0; change < changes; change++) text = mutate(text, next);
      total++;
      if (agrees(text)) taken++;
    }
  }
  // Enough of both kinds to mean something: many taken, and many left.
  console.log(`${taken} of ${total} taken`);
  assert(taken > total / 5 && taken < total * 0.95, `${taken} of ${total} taken`);
});

Deno.test("--set values are read as YAML.parse reads them, plain or not", async () => {
  const values = [
    "32",
    "-1",
    "0x10",
    "1.5",
    "1e3",
    "true",
    "no",
    "null",
    "~",
    "",
    " x ",
    "4MiB/s",
    "30s",
    "auto",
    "[a, b]",
    "{ a: 1, b: [c] }",
    "'quoted'",
    '"q\\n"',
    "#comment",
    "a: b",
    "- a",
    "[a",
    "&x 1",
    "a # c",
    "http://h:1/p",
    "{}",
    "[]",
    "'",
    "x: y: z",
    "|",
    "!!str 1",
  ];
  const settings = await parseSettings(values.map((value) => `output=${value}`));
  values.forEach((text, index) => {
    let expected: unknown;
    try {
      expected = YAML.parse(text);
    } catch {
      expected = text;
    }
    assert.deepStrictEqual(settings[index]!.value, expected, text);
  });
});
