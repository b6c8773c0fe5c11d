/**
 * Keeping writes inside the output folder: relative paths that cannot climb out, and a real-path
 * check so a symlink planted inside the folder cannot carry a write elsewhere.
 *
 * @module
 */
import { basename, dirname, isAbsolute, normalize, relative, resolve, sep } from "./posix_path.ts";

/** The longest file or folder name, in bytes, that common file systems take (ext4, XFS, APFS). */
const MAX_NAME_BYTES = 255;
const encoder = new TextEncoder();

/**
 * Checks a job-file path that must stay inside its root, and returns it normalised.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cleanRelativePath } from "./paths.ts";
 * assert(cleanRelativePath("img//a.png") === "img/a.png");
 * let threw = false;
 * try { cleanRelativePath("../etc/passwd"); } catch { threw = true; }
 * assert(threw);
 * ```
 * @throws {RangeError} for an absolute path, a `..` segment, an empty path, or a name that no
 * file system takes (a NUL character, more than 255 bytes)
 */
export function cleanRelativePath(path: string): string {
  if (path.includes("\0")) {
    throw new RangeError(
      `must not contain a NUL character, which no file system takes: got ${JSON.stringify(path)}`,
    );
  }
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) {
    throw new RangeError(`must be a relative path inside the output folder: got "${path}"`);
  }
  if (path.split(/[\\/]/).includes("..")) {
    throw new RangeError(`must not contain "..": got "${path}"`);
  }
  const clean = normalize(path).replace(/\/+$/, "");
  if (clean === "" || clean === ".") {
    throw new RangeError(`must name a file inside the output folder: got "${path}"`);
  }
  for (const name of clean.split(sep)) {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8: most names need no count.
    if (name.length * 3 <= MAX_NAME_BYTES) continue;
    const bytes = encoder.encode(name).byteLength;
    if (bytes > MAX_NAME_BYTES) {
      throw new RangeError(
        `has a name of ${bytes} bytes, over the ${MAX_NAME_BYTES} a file system takes: ` +
          `"${name.slice(0, 40)}…"`,
      );
    }
  }
  return clean;
}

/** True when `path` is `root` or lies below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * The real path of `path`'s deepest existing ancestor, joined with the rest: where a write to
 * `path` would really land, symlinks resolved. An ancestor this process may not read (a run
 * with narrow permissions, see lib/sandbox/grants.ts) is taken as it stands: the launcher that
 * granted them has resolved it.
 */
export function realTarget(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (true) {
    try {
      return resolve(Deno.realPathSync(existing), ...rest.toReversed());
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return path;
      // Not there, or under a file (which whoever writes there is told of).
      const absent = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory;
      if (!absent) throw error;
      const parent = dirname(existing);
      if (parent === existing) return path;
      rest.push(basename(existing));
      existing = parent;
    }
  }
}

/**
 * What stands in the way of a folder at `path`: `path` itself or its deepest existing ancestor when
 * that is not a folder (symlinks followed), else undefined. Read where it may be: a path this
 * process may not read is taken as fine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notAFolder } from "./paths.ts";
 * const file = await Deno.makeTempFile();
 * assert.equal(notAFolder(`${file}/out`), file);
 * assert.equal(notAFolder(file), file);
 * assert.equal(notAFolder(`${file}.d/out`), undefined);
 * await Deno.remove(file);
 * ```
 */
export function notAFolder(path: string): string | undefined {
  for (let existing = path;; existing = dirname(existing)) {
    try {
      return Deno.statSync(existing).isDirectory ? undefined : existing;
    } catch (error) {
      const absent = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory;
      if (!absent) return undefined;
      if (dirname(existing) === existing) return undefined;
    }
  }
}

/**
 * Whether `path` is a folder now (symlinks followed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFolder } from "./paths.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(isFolder(dir), true);
 * assert.equal(isFolder(`${dir}/none`), false);
 * await Deno.remove(dir);
 * ```
 */
export function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Where Deno lets a process write only with `--allow-all` (denoland/deno#30979). */
const SEALED_ROOTS = ["/dev", "/proc", "/sys"];

/**
 * The folder of {@linkcode SEALED_ROOTS} a write to `path` would really land in (symlinks
 * followed), or undefined. Deno refuses such a write to a process with anything less than
 * `--allow-all`, even with `--allow-write` for all paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sealedRoot } from "./paths.ts";
 * assert.equal(sealedRoot("/dev/shm/out"), Deno.build.os === "windows" ? undefined : "/dev");
 * assert.equal(sealedRoot("/tmp/devices/out"), undefined);
 * ```
 */
export function sealedRoot(path: string): string | undefined {
  if (Deno.build.os === "windows") return undefined;
  const real = realTarget(path);
  return SEALED_ROOTS.find((root) => isInside(root, real));
}

/**
 * True when a write to `path` really lands inside `root`, following every symlink that exists
 * now (the root itself may be a symlink; links below it may not lead out).
 */
export function landsInside(root: string, path: string): boolean {
  return isInside(realTarget(root), realTarget(path));
}

/**
 * The paths and, for those under a symlink, where they really are: Deno checks an operation
 * against the path it resolves to, so a permission for a symlinked folder needs both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRealPaths } from "./paths.ts";
 * const dir = Deno.realPathSync(await Deno.makeTempDir());
 * await Deno.symlink(dir, `${dir}-link`);
 * assert(withRealPaths([`${dir}-link/out`]).join() === `${dir}-link/out,${dir}/out`);
 * await Deno.remove(`${dir}-link`);
 * await Deno.remove(dir);
 * ```
 */
export function withRealPaths(paths: Iterable<string>): string[] {
  const all = new Set<string>();
  for (const path of paths) {
    all.add(path);
    try {
      all.add(realTarget(path));
    } catch { /* a folder it may not enter: the path as it stands is all that can be named */ }
  }
  return [...all];
}

/**
 * Whether `path` is a file someone may execute (any execute bit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isExecutable } from "./paths.ts";
 * assert(isExecutable(Deno.execPath()));
 * ```
 */
export function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}
