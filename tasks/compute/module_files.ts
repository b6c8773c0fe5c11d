/**
 * The local files a compute module is made of: the module and, followed from it, every module
 * it imports by a relative path or a `file:` URL, so that editing a helper reruns an incremental
 * job (the job cache, lib/incremental/job_cache.ts). Imports are read from the source text (`import ... from "x"`,
 * `export ... from "x"`, `import "x"`, `import("x")` with a literal): no subprocess, no network.
 * Packages (`npm:`, `jsr:`, names from an import map) are versions pinned elsewhere; they are not
 * followed. A computed `import(name)` cannot be seen: list such files in `inputs`.
 *
 * @module
 */
import { filePath } from "../../lib/util/own_files.ts";

/** The most files followed from one module: a bound, not a limit anyone should meet. */
const MOST_FILES = 2000;

/** Static and literal dynamic import specifiers. */
const IMPORT =
  /(?:\bimport|\bexport)\s[^'";]*?\bfrom\s*(['"])([^'"\n]+)\1|\bimport\s*(?:\(\s*)?(['"])([^'"\n]+)\3/g;

/**
 * The paths of `moduleUrl`'s file and the local files it imports, directly or not, sorted; files
 * that cannot be read are left out (the job itself will fail on them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { moduleFiles } from "./module_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/main.ts`, 'import { twice } from "./lib/twice.ts";\n');
 * await Deno.mkdir(`${dir}/lib`);
 * await Deno.writeTextFile(`${dir}/lib/twice.ts`, "export const twice = (n: number) => 2 * n;\n");
 * const files = await moduleFiles(`file://${dir}/main.ts`);
 * assert(files.join() === [`${dir}/lib/twice.ts`, `${dir}/main.ts`].join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function moduleFiles(moduleUrl: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [new URL(moduleUrl)];
  while (queue.length > 0 && seen.size < MOST_FILES) {
    const url = queue.pop()!;
    if (url.protocol !== "file:" || seen.has(url.href)) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(url);
    } catch {
      continue;
    }
    seen.add(url.href);
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[2] ?? match[4]!;
      if (!/^(\.\.?\/|file:)/.test(specifier)) continue;
      queue.push(new URL(specifier, url));
    }
  }
  return [...seen].map((href) => filePath(href)).sort();
}
