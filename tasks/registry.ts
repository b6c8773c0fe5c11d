/**
 * The registry of job kinds: the only list of them. A kind is a folder beside this file that
 * exports one {@linkcode KindDefinition}, and one line below. Each kind's modules load when it is
 * asked for: the child that runs a checked plan loads only the kinds its jobs are of (a run of
 * commands loads nothing of downloads or compute jobs).
 *
 * @module
 */
import type { KindDefinition, Kinds } from "../lib/kind_definition.ts";

/**
 * Each kind's definition by its name (`job.kind`), loaded when asked for, in the order the job
 * file's schema lists them.
 */
const KIND_MODULES: Readonly<Record<string, () => Promise<KindDefinition>>> = {
  download: async () => (await import("./download/mod.ts")).download,
  compute: async () => (await import("./compute/mod.ts")).compute,
  run: async () => (await import("./command/mod.ts")).command,
};

/** The names of the job kinds, in the order the job file's schema lists them. */
export const KIND_NAMES: readonly string[] = Object.keys(KIND_MODULES);

/**
 * The kinds named, in the registry's order; every kind when `names` is undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KIND_NAMES, loadKinds } from "./registry.ts";
 * assert.deepEqual((await loadKinds(["run", "download"])).map((kind) => kind.name), [
 *   "download",
 *   "run",
 * ]);
 * assert.deepEqual((await loadKinds()).map((kind) => kind.name), KIND_NAMES);
 * ```
 *
 * @throws {TypeError} for a name no kind has
 */
export async function loadKinds(names?: Iterable<string>): Promise<Kinds> {
  const wanted = names === undefined ? new Set(KIND_NAMES) : new Set(names);
  for (const name of wanted) {
    if (!Object.hasOwn(KIND_MODULES, name)) throw new TypeError(`no job kind is named "${name}"`);
  }
  return await Promise.all(
    KIND_NAMES.filter((name) => wanted.has(name)).map(async (name) => {
      const kind = await KIND_MODULES[name]!();
      if (kind.name !== name) {
        throw new TypeError(`the registry lists kind "${kind.name}" as "${name}"`);
      }
      return kind;
    }),
  );
}
