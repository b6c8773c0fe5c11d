/**
 * The built-in compute functions, usable in a job file as `module: builtin:<name>`.
 *
 * @module
 */

/** Built-in module names and their files. */
export const BUILTINS: Readonly<Record<string, URL>> = {
  count: new URL("./count.ts", import.meta.url),
  image: new URL("./image.ts", import.meta.url),
  sha256: new URL("./sha256.ts", import.meta.url),
};

/**
 * The module URL behind `builtin:<name>`, or undefined for an unknown name.
 *
 * @example
 * ```ts
 * import { builtinModuleUrl } from "./mod.ts";
 * console.assert(builtinModuleUrl("count")?.endsWith("/count.ts"));
 * ```
 */
export function builtinModuleUrl(name: string): string | undefined {
  return Object.hasOwn(BUILTINS, name) ? BUILTINS[name]!.href : undefined;
}
