/**
 * The content digests that prove a worker runs the coordinator's code: SHA-256 of each file that
 * defines a job (a compute module and what it imports), by path relative to the job file's
 * folder.
 *
 * @module
 */
import { relative } from "../util/posix_path.ts";
import type { KindDefinition } from "../kind_definition.ts";
import type { Job } from "../jobfile/job.ts";
import { sha256Hex } from "../util/bytes.ts";

/**
 * Hex SHA-256 of a file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256OfFile } from "./digests.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "abc");
 * assert((await sha256OfFile(file)).startsWith("ba7816bf"));
 * await Deno.remove(file);
 * ```
 */
export async function sha256OfFile(path: string): Promise<string> {
  return await sha256Hex(await Deno.readFile(path));
}

/** Digests of the files defining jobs, each file read once. */
export class DefinitionDigests {
  readonly #baseDir: string;
  readonly #byFile = new Map<string, Promise<string>>();
  /** The digests of an entry's jobs: fan-out members share their definition. */
  readonly #byGroup = new Map<string, Promise<Record<string, string>>>();

  constructor(baseDir: string) {
    this.#baseDir = baseDir;
  }

  /** The digests of `job`'s definition files inside the job file's folder, by relative path. */
  of(kind: KindDefinition, job: Job): Promise<Record<string, string>> {
    if (!kind.definitionFiles) return Promise.resolve({});
    const key = `${job.kind}\u0000${job.group}`;
    let digests = this.#byGroup.get(key);
    if (!digests) this.#byGroup.set(key, digests = this.#of(kind, job));
    return digests;
  }

  async #of(kind: KindDefinition, job: Job): Promise<Record<string, string>> {
    const digests: Record<string, string> = {};
    for (const file of await kind.definitionFiles?.(job) ?? []) {
      const path = relative(this.#baseDir, file);
      if (path.startsWith("..")) continue; // outside the shared checkout: not compared
      let digest = this.#byFile.get(file);
      if (!digest) this.#byFile.set(file, digest = sha256OfFile(file));
      digests[path] = await digest;
    }
    return digests;
  }
}
