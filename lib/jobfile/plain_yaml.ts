/**
 * A YAML job file in the plain style most are written in, read without the `yaml` package, whose
 * load and first parse cost a start some 20 ms. It takes block mappings and lists, flow `[...]`
 * and `{...}`, plain and quoted one-line scalars, block scalars (`|`, `>`), comments and a
 * leading `---`, and gives the value and positions `parse.ts` gives
 * (tests/jobfile/plain_yaml_test.ts holds it to that). It leaves everything else to `parse.ts`,
 * which reads all of YAML and says what is wrong: anchors, aliases and tags, plain and quoted
 * scalars over several lines, tabs and carriage returns, keys that are not strings, a key given
 * twice, `__proto__` and `<<`, and any error.
 *
 * @module
 */
import type { SourcePosition } from "./errors.ts";
import {
  LineStarts,
  type ParsedDocument,
  pathKey,
  type PathSegment,
  positionedDocument,
} from "./document.ts";

/** Nesting deeper than this is left to `parse.ts`. */
const MOST_DEPTH = 64;

/** Longer keys are left to `parse.ts` (YAML allows 1024 characters to an implicit key). */
const MOST_KEY_LENGTH = 1024;

/** Characters the reader never takes: tabs, carriage returns, other controls, a byte-order mark. */
// deno-lint-ignore no-control-regex
const UNTAKEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff\ufffe\uffff]/;

/**
 * Characters the reader takes no plain scalar to start with: YAML's indicators. (YAML allows `?`
 * and `:` before a non-space; the reader leaves those to parse.ts. `-` is checked on its own.)
 */
const NOT_PLAIN_START = new Set([..."?:,[]{}#&*!|>'\"%@`"]);

/** Flow indicators: they end a plain scalar inside `[...]` and `{...}`. */
const FLOW_INDICATORS = new Set([..."[]{},"]);

/** Thrown inside the reader for anything it leaves to `parse.ts`. */
class NotPlainYaml extends Error {}

/** Where a node starts: on a line of its own, after `- `, or after `key: `. */
type Place = "line" | "item" | "value";

/**
 * The document of `text` when it is a mapping in plain YAML; undefined otherwise (read it with
 * `parseJobFileText` then).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePlainYaml } from "./plain_yaml.ts";
 * const doc = parsePlainYaml("jobs:\n  - name: a # the first\n    run: [echo, 'hi']\n", "a.yaml");
 * assert.deepEqual(doc?.value, { jobs: [{ name: "a", run: ["echo", "hi"] }] });
 * assert.deepEqual(doc?.locate(["jobs", 0, "run", 1]), { line: 3, column: 17 });
 * assert.equal(parsePlainYaml("jobs: &all []\n", "a.yaml"), undefined);
 * assert.equal(parsePlainYaml("a: 1\na: 2\n", "a.yaml"), undefined);
 * ```
 */
export function parsePlainYaml(text: string, file: string): ParsedDocument | undefined {
  if (UNTAKEN.test(text)) return undefined;
  let at = 0;
  // Where the line of `at` starts, and where each line passed so far starts (for positions).
  let lineStart = 0;
  const lineStarts = new LineStarts();
  const position = (offset: number) => lineStarts.position(offset);
  const values = new Map<string, SourcePosition>();
  const keys = new Map<string, SourcePosition>();

  const column = () => at - lineStart;
  const atLineEnd = () => at >= text.length || text.charCodeAt(at) === 0x0a;
  const isBreakOrEnd = (offset: number) => offset >= text.length || text[offset] === "\n";
  const isSpaceOrEnd = (offset: number) => isBreakOrEnd(offset) || text[offset] === " ";
  const newline = () => {
    lineStart = ++at;
    lineStarts.add(at);
  };

  /** Skips spaces, and a comment up to the end of its line (not the line break). */
  const skipSpacesAndComment = () => {
    while (text.charCodeAt(at) === 0x20) at++;
    if (text[at] === "#" && (at === lineStart || text[at - 1] === " ")) {
      const end = text.indexOf("\n", at);
      at = end < 0 ? text.length : end;
    }
  };
  /** Skips to the next content, over blank and comment lines; false at the end of the text. */
  const skipToContent = (): boolean => {
    for (;;) {
      skipSpacesAndComment();
      if (at >= text.length) return false;
      if (text.charCodeAt(at) !== 0x0a) return true;
      newline();
    }
  };
  /** Whether `at` is a block list's `-`. */
  const atListIndicator = () => text[at] === "-" && isSpaceOrEnd(at + 1);
  /** Whether `at` is a document marker (`---` or `...`), which only `parse.ts` reads. */
  const atDocumentMarker = () =>
    at === lineStart && (text.startsWith("---", at) || text.startsWith("...", at)) &&
    isSpaceOrEnd(at + 3);

  const readQuoted = (): string => {
    const quote = text[at++];
    let out = "";
    let from = at;
    for (;;) {
      const char = text[at];
      if (char === undefined || char === "\n") throw new NotPlainYaml(); // over lines: parse.ts
      if (char === quote) {
        if (quote === "'" && text[at + 1] === "'") {
          out += text.slice(from, at + 1);
          at += 2;
          from = at;
          continue;
        }
        out += text.slice(from, at++);
        return out;
      }
      if (char !== "\\" || quote === "'") {
        at++;
        continue;
      }
      out += text.slice(from, at);
      const escape = text[at + 1];
      at += 2;
      const simple = ESCAPES[escape!];
      if (simple !== undefined) out += simple;
      else if (escape === "u" && /^[0-9A-Fa-f]{4}$/.test(text.slice(at, at + 4))) {
        out += String.fromCharCode(parseInt(text.slice(at, at + 4), 16));
        at += 4;
      } else throw new NotPlainYaml();
      from = at;
    }
  };

  /** The text of the plain scalar at `at`, to where it ends on its line. */
  const readPlainText = (flow: boolean): string => {
    const first = text[at]!;
    const next = text[at + 1];
    if (
      NOT_PLAIN_START.has(first) ||
      (first === "-" && (isSpaceOrEnd(at + 1) || (flow && FLOW_INDICATORS.has(next!)))) ||
      atDocumentMarker()
    ) throw new NotPlainYaml();
    let end = at;
    for (;;) {
      const char = text[end];
      if (char === undefined || char === "\n") break;
      if (
        char === ":" &&
        (isSpaceOrEnd(end + 1) || (flow && FLOW_INDICATORS.has(text[end + 1]!)))
      ) break;
      if (char === "#" && text[end - 1] === " ") break;
      if (flow && FLOW_INDICATORS.has(char)) break;
      end++;
    }
    const raw = text.slice(at, end).trimEnd();
    at += raw.length;
    return raw;
  };

  /** The key at `at` and the `:` after it, or undefined (with `at` back where it was). */
  const tryKey = (): string | undefined => {
    const start = at;
    const first = text[at];
    const quoted = first === '"' || first === "'";
    const key: unknown = quoted ? readQuoted() : resolvePlain(readPlainText(false));
    if (quoted) { while (text[at] === " ") at++; }
    if (text[at] !== ":" || !isSpaceOrEnd(at + 1)) {
      at = start;
      return undefined;
    }
    // A key that is no string (`1:`, `true:`), or longer than YAML allows.
    if (typeof key !== "string" || at - start > MOST_KEY_LENGTH) throw new NotPlainYaml();
    at++;
    return key;
  };

  const addKey = (
    object: Record<string, unknown>,
    key: string,
    path: PathSegment[],
    keyAt: number,
  ) => {
    // A key twice (parse.ts names both lines), one that would set the prototype, a merge key.
    if (Object.hasOwn(object, key) || key === "__proto__" || key === "<<") throw new NotPlainYaml();
    const keyPath = [...path, key];
    keys.set(pathKey(keyPath), position(keyAt));
    return keyPath;
  };

  /** The block mapping whose first key is at `at`, its keys at column `indent`. */
  const readMapping = (path: PathSegment[], depth: number): Record<string, unknown> => {
    const indent = column();
    const object: Record<string, unknown> = {};
    for (;;) {
      const keyAt = at;
      const key = tryKey();
      if (key === undefined) throw new NotPlainYaml();
      const keyPath = addKey(object, key, path, keyAt);
      object[key] = readAfterIndicator(keyPath, indent, true, depth);
      if (!skipToContent()) return object;
      if (column() < indent) return object;
      if (column() > indent || atListIndicator()) throw new NotPlainYaml();
    }
  };

  /** The block list whose first `-` is at `at`, its items at column `indent`. */
  const readList = (path: PathSegment[], depth: number): unknown[] => {
    const indent = column();
    const list: unknown[] = [];
    for (;;) {
      at++; // the `-`
      list.push(readAfterIndicator([...path, list.length], indent, false, depth));
      if (!skipToContent() || column() < indent) return list;
      if (column() > indent) throw new NotPlainYaml();
      if (!atListIndicator()) return list; // the next key of the mapping this list is a value of
    }
  };

  /**
   * The node after a `key:` or a `-` of a collection at column `indent`: on the same line, on
   * the lines below, or empty (null). A mapping's value may be a list at the key's own column.
   */
  const readAfterIndicator = (
    path: PathSegment[],
    indent: number,
    afterKey: boolean,
    depth: number,
  ): unknown => {
    while (text.charCodeAt(at) === 0x20) at++;
    const emptyAt = at;
    skipSpacesAndComment();
    if (!atLineEnd()) {
      return readNode(path, indent, afterKey ? "value" : "item", depth + 1);
    }
    if (skipToContent()) {
      if (column() > indent) return readNode(path, indent, "line", depth + 1);
      if (afterKey && column() === indent && atListIndicator()) {
        values.set(pathKey(path), position(at));
        return readList(path, depth + 1);
      }
    }
    values.set(pathKey(path), position(emptyAt));
    return null;
  };

  /** The node at `at`, in a block collection at column `indent` (-1: the document). */
  const readNode = (path: PathSegment[], indent: number, place: Place, depth: number): unknown => {
    if (depth > MOST_DEPTH) throw new NotPlainYaml();
    values.set(pathKey(path), position(at));
    const first = text[at];
    if (first === "[" || first === "{") {
      const value = readFlow(path, indent, depth, true);
      endLine();
      return value;
    }
    if (atListIndicator()) {
      if (place === "value") throw new NotPlainYaml(); // `key: - a`
      return readList(path, depth);
    }
    if ((first === "|" || first === ">") && place !== "line") return readBlockScalar(indent);
    if (place !== "value") {
      const start = at;
      if (tryKey() !== undefined) {
        at = start;
        return readMapping(path, depth);
      }
    }
    const value = first === '"' || first === "'"
      ? readQuoted()
      : resolvePlain(readPlainText(false));
    endLine();
    return value;
  };

  /**
   * The literal (`|`) or folded (`>`) block scalar at `at`, in a collection at column `indent`;
   * leaves `at` at the start of the line after it. A folded scalar's more-indented lines, a last
   * line with no line break and an empty scalar go to parse.ts.
   */
  const readBlockScalar = (indent: number): string => {
    const folded = text[at++] === ">";
    // Its indicators, in either order: chomping (`-`, `+`) and indentation (a digit).
    const indicators = /^(?:([-+])([1-9])|([1-9])?([-+])?)/.exec(text.slice(at, at + 2))!;
    at += indicators[0].length;
    const chompSign = indicators[1] ?? indicators[4];
    const chomp = chompSign === "-" ? "strip" : chompSign === "+" ? "keep" : "clip";
    const explicit = indicators[2] ?? indicators[3];
    endLine();
    const lines: string[] = [];
    let blockIndent = explicit === undefined ? -1 : indent + Number(explicit);
    let mostLeadingSpaces = 0;
    while (at < text.length) {
      newline();
      if (at >= text.length) break; // the text ended with the last line's break
      const end = text.indexOf("\n", at);
      const lineEnd = end < 0 ? text.length : end;
      let spaces = 0;
      while (text.charCodeAt(at + spaces) === 0x20) spaces++;
      if (at + spaces === lineEnd) { // a line of spaces only
        if (blockIndent >= 0 && spaces > blockIndent) throw new NotPlainYaml();
        mostLeadingSpaces = Math.max(mostLeadingSpaces, spaces);
        lines.push("");
        at = lineEnd;
        continue;
      }
      if (blockIndent < 0) {
        if (spaces <= indent || mostLeadingSpaces > spaces) throw new NotPlainYaml();
        blockIndent = spaces;
      }
      if (spaces < blockIndent) break; // the next node's line
      const content = text.slice(at + blockIndent, lineEnd);
      if ((folded && content.startsWith(" ")) || end < 0) throw new NotPlainYaml();
      lines.push(content);
      at = lineEnd;
    }
    let last = lines.length;
    while (last > 0 && lines[last - 1] === "") last--;
    if (last === 0) throw new NotPlainYaml();
    let body = "";
    if (folded) {
      // A line break between two lines becomes a space; k empty lines between them, k breaks.
      let breaks = 0;
      for (const [index, line] of lines.slice(0, last).entries()) {
        if (line === "") {
          breaks++;
          continue;
        }
        if (index > 0) body += breaks > 0 ? "\n".repeat(breaks) : " ";
        breaks = 0;
        body += line;
      }
    } else body = lines.slice(0, last).join("\n");
    if (chomp === "strip") return body;
    return body + "\n" + (chomp === "keep" ? "\n".repeat(lines.length - last) : "");
  };

  /** After a node that ends its line: nothing but spaces and a comment may follow. */
  const endLine = () => {
    if (text[at] !== " " && !atLineEnd()) throw new NotPlainYaml();
    skipSpacesAndComment();
    if (!atLineEnd()) throw new NotPlainYaml();
  };

  /** Skips spaces, line breaks and comments inside `[...]` or `{...}`. */
  const skipFlowSpace = (indent: number, outermost: boolean) => {
    for (;;) {
      skipSpacesAndComment();
      if (text.charCodeAt(at) !== 0x0a) return;
      newline();
      while (text.charCodeAt(at) === 0x20) at++;
      // A line of a flow collection inside a block one is indented past the block's column; the
      // outermost collection's closing bracket may stand at that column.
      if (
        column() <= indent && !atLineEnd() && text[at] !== "#" &&
        !(outermost && column() === indent && (text[at] === "]" || text[at] === "}"))
      ) throw new NotPlainYaml();
    }
  };

  /** The flow collection (`[...]` or `{...}`) at `at`. */
  const readFlow = (
    path: PathSegment[],
    indent: number,
    depth: number,
    outermost: boolean,
  ): unknown => {
    const list = text[at] === "[";
    const close = list ? "]" : "}";
    at++;
    const items: unknown[] = [];
    const object: Record<string, unknown> = {};
    skipFlowSpace(indent, outermost);
    if (text[at] === close) {
      at++;
      return list ? items : object;
    }
    for (;;) {
      if (list) {
        items.push(readFlowNode([...path, items.length], indent, depth + 1));
      } else {
        const keyAt = at;
        const first = text[at];
        const key = first === '"' || first === "'"
          ? readQuoted()
          : resolvePlain(readPlainText(true));
        if (typeof key !== "string") throw new NotPlainYaml();
        const keyPath = addKey(object, key, path, keyAt);
        while (text[at] === " ") at++;
        if (text[at] !== ":") throw new NotPlainYaml(); // `{ a }`: a key with no value
        at++;
        skipFlowSpace(indent, outermost);
        if (text[at] === "," || text[at] === "}") throw new NotPlainYaml();
        object[key] = readFlowNode(keyPath, indent, depth + 1);
      }
      skipFlowSpace(indent, outermost);
      if (text[at] === close) {
        at++;
        return list ? items : object;
      }
      if (text[at] !== ",") throw new NotPlainYaml(); // and `[a: b]`, a pair in a list
      at++;
      skipFlowSpace(indent, outermost);
      if (text[at] === close) { // a comma may end the items: `[a, b,]`
        at++;
        return list ? items : object;
      }
    }
  };

  const readFlowNode = (path: PathSegment[], indent: number, depth: number): unknown => {
    if (depth > MOST_DEPTH) throw new NotPlainYaml();
    values.set(pathKey(path), position(at));
    const first = text[at];
    if (first === "[" || first === "{") return readFlow(path, indent, depth, false);
    if (first === '"' || first === "'") return readQuoted();
    return resolvePlain(readPlainText(true));
  };

  try {
    if (!skipToContent()) return undefined;
    if (text.startsWith("---", at) && at === lineStart && isSpaceOrEnd(at + 3)) {
      at += 3;
      skipSpacesAndComment();
      if (!atLineEnd() || !skipToContent()) return undefined;
    }
    if (at === lineStart && text[at] === "%") return undefined; // a directive
    const value = readNode([], -1, "line", 0);
    if (skipToContent()) return undefined; // more documents, or what follows is not YAML
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    return positionedDocument(file, value, values, keys);
  } catch (error) {
    if (error instanceof NotPlainYaml) return undefined;
    throw error;
  }
}

/** Escapes in double quotes the reader takes, and what they stand for. */
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  "b": "\b",
  "f": "\f",
  "n": "\n",
  "r": "\r",
  "t": "\t",
  "0": "\0",
  " ": " ",
};

/**
 * A plain scalar's value as YAML 1.2's core schema reads it, the `yaml` package's default: null,
 * booleans, integers (decimal, `0o` octal, `0x` hex) and floats; anything else is a string.
 */
function resolvePlain(raw: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(raw)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(raw)) return raw[0] === "t" || raw[0] === "T";
  const first = raw.charCodeAt(0);
  // Only text that starts like a number can be one: a digit, a sign or a point.
  if (!((first >= 0x30 && first <= 0x39) || raw[0] === "-" || raw[0] === "+" || raw[0] === ".")) {
    return raw;
  }
  if (/^0o[0-7]+$/.test(raw)) return parseInt(raw.slice(2), 8);
  if (/^[-+]?[0-9]+$/.test(raw)) return parseInt(raw, 10);
  if (/^0x[0-9a-fA-F]+$/.test(raw)) return parseInt(raw.slice(2), 16);
  if (/^[-+]?(?:\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(raw)) throw new NotPlainYaml();
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(raw)) return parseFloat(raw);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(raw)) return parseFloat(raw);
  return raw;
}
