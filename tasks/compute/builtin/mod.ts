/**
 * The built-in compute functions, usable in a job file as `module: builtin:<name>`.
 *
 * @module
 */
import { ownFileUrl } from "../../../lib/util/own_files.ts";

/** Built-in module names and their files. */
export const BUILTINS: Readonly<Record<string, URL>> = {
  count: ownFileUrl("tasks/compute/builtin/count.ts"),
  image: ownFileUrl("tasks/compute/builtin/image.ts"),
  sha256: ownFileUrl("tasks/compute/builtin/sha256.ts"),
};

/**
 * The module URL behind `builtin:<name>`, or undefined for an unknown name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtinModuleUrl } from "./mod.ts";
 * assert(builtinModuleUrl("count")?.endsWith("/count.ts"));
 * ```
 */
export function builtinModuleUrl(name: string): string | undefined {
  return Object.hasOwn(BUILTINS, name) ? BUILTINS[name]!.href : undefined;
}
