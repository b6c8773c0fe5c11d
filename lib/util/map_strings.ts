/**
 * Every string in a plain value (objects, arrays, scalars) mapped, the rest kept: what no mapping
 * changes comes back as it is, not copied, and a changed object is copied with its keys as plain
 * keys (`__proto__` included).
 *
 * @module
 */

/**
 * `value` with `map` applied to each string in it; the same value, or the same parts of it,
 * where `map` changed nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapStrings } from "./map_strings.ts";
 * const job = { argv: ["echo", "$X"], env: { A: "1" } };
 * const mapped = mapStrings(job, (text) => text.replace("$X", "x"));
 * assert.deepEqual(mapped, { argv: ["echo", "x"], env: { A: "1" } });
 * assert.equal(mapped.env, job.env);
 * assert.equal(mapStrings(job, (text) => text), job);
 * ```
 */
export function mapStrings<T>(value: T, map: (text: string) => string): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === "string") return map(node);
    if (Array.isArray(node)) {
      let copy: unknown[] | undefined;
      node.forEach((item, index) => {
        const next = visit(item);
        if (next !== item) (copy ??= [...node])[index] = next;
      });
      return copy ?? node;
    }
    if (node !== null && typeof node === "object") {
      let copy: Record<string, unknown> | undefined;
      for (const [key, item] of Object.entries(node)) {
        const next = visit(item);
        if (next === item) continue;
        copy ??= ownCopy(node);
        defineValue(copy, key, next);
      }
      return copy ?? node;
    }
    return node;
  };
  return visit(value) as T;
}

/** A copy of `object`'s own values; a key such as `__proto__` stays a plain key. */
function ownCopy(object: object): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) defineValue(copy, key, item);
  return copy;
}

function defineValue(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
