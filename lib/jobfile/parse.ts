/**
 * Job-file text to a plain value, keeping the line and column of every node so later steps
 * can pin an error to its place. YAML 1.2 is a superset of JSON, so this parser serves both and
 * says what is wrong with either; a JSON file that is well formed is read without it
 * (json_document.ts), as its value and positions are the same.
 *
 * @module
 */
import type { Document, Node } from "yaml";
import { YAML } from "./yaml.ts";
import { InvalidJobFileError, JobFileError, type SourcePosition } from "./errors.ts";
import {
  formatPath,
  type ParsedDocument,
  pathKey,
  type PathSegment,
  positionedDocument,
} from "./document.ts";

export { formatPath, pathKey } from "./document.ts";
export type { ParsedDocument, PathSegment } from "./document.ts";

const { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } = YAML;

/** Options for {@linkcode parseJobFileText}. */
export interface ParseOptions {
  /** How many alias expansions a document may make (a guard against alias bombs). @default 100 */
  maxAliasCount?: number;
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
    // `<<: *anchor` merges the anchored mapping's keys under the ones given beside it.
    merge: true,
  });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const lines = text.split(/\r?\n/);
  const errors = [...doc.errors, ...doc.warnings].map((problem) => {
    const position = at(problem.pos[0]);
    if (problem.code === "TAG_RESOLVE_FAILED") {
      const tag = problem.message.replace(/^Unresolved tag: /, "");
      return new JobFileError(`uses an unknown tag: ${tag}`, { file, position });
    }
    if (problem.code === "MULTIPLE_DOCS") {
      const detail = "holds a second YAML document (after `---`): a job file is one document";
      return new JobFileError(detail, { file, position });
    }
    // The parser's words are terse; the line it stopped at shows what they mean (its indent).
    const source = lines[position.line - 1]?.trimEnd();
    const hint = source
      ? `line ${position.line} reads ${JSON.stringify(shorten(source))}`
      : undefined;
    return new JobFileError(`is not valid YAML or JSON: ${problem.message.split("\n")[0]}`, {
      file,
      position,
      ...(hint ? { hint } : {}),
    });
  });
  if (errors.length > 0) throw new InvalidJobFileError(file, errors);
  const duplicates = duplicateKeys(doc.contents as Node | null, at);
  if (duplicates.length > 0) {
    throw new InvalidJobFileError(
      file,
      duplicates.map(({ path, first, again }) =>
        new JobFileError(`is given twice (${places(first, again)})`, {
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
    const merge = /^Merge sources/.test((error as Error).message)
      ? badMergeSource(doc.contents as Node | null, doc)
      : undefined;
    throw new InvalidJobFileError(file, [
      merge
        ? new JobFileError(
          "merges what is not a mapping: `<<:` takes an alias of one (<<: *name), a mapping, " +
            "or a list of them",
          { file, position: at(merge[0]) },
        )
        : new JobFileError(
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
      // Merged keys first (`<<: *anchor`), where the anchor is: keys given beside them win.
      for (const pair of node.items) {
        if (isPair(pair) && isMergePair(pair)) {
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const source of sources.toReversed()) {
            const merged = isAlias(source) ? source.resolve(doc) : source;
            if (isMap(merged)) walkPairs(merged.items, path);
          }
        }
      }
      walkPairs(
        node.items.filter((pair) =>
          !(isPair(pair) && isScalar(pair.key) &&
            pair.key.value === "<<")
        ),
        path,
      );
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item as Node | null, [...path, index]));
    }
  };
  function walkPairs(pairs: readonly unknown[], path: PathSegment[]) {
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const childPath = [...path, key];
      const keyNode = pair.key as Node | null;
      if (keyNode?.range) keyPositions.set(pathKey(childPath), at(keyNode.range[0]));
      walk(pair.value as Node | null, childPath);
    }
  }
  walk(doc.contents as Node, []);
  return positionedDocument(file, value, valuePositions, keyPositions);
}

/** The range of the first merge source in `node` that is not a mapping, if any. */
function badMergeSource(node: Node | null, doc: Document): [number, number, number] | undefined {
  if (!node || isScalar(node) || isAlias(node)) return undefined;
  const items = (isMap(node) || isSeq(node) ? node.items : []) as unknown[];
  for (const item of items) {
    if (isMergePair(item)) {
      const value = (item as { value: Node | null }).value;
      const sources = isSeq(value) ? value.items as Node[] : [value];
      for (const source of sources) {
        const resolved = isAlias(source) ? source.resolve(doc) : source;
        if (!isMap(resolved)) return (source ?? value)?.range ?? undefined;
      }
    }
    const inner = isPair(item) ? item.value as Node | null : item as Node | null;
    const found = badMergeSource(inner, doc);
    if (found) return found;
  }
  return undefined;
}

/** Whether `pair` is a merge (`<<: *anchor`): its key, `<<`, the parser's symbol. */
function isMergePair(pair: unknown): boolean {
  return isPair(pair) && isScalar(pair.key) && typeof pair.key.value === "symbol" &&
    pair.key.source === "<<";
}

/** Two places in a file: their lines, or on one line (a JSON file on one line), their columns. */
function places(first: SourcePosition, again: SourcePosition): string {
  return first.line === again.line
    ? `line ${first.line}, columns ${first.column} and ${again.column}`
    : `lines ${first.line} and ${again.line}`;
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
        const key = isMergePair(pair)
          ? "<<"
          : isScalar(pair.key)
          ? String(pair.key.value)
          : String(pair.key);
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

/** `text`, cut to 80 characters. */
function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
