/**
 * The folders downloads write into: each is created and proved to lie inside the output
 * folder (symlinks resolved) once per run, not once per file, so a fan-out of thousands of
 * files into one folder costs one check.
 *
 * @module
 */
import { join } from "../../lib/util/posix_path.ts";
import { landsInside, notAFolder } from "../../lib/util/paths.ts";
import { NotAFolderError } from "./errors.ts";

/**
 * Creates and checks target folders, once each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TargetFolders } from "./folders.ts";
 * const output = await Deno.makeTempDir();
 * const folders = new TargetFolders(output);
 * await folders.prepare(`${output}/a/b`);
 * assert((await Deno.stat(`${output}/a/b`)).isDirectory);
 * await Deno.remove(output, { recursive: true });
 * ```
 */
export class TargetFolders {
  readonly #output: string;
  readonly #ready = new Map<string, Promise<void>>();

  constructor(output: string) {
    this.#output = output;
  }

  /**
   * Makes sure `folder` exists and really lies inside the output folder.
   *
   * @throws {RangeError} when a symlink carries it outside
   * @throws {NotAFolderError} when a file stands where it or a folder above it must be
   */
  prepare(folder: string): Promise<void> {
    let ready = this.#ready.get(folder);
    if (!ready) {
      ready = this.#check(folder);
      this.#ready.set(folder, ready);
      ready.catch(() => this.#ready.delete(folder)); // a failure is checked afresh next time
    }
    return ready;
  }

  /** Checks `folder` afresh next time: it was found missing (removed while the run went on). */
  forget(folder: string): void {
    this.#ready.delete(folder);
  }

  async #check(folder: string) {
    try {
      await Deno.mkdir(folder, { recursive: true });
    } catch (error) {
      const blocked = error instanceof Deno.errors.AlreadyExists ||
        error instanceof Deno.errors.NotADirectory;
      const blocker = blocked ? notAFolder(folder) : undefined;
      if (blocker === undefined) throw error;
      throw new NotAFolderError(`cannot make the folder ${folder}: ${blocker} is a file`);
    }
    if (!landsInside(this.#output, join(folder, "x"))) {
      throw new RangeError(`${folder} would land outside the output folder`);
    }
  }
}
