/**
 * A JSON job file read without the `yaml` package, which costs a start some 20 ms to load and
 * compile. JSON is YAML, so `parse.ts` reads it too, and the two give the same value and the
 * same positions (tests/jobfile/json_document_test.ts holds them to it); this reader takes only
 * what is plainly well formed, and leaves the rest to `parse.ts`, which says what is wrong: text
 * that is not a JSON object, a key given twice, a `__proto__` key, a control character in a
 * string.
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
const MOST_DEPTH = 256;

/** Thrown inside the reader for anything it leaves to `parse.ts`. */
class NotPlainJson extends Error {}

/**
 * The document of `text` when it is a well-formed JSON object; undefined otherwise (read it with
 * `parseJobFileText` then).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonDocument } from "./json_document.ts";
 * const doc = parseJsonDocument('{\n  "jobs": [{ "name": "a", "run": ["true"] }]\n}', "a.json");
 * assert.deepEqual(doc?.value, { jobs: [{ name: "a", run: ["true"] }] });
 * assert.deepEqual(doc?.locate(["jobs", 0, "run"]), { line: 2, column: 34 });
 * assert.equal(parseJsonDocument("jobs: []", "a.yaml"), undefined);
 * assert.equal(parseJsonDocument('{ "a": 1, "a": 2 }', "a.json"), undefined);
 * ```
 */
export function parseJsonDocument(text: string, file: string): ParsedDocument | undefined {
  let at = 0;
  // Where each line starts, filled as the reader passes newlines: positions are looked up in it.
  const lineStarts = new LineStarts();
  const position = (offset: number) => lineStarts.position(offset);
  const values = new Map<string, SourcePosition>();
  const keys = new Map<string, SourcePosition>();
  const skipSpace = () => {
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === 0x20 || code === 0x09 || code === 0x0d) at++;
      else if (code === 0x0a) lineStarts.add(++at);
      else return;
    }
  };
  const expect = (char: string) => {
    if (text[at] !== char) throw new NotPlainJson();
    at++;
  };

  const readString = (): string => {
    expect('"');
    let out = "";
    let from = at;
    for (;;) {
      const code = text.charCodeAt(at);
      if (Number.isNaN(code) || code < 0x20) throw new NotPlainJson();
      if (code === 0x22) {
        out += text.slice(from, at++);
        return out;
      }
      if (code !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(from, at);
      const escape = text[at + 1];
      at += 2;
      switch (escape) {
        case '"':
        case "\\":
        case "/":
          out += escape;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(at, at + 4);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new NotPlainJson();
          out += String.fromCharCode(parseInt(hex, 16));
          at += 4;
          break;
        }
        default:
          throw new NotPlainJson();
      }
      from = at;
    }
  };

  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const readValue = (path: PathSegment[], depth: number): unknown => {
    if (depth > MOST_DEPTH) throw new NotPlainJson();
    values.set(pathKey(path), position(at));
    const char = text[at];
    if (char === "{") {
      at++;
      const object: Record<string, unknown> = {};
      skipSpace();
      if (text[at] === "}") {
        at++;
        return object;
      }
      for (;;) {
        skipSpace();
        const keyAt = at;
        const key = readString();
        // A key given twice, or one that would set the prototype: parse.ts answers for those.
        if (Object.hasOwn(object, key) || key === "__proto__") throw new NotPlainJson();
        const childPath = [...path, key];
        keys.set(pathKey(childPath), position(keyAt));
        skipSpace();
        expect(":");
        skipSpace();
        object[key] = readValue(childPath, depth + 1);
        skipSpace();
        if (text[at] === "}") {
          at++;
          return object;
        }
        expect(",");
      }
    }
    if (char === "[") {
      at++;
      const list: unknown[] = [];
      skipSpace();
      if (text[at] === "]") {
        at++;
        return list;
      }
      for (;;) {
        skipSpace();
        list.push(readValue([...path, list.length], depth + 1));
        skipSpace();
        if (text[at] === "]") {
          at++;
          return list;
        }
        expect(",");
      }
    }
    if (char === '"') return readString();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (!number) throw new NotPlainJson();
    at += number[0].length;
    return Number(number[0]);
  };

  try {
    skipSpace();
    if (text[at] !== "{") return undefined;
    const value = readValue([], 0);
    skipSpace();
    if (at !== text.length) return undefined;
    return positionedDocument(file, value, values, keys);
  } catch (error) {
    if (error instanceof NotPlainJson) return undefined;
    throw error;
  }
}
