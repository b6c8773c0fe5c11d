/**
 * Every path into a parsed value, for tests that compare two readers of job files node by node.
 *
 * @module
 */
import type { PathSegment } from "../../lib/jobfile/document.ts";

/** Every path into `value`, the root first. */
export function pathsOf(value: unknown, path: PathSegment[] = []): PathSegment[][] {
  const paths = [path];
  if (Array.isArray(value)) {
    value.forEach((item, index) => paths.push(...pathsOf(item, [...path, index])));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...path, key]));
  }
  return paths;
}
