/**
 * A parsed job file as the later steps see it, whatever parsed it: its value, and where each of
 * its nodes stands, so that an error can name its line and field. YAML files are parsed by
 * `parse.ts` (the `yaml` package), JSON files by `json_document.ts`; neither step after parsing
 * loads either.
 *
 * @module
 */
import type { SourcePosition } from "./errors.ts";

/** One step of a path into the document: a mapping key or a list index. */
export type PathSegment = string | number;

/** A parsed job file: its value and where each node of it came from. */
export interface ParsedDocument {
  /** The file as the user named it, for messages. */
  file: string;
  /** The plain value (objects, arrays, scalars). */
  value: unknown;
  /** Position of the value at `path`, or of its nearest ancestor that has one. */
  locate(path: readonly PathSegment[]): SourcePosition | undefined;
  /** Position of the key that holds the value at `path` (falls back to {@linkcode locate}). */
  locateKey(path: readonly PathSegment[]): SourcePosition | undefined;
}

/** The key of a path in the position maps. */
export function pathKey(path: readonly PathSegment[]): string {
  return JSON.stringify(path);
}

/**
 * A document of `value`, with the positions of its values and keys by {@linkcode pathKey}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathKey, positionedDocument } from "./document.ts";
 * const values = new Map([[pathKey([]), { line: 1, column: 1 }]]);
 * const doc = positionedDocument("a.json", {}, values, new Map());
 * assert.deepEqual(doc.locate(["jobs", 0]), { line: 1, column: 1 });
 * ```
 */
export function positionedDocument(
  file: string,
  value: unknown,
  valuePositions: ReadonlyMap<string, SourcePosition>,
  keyPositions: ReadonlyMap<string, SourcePosition>,
): ParsedDocument {
  const locate = (path: readonly PathSegment[]) => {
    for (let end = path.length; end >= 0; end--) {
      const found = valuePositions.get(pathKey(path.slice(0, end)));
      if (found) return found;
    }
    return undefined;
  };
  const locateKey = (path: readonly PathSegment[]) =>
    keyPositions.get(pathKey(path)) ?? locate(path);
  return { file, value, locate, locateKey };
}

/**
 * A field path as users read it: `jobs[3].download.url`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPath } from "./document.ts";
 * assert(formatPath(["jobs", 3, "download", "url"]) === "jobs[3].download.url");
 * ```
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Where the lines of a text start, recorded by a reader as it passes each line break, and the
 * line and column of an offset among them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineStarts } from "./document.ts";
 * const lines = new LineStarts();
 * lines.add(3); // "ab\ncd": the second line starts at 3
 * assert.deepEqual(lines.position(4), { line: 2, column: 2 });
 * ```
 */
export class LineStarts {
  readonly #starts = [0];

  /** Records that a line starts at `offset`, after those recorded so far. */
  add(offset: number): void {
    this.#starts.push(offset);
  }

  /** The line and column (both from 1) of `offset`. */
  position(offset: number): SourcePosition {
    const starts = this.#starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  }
}

/**
 * `doc` without its top-level keys that start with `x-`: a place for YAML anchors to share
 * settings between jobs (`x-common: &common {...}`, then `<<: *common`), as docker-compose has.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positionedDocument, withoutExtensions } from "./document.ts";
 * const doc = positionedDocument("a.yaml", { "x-a": 1, jobs: [] }, new Map(), new Map());
 * assert.deepEqual(withoutExtensions(doc).value, { jobs: [] });
 * ```
 */
export function withoutExtensions(doc: ParsedDocument): ParsedDocument {
  const { value } = doc;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return doc;
  const keys = Object.keys(value);
  if (!keys.some((key) => key.startsWith("x-"))) return doc;
  const kept = Object.fromEntries(
    Object.entries(value).filter(([key]) => !key.startsWith("x-")),
  );
  return { ...doc, value: kept };
}
