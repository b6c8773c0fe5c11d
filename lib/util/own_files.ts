/**
 * Where taskpool's own files are, from source or from the bundle (`deno task bundle`): the entry
 * points its Worker and process hosts start, and the built-in compute modules. From source they
 * are the `.ts` files of the repository; in the bundle, the `.js` files beside `dist/main.js`,
 * in the same folders.
 *
 * @module
 */
import { resolve } from "./posix_path.ts";

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
    ? new URL(`./${path.replace(/\.ts$/, ".js")}`, bundleRoot())
    : new URL(`../../${path}`, import.meta.url);
}

/**
 * The file system path of a `file:` URL, without `node:url`: the modules every command loads
 * stay clear of Node's compatibility layer, whose first use costs a fresh process some 15 ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filePath } from "./own_files.ts";
 * assert.equal(filePath("file:///tmp/a%20b/c.ts"), "/tmp/a b/c.ts");
 * ```
 *
 * @throws {TypeError} when `url` is not a `file:` URL
 */
export function filePath(url: URL | string): string {
  const { protocol, pathname } = new URL(url);
  if (protocol !== "file:") throw new TypeError(`not a file URL: ${url}`);
  const path = decodeURIComponent(pathname);
  // file:///C:/dir on Windows is C:\dir.
  return Deno.build.os === "windows" ? path.slice(1).replaceAll("/", "\\") : path;
}

/**
 * The `file:` URL of a path, as `node:url`'s pathToFileURL gives it (without loading it): the
 * path resolved, a trailing slash kept, and what a URL path cannot hold as it is escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileUrl } from "./own_files.ts";
 * assert.equal(fileUrl("/tmp/a b/#1.ts").href, "file:///tmp/a%20b/%231.ts");
 * ```
 */
export function fileUrl(path: string): URL {
  let absolute = resolve(path);
  if (path.endsWith("/") && !absolute.endsWith("/")) absolute += "/";
  const url = new URL("file:///");
  // The URL's own escaping leaves these, which pathToFileURL escapes too.
  url.pathname = absolute.replace(
    /[%\\\n\r\t[\]^|~]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return url;
}

/**
 * The bundle's folder. This code is inlined into each of the bundle's entry files: the main one
 * (`taskpool.js`) sits in that folder, the others in their source folders below it
 * (`lib/distributed/worker.js`), whose path is taken off.
 */
function bundleRoot(): URL {
  const here = new URL(import.meta.url);
  const entry = BUNDLE_ENTRIES.map((path) => path.replace(/\.ts$/, ".js"))
    .find((path) => here.pathname.endsWith(`/${path}`));
  return new URL(entry === undefined ? "./" : "../".repeat(entry.split("/").length - 1), here);
}

/** The bundle's entry files other than the main one, as `deno task bundle` lists them. */
const BUNDLE_ENTRIES = [
  "lib/pools/worker/host_main.ts",
  "lib/pools/worker/web_runner.ts",
  "lib/pools/worker/node_runner.ts",
  "lib/pools/process/host_main.ts",
  "lib/distributed/coordinator.ts",
  "lib/distributed/worker.ts",
  "tasks/compute/builtin/count.ts",
  "tasks/compute/builtin/image.ts",
  "tasks/compute/builtin/sha256.ts",
];
