/**
 * File globs for a job's `inputs`: `*` and `?` within one path segment, `**` across any number
 * of folders. Symlinked folders are not followed, so a link loop cannot hang a run.
 *
 * @module
 */
import { join, sep } from "./posix_path.ts";

/** The part of an absolute pattern before its first wildcard: where a walk starts. */
export function globRoot(pattern: string): string {
  const parts = pattern.split(sep);
  const first = parts.findIndex(isWild);
  if (first < 0) return pattern;
  return parts.slice(0, first).join(sep) || sep;
}

function isWild(part: string): boolean {
  return /[*?]/.test(part);
}

/**
 * The regular expression of a glob.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globPattern } from "./glob.ts";
 * assert(globPattern("/src/**\/*.ts").test("/src/a/b/c.ts"));
 * assert(globPattern("/src/**\/*.ts").test("/src/c.ts"));
 * assert(!globPattern("/src/*.ts").test("/src/a/c.ts"));
 * ```
 */
export function globPattern(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*" && pattern[i + 1] === "*") {
      // `**/` is zero or more folders; a trailing `**` anything below.
      if (pattern[i + 2] === "/") {
        out += "(?:[^/]+/)*";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (char === "*") out += "[^/]*";
    else if (char === "?") out += "[^/]";
    else out += char.replace(/[.+^${}()|[\]\\]/, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/**
 * The files an absolute glob matches, sorted, symlinks followed; a pattern without wildcards
 * matches itself when it is a file, and every file below it when it is a folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandGlob } from "./glob.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/a/b`, { recursive: true });
 * for (const f of ["x.ts", "a/y.ts", "a/b/z.ts", "a/b/w.md"]) await Deno.writeTextFile(`${dir}/${f}`, "");
 * const found = await expandGlob(`${dir}/**\/*.ts`);
 * assert(found.map((p) => p.slice(dir.length + 1)).join() === "a/b/z.ts,a/y.ts,x.ts");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const root = globRoot(pattern);
  const info = await Deno.stat(root).catch(() => undefined);
  if (!info) return [];
  if (root === pattern && info.isFile) return [pattern];
  const regex = root === pattern ? undefined : globPattern(pattern);
  const found: string[] = [];
  // Symlinks are followed, as make and a shell's glob follow them (a data folder linked in); a
  // dangling one matches nothing, and a folder reached again through a link is walked once.
  const walked = new Set<string>();
  const walk = async (folder: string) => {
    const real = await Deno.realPath(folder);
    if (walked.has(real)) return;
    walked.add(real);
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      const kind = entry.isSymlink ? await Deno.stat(path).catch(danglingOnly) : entry;
      if (kind?.isDirectory) await walk(path);
      else if (kind?.isFile && (!regex || regex.test(path))) found.push(path);
    }
  };
  if (info.isDirectory) await walk(root);
  return found.sort();
}

/** A dangling symlink is nothing; any other failure to follow one (no right to read) is told. */
function danglingOnly(error: unknown): undefined {
  if (error instanceof Deno.errors.NotFound) return undefined;
  throw error;
}
