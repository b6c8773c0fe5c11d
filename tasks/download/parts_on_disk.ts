/**
 * Which downloads may find a `.part` left by an earlier run, from one listing per folder rather
 * than an lstat per download: most downloads have none, and an lstat that fails costs a system
 * call and an error object each.
 *
 * @module
 */

/**
 * The `.part` files each target folder held when the run first looked there. That is all an
 * earlier run left, since the output folder is this run's alone; what this run's own attempts
 * leave, a download's later attempts look for themselves. A distributed run's workers share their
 * output while they run, so they look for every `.part` themselves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartsOnDisk } from "./parts_on_disk.ts";
 * const folder = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${folder}/a.bin.part`, "half");
 * const parts = new PartsOnDisk();
 * assert.equal(parts.surelyAbsent(`${folder}/a.bin.part`), false);
 * assert.equal(parts.surelyAbsent(`${folder}/b.bin.part`), true);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export class PartsOnDisk {
  /** Folder to the names of the `.part` files it held; null for one that could not be read. */
  readonly #folders = new Map<string, Set<string> | null>();

  /** Whether `part` (an absolute path ending in `.part`) was surely not there at the start. */
  surelyAbsent(part: string): boolean {
    const cut = Math.max(part.lastIndexOf("/"), part.lastIndexOf("\\"));
    const folder = part.slice(0, cut);
    let names = this.#folders.get(folder);
    if (names === undefined) {
      names = listParts(folder);
      this.#folders.set(folder, names);
    }
    return names !== null && !names.has(part.slice(cut + 1));
  }
}

/** The names of the `.part` files in `folder`: none when it does not exist, null when unreadable. */
function listParts(folder: string): Set<string> | null {
  const names = new Set<string>();
  try {
    for (const entry of Deno.readDirSync(folder)) {
      if (entry.name.endsWith(".part")) names.add(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return null;
  }
  return names;
}
