/**
 * `${VAR}` and `${VAR:-default}` in job-file strings, taken from the environment. `$${` writes
 * a literal `${`. A variable that is unset (and has no default) is an error before anything runs.
 *
 * @module
 */
import { mapStrings } from "../util/map_strings.ts";
import { JobFileError } from "./errors.ts";
import { formatPath, type ParsedDocument, type PathSegment } from "./document.ts";

const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Whether `value`, as written in the job file, takes anything from the environment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usesVariables } from "./interpolate.ts";
 * assert(usesVariables("Bearer ${TOKEN}") && !usesVariables("$${TOKEN}") && !usesVariables(3));
 * ```
 */
export function usesVariables(value: unknown): boolean {
  if (typeof value !== "string") return false;
  for (const match of value.matchAll(REFERENCE)) if (!match[1]) return true;
  return false;
}

/** Where variables come from. */
export type Environment = ((name: string) => string | undefined) & { deferred?: boolean };

/**
 * The environment of a plan whose `${VAR}` references are expanded elsewhere (by the workers
 * of a distributed run): every reference, escape and default stays as written.
 */
export const DEFERRED: Environment = Object.assign(() => undefined, { deferred: true });

/**
 * Replaces variable references in one string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolateString } from "./interpolate.ts";
 * const env = (name: string) => ({ HOST: "127.0.0.1" } as Record<string, string>)[name];
 * assert(interpolateString("http://${HOST}:${PORT:-80}/", env).value === "http://127.0.0.1:80/");
 * assert(interpolateString("$${HOST}", env).value === "${HOST}");
 * ```
 */
export function interpolateString(
  text: string,
  env: Environment,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  if (env.deferred) return { value: text, missing };
  const value = text.replace(REFERENCE, (whole, escaped, name: string, fallback?: string) => {
    if (escaped) return whole.slice(1);
    const found = env(name);
    if (found !== undefined && found !== "") return found;
    if (fallback !== undefined) return fallback;
    if (found === undefined) missing.push(name);
    return "";
  });
  return { value, missing };
}

/**
 * Interpolates every string in the document's value (keys are left alone). Returns a copy.
 */
export function interpolateDocument(
  doc: ParsedDocument,
  env: Environment,
): { value: unknown; errors: JobFileError[] } {
  const errors: JobFileError[] = [];
  const visit = (node: unknown, path: PathSegment[]): unknown => {
    if (typeof node === "string") {
      if (!node.includes("${")) return node;
      const { value, missing } = interpolateString(node, env);
      for (const name of missing) {
        errors.push(
          new JobFileError(`uses \${${name}}, which is not set in the environment`, {
            file: doc.file,
            position: doc.locate(path),
            field: formatPath(path),
            hint: `set it, or write \${${name}:-default}`,
          }),
        );
      }
      return value;
    }
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (node !== null && typeof node === "object") {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        Object.defineProperty(copy, key, {
          value: visit(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return copy;
    }
    return node;
  };
  return { value: visit(doc.value, []), errors };
}

/**
 * Every string in `value` (a job sent by a coordinator) with its references expanded from
 * `env`; the names that are not set are listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolateDeep } from "./interpolate.ts";
 * const env = (name: string) => (name === "T" ? "secret" : undefined);
 * const { value, missing } = interpolateDeep({ h: { a: "Bearer ${T}" }, argv: ["${U}"] }, env);
 * assert.deepEqual(value, { h: { a: "Bearer secret" }, argv: [""] });
 * assert.deepEqual(missing, ["U"]);
 * const plain = { h: { a: "no reference" }, argv: ["x"] };
 * assert.equal(interpolateDeep(plain, env).value, plain);
 * ```
 */
export function interpolateDeep<T>(value: T, env: Environment): { value: T; missing: string[] } {
  const missing = new Set<string>();
  // What holds no reference comes back as it is: most jobs have none, and a copy of each, for
  // thousands of tiny jobs, cost a worker more than its Redis round trips.
  const expanded = mapStrings(value, (text) => {
    if (!text.includes("${")) return text;
    const result = interpolateString(text, env);
    for (const name of result.missing) missing.add(name);
    return result.value;
  });
  return { value: expanded, missing: [...missing] };
}
