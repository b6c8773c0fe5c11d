/**
 * Where taskpool's own files are, from source or from the bundle (`deno task bundle`): the entry
 * points its Worker and process hosts start, and the built-in compute modules. From source they
 * are the `.ts` files of the repository; in the bundle, the `.js` files beside `dist/main.js`,
 * in the same folders.
 *
 * @module
 */

/** Whether this code runs from the bundle rather than from the repository's source. */
export const BUNDLED = import.meta.url.endsWith(".js");

/**
 * The URL of one of taskpool's files, named by its source path from the repository's root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownFileUrl } from "./own_files.ts";
 * assert(ownFileUrl("lib/pools/worker/host_main.ts").pathname.endsWith("/lib/pools/worker/host_main.ts"));
 * ```
 */
export function ownFileUrl(path: string): URL {
  return BUNDLED
    ? new URL(`./${path.replace(/\.ts$/, ".js")}`, import.meta.url)
    : new URL(`../../${path}`, import.meta.url);
}
