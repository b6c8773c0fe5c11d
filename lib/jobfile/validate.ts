/**
 * Checks a parsed job file against the schema and the cross-field rules, and returns the typed
 * {@linkcode JobFile}. Every problem is collected, pinned to its line and field, then thrown
 * together.
 *
 * @module
 */
import type { z } from "zod";
import { InvalidJobFileError, JobFileError } from "./errors.ts";
import { checkJobRules } from "./check.ts";
import { type Environment, interpolateDocument } from "./interpolate.ts";
import { formatPath, type ParsedDocument, type PathSegment } from "./document.ts";
import { FIELDS, type JobFile, jobFileSchemas } from "./schema.ts";
import type { Kinds } from "../kind_definition.ts";
import { closest } from "./suggest.ts";
import { quoted } from "./fields.ts";

/** Options for {@linkcode validateJobFile}. */
export interface ValidateOptions {
  /** The job kinds the file may use. */
  kinds: Kinds;
  /** Where `${VAR}` values come from. @default Deno.env.get */
  env?: Environment;
}

/**
 * Validates a parsed job file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJobFileText } from "./parse.ts";
 * import { validateJobFile } from "./validate.ts";
 * import { KINDS } from "../../tasks/mod.ts";
 * const doc = parseJobFileText("jobs:\n  - { name: hi, run: [echo, hi] }\n", "jobs.yaml");
 * const file = validateJobFile(doc, { kinds: KINDS, env: () => undefined });
 * assert(file.output === "downloads" && file.jobs[0]?.needs.length === 0);
 * ```
 * @throws {InvalidJobFileError} with every problem found
 */
export function validateJobFile(doc: ParsedDocument, options: ValidateOptions): JobFile {
  const { kinds, env = (name) => Deno.env.get(name) } = options;
  const schema = jobFileSchemas(kinds).file;
  const interpolated = interpolateDocument(doc, env);
  const errors = [...interpolated.errors];

  const parsed = schema.safeParse(interpolated.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors.push(...issueToErrors(doc, interpolated.value, issue, schema));
    }
  }
  errors.push(...checkJobRules(doc, interpolated.value, kinds, FIELDS));

  if (errors.length > 0 || !parsed.success) {
    throw new InvalidJobFileError(doc.file, sortByPosition(dedupe(errors)));
  }
  return parsed.data;
}

function issueToErrors(
  doc: ParsedDocument,
  root: unknown,
  issue: z.core.$ZodIssue,
  schema: z.ZodType,
): JobFileError[] {
  const path = issue.path.filter((segment): segment is PathSegment => typeof segment !== "symbol");
  const make = (detail: string, at: PathSegment[], hint?: string, atKey = false) =>
    new JobFileError(detail, {
      file: doc.file,
      position: atKey ? doc.locateKey(at) : doc.locate(at),
      field: formatPath(at),
      hint,
    });

  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(schema, path);
    return issue.keys.map((key) => {
      const guess = closest(key, known);
      const hint = key === "<<"
        ? "a merge key is written bare and takes an alias or a list of them: <<: *name"
        : guess
        ? `did you mean "${guess}"?`
        : known.length > 0
        ? `expected one of: ${known.join(", ")}`
        : undefined;
      return make("is not a known key", [...path, key], hint, true);
    });
  }

  if (issue.code === "custom" && issue.params?.["aboutKey"] === true) {
    return [make(issue.message, path, undefined, true)]; // a bad key, such as a header name
  }
  const found = valueAt(root, path);
  if (found.missing) {
    return [make(`is required`, path, undefined, true)];
  }
  if (issue.code === "invalid_type") {
    const expected = issue.message.startsWith("Invalid input")
      ? `must be ${article(issue.expected)}`
      : issue.message;
    return [make(`${expected}: got ${describe(found.value)}`, path)];
  }
  return [make(`${issue.message}: got ${describe(found.value)}`, path)];
}

/** The value at `path`, or `missing` when its last key is absent. */
function valueAt(
  root: unknown,
  path: readonly PathSegment[],
): { value?: unknown; missing: boolean } {
  let node: unknown = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) {
      return { missing: true };
    }
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return { value: node, missing: false };
}

/** The keys the schema allows at `path`, for "did you mean" suggestions. */
function knownKeysAt(root: z.ZodType, path: readonly PathSegment[]): string[] {
  // deno-lint-ignore no-explicit-any
  let schema: any = root;
  const unwrap = () => {
    while (schema?.def && ["optional", "default", "nullable", "pipe"].includes(schema.def.type)) {
      schema = schema.def.innerType ?? schema.def.in;
    }
  };
  unwrap();
  for (const segment of path) {
    if (typeof segment === "number") schema = schema?.def?.element;
    else schema = schema?.def?.shape?.[segment];
    unwrap();
  }
  return schema?.def?.type === "object" ? Object.keys(schema.def.shape) : [];
}

function article(type: string): string {
  const names: Record<string, string> = {
    int: "a whole number",
    number: "a number",
    string: "a string",
    boolean: "true or false",
    array: "a list",
    object: "a mapping",
  };
  return names[type] ?? type;
}

/** A short description of a found value: quoted strings, literal numbers, kinds of the rest. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing (null)";
  if (typeof value === "string") {
    return quoted(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

function dedupe(errors: JobFileError[]): JobFileError[] {
  const seen = new Set<string>();
  return errors.filter((error) => !seen.has(error.message) && seen.add(error.message));
}

function sortByPosition(errors: JobFileError[]): JobFileError[] {
  return errors.toSorted((a, b) =>
    (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)
  );
}
