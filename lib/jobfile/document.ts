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
