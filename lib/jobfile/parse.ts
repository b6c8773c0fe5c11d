/**
 * Job-file text to a plain value, keeping the line and column of every node so later steps
 * can pin an error to its place. YAML 1.2 is a superset of JSON, so one parser serves both and
 * JSON files get positions and duplicate-key errors too.
 *
 * @module
 */
import type { Node } from "yaml";
import { YAML } from "./yaml.ts";
import { InvalidJobFileError, JobFileError, type SourcePosition } from "./errors.ts";

const { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } = YAML;

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

/** Options for {@linkcode parseJobFileText}. */
export interface ParseOptions {
  /** How many alias expansions a document may make (a guard against alias bombs). @default 100 */
  maxAliasCount?: number;
}

/** The key of a path in the position maps. */
export function pathKey(path: readonly PathSegment[]): string {
  return JSON.stringify(path);
}

/**
 * Parses job-file text (YAML or JSON).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJobFileText } from "./parse.ts";
 * const doc = parseJobFileText("jobs:\n  - name: a\n    run: [true]\n", "jobs.yaml");
 * assert(doc.locate(["jobs", 0, "run"])?.line === 3);
 * ```
 * @throws {InvalidJobFileError} on empty text, syntax errors, duplicate keys, unknown tags or
 * too many aliases
 */
export function parseJobFileText(
  text: string,
  file: string,
  options: ParseOptions = {},
): ParsedDocument {
  const { maxAliasCount = 100 } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    // Duplicate keys are found below, where their path and both lines can be named.
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
  });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const errors = [...doc.errors, ...doc.warnings].map((problem) => {
    const detail = problem.code === "TAG_RESOLVE_FAILED"
      ? `uses an unknown tag: ${problem.message.replace(/^Unresolved tag: /, "")}`
      : `is not valid YAML or JSON: ${problem.message.split("\n")[0]}`;
    return new JobFileError(detail, { file, position: at(problem.pos[0]) });
  });
  if (errors.length > 0) throw new InvalidJobFileError(file, errors);
  const duplicates = duplicateKeys(doc.contents as Node | null, at);
  if (duplicates.length > 0) {
    throw new InvalidJobFileError(
      file,
      duplicates.map(({ path, first, again }) =>
        new JobFileError(`is given twice (lines ${first.line} and ${again.line})`, {
          file,
          position: again,
          field: formatPath(path),
          hint: "keep one",
        })
      ),
    );
  }
  if (doc.contents === null) {
    throw new InvalidJobFileError(file, [
      new JobFileError("is empty: a job file needs at least a `jobs:` list", { file }),
    ]);
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (error) {
    throw new InvalidJobFileError(file, [
      new JobFileError(
        `expands too many aliases (more than ${maxAliasCount}): refusing a possible alias bomb`,
        { file, cause: error },
      ),
    ]);
  }

  const valuePositions = new Map<string, SourcePosition>();
  const keyPositions = new Map<string, SourcePosition>();
  const walk = (node: Node | null, path: PathSegment[]) => {
    if (!node) return;
    if (node.range) valuePositions.set(pathKey(path), at(node.range[0]));
    if (isAlias(node) || isScalar(node)) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const childPath = [...path, key];
        const keyNode = pair.key as Node | null;
        if (keyNode?.range) keyPositions.set(pathKey(childPath), at(keyNode.range[0]));
        walk(pair.value as Node | null, childPath);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item as Node | null, [...path, index]));
    }
  };
  walk(doc.contents as Node, []);

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
 * import { formatPath } from "./parse.ts";
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

/** A key given twice in one mapping: where it stands, and both places. */
interface DuplicateKey {
  path: PathSegment[];
  first: SourcePosition;
  again: SourcePosition;
}

/** Every key given more than once in a mapping of `node`, in document order. */
function duplicateKeys(
  node: Node | null,
  at: (offset: number) => SourcePosition,
): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const visit = (node: Node | null, path: PathSegment[]) => {
    if (!node || isAlias(node) || isScalar(node)) return;
    if (isMap(node)) {
      const seen = new Map<string, SourcePosition>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as Node | null;
        const position = keyNode?.range ? at(keyNode.range[0]) : { line: 0, column: 0 };
        const first = seen.get(key);
        if (first) found.push({ path: [...path, key], first, again: position });
        else seen.set(key, position);
        visit(pair.value as Node | null, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item as Node | null, [...path, index]));
    }
  };
  visit(node, []);
  return found;
}
