/**
 * POSIX path arithmetic: the part of `node:path` taskpool uses, with the same results. Importing
 * any `node:` module makes Deno start its Node compatibility layer, some 20 ms of every process
 * that does; a run, its child and `validate` need none of the rest of it.
 *
 * Paths are POSIX (`/`-separated): taskpool runs commands through `setsid`, `sh` and `kill`.
 *
 * @module
 */

/** The path separator. */
export const sep = "/";

/** The separator of PATH-like lists. */
export const delimiter = ":";

/**
 * Whether `path` starts at the root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAbsolute } from "./posix_path.ts";
 * assert.equal(isAbsolute("/srv/out"), true);
 * assert.equal(isAbsolute("out"), false);
 * ```
 */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `path`'s names with `.` and `..` worked out; `..` stays at the start of a relative path. */
function names(path: string, absolute: boolean): string[] {
  const out: string[] = [];
  for (const name of path.split("/")) {
    if (name === "" || name === ".") continue;
    if (name !== "..") out.push(name);
    else if (out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  return out;
}

/** What normalizing changes: a `.` or `..` name, or a repeated slash. */
const NOT_NORMAL = /(?:^|\/)\.\.?(?:\/|$)|\/\//;

/**
 * `path` with `.`, `..` and repeated slashes worked out; a trailing slash is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalize } from "./posix_path.ts";
 * assert.equal(normalize("/a//b/../c/"), "/a/c/");
 * assert.equal(normalize("a/.."), ".");
 * ```
 */
export function normalize(path: string): string {
  if (path === "") return ".";
  if (!NOT_NORMAL.test(path)) return path; // most paths are normal already: nothing to rebuild

  const absolute = isAbsolute(path);
  let body = names(path, absolute).join("/");
  if (body === "" && !absolute) body = ".";
  if (body !== "" && path.endsWith("/")) body += "/";
  return absolute ? `/${body}` : body;
}

/**
 * The paths joined with `/`, normalized.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "./posix_path.ts";
 * assert.equal(join("out", "a/", "../b.txt"), "out/b.txt");
 * assert.equal(join(), ".");
 * ```
 */
export function join(...paths: string[]): string {
  let joined = "";
  for (const path of paths) {
    if (path !== "") joined = joined === "" ? path : `${joined}/${path}`;
  }
  return joined === "" ? "." : normalize(joined);
}

/**
 * The absolute path the paths lead to, read right to left from the current folder; no trailing
 * slash but for the root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolve } from "./posix_path.ts";
 * assert.equal(resolve("/srv", "out/", "../jobs.yaml"), "/srv/jobs.yaml");
 * assert.equal(resolve("/srv", "/etc"), "/etc");
 * ```
 */
export function resolve(...paths: string[]): string {
  // An absolute, normal path with no trailing slash resolves to itself.
  if (paths.length === 1 && isAbsolute(paths[0]!) && !NOT_NORMAL.test(paths[0]!)) {
    const path = paths[0]!;
    if (path === "/" || !path.endsWith("/")) return path;
  }
  let resolved = "";
  for (let index = paths.length - 1; index >= -1 && !isAbsolute(resolved); index--) {
    const path = index >= 0 ? paths[index]! : Deno.cwd();
    if (path !== "") resolved = resolved === "" ? path : `${path}/${resolved}`;
  }
  return `/${names(resolved, true).join("/")}`;
}

/**
 * The folder part of `path` (`.` for a bare name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dirname } from "./posix_path.ts";
 * assert.equal(dirname("/srv/out/a.txt"), "/srv/out");
 * assert.equal(dirname("a.txt"), ".");
 * assert.equal(dirname("/a"), "/");
 * ```
 */
export function dirname(path: string): string {
  if (path === "") return ".";
  const rooted = isAbsolute(path);
  // The last slash before the last name, trailing slashes not counted.
  let end = -1;
  let inName = false;
  for (let index = path.length - 1; index >= 1; index--) {
    if (path[index] !== "/") inName = true;
    else if (inName) {
      end = index;
      break;
    }
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

/**
 * The last name of `path`, trailing slashes not counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { basename } from "./posix_path.ts";
 * assert.equal(basename("/srv/out/a.txt"), "a.txt");
 * assert.equal(basename("/srv/out/"), "out");
 * ```
 */
export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/**
 * The path from `from` to `to`, both resolved first (`""` when they are the same).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relative } from "./posix_path.ts";
 * assert.equal(relative("/srv/jobs", "/srv/out/a.txt"), "../out/a.txt");
 * assert.equal(relative("/srv", "/srv"), "");
 * ```
 */
export function relative(from: string, to: string): string {
  const fromNames = names(resolve(from), true);
  const toNames = names(resolve(to), true);
  let common = 0;
  while (
    common < fromNames.length && common < toNames.length &&
    fromNames[common] === toNames[common]
  ) common++;
  return [
    ...Array<string>(fromNames.length - common).fill(".."),
    ...toNames.slice(common),
  ].join("/");
}
