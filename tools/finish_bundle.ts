/**
 * The last step of `deno task bundle`: the bundle's runtime helpers start Node's `require` only
 * when bundled CommonJS first calls it. `deno bundle` writes, in the chunk of helpers that every
 * chunk imports,
 *
 *     import { createRequire as __deno_internal_createRequire } from "node:module";
 *     var __require = __deno_internal_createRequire(import.meta.url);
 *
 * for the CommonJS packages of distributed runs and of the image built-in (ioredis, BullMQ,
 * jpeg-js); importing `node:module` starts Deno's Node compatibility layer, some 20 ms of every
 * process the bundle starts, the launcher and the run's child included, though neither runs any
 * of that code. This makes `__require` start it at its first call.
 *
 * Usage: `deno run --allow-read=DIR --allow-write=DIR tools/finish_bundle.ts DIR`
 *
 * @module
 */

const EAGER = 'import { createRequire as __deno_internal_createRequire } from "node:module";\n' +
  "var __require = __deno_internal_createRequire(import.meta.url);";

const LAZY = "var __deno_lazy_require;\n" +
  "var __require = (id) => (__deno_lazy_require ??= globalThis.process.getBuiltinModule(" +
  '"node:module").createRequire(import.meta.url))(id);';

/** Rewrites the helpers of the bundle in `dir`; resolves with the files changed. */
export async function finishBundle(dir: string): Promise<string[]> {
  const changed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    const path = `${dir}/${entry.name}`;
    const text = await Deno.readTextFile(path);
    if (!text.includes(EAGER)) continue;
    await Deno.writeTextFile(path, text.replace(EAGER, LAZY));
    changed.push(path);
  }
  return changed;
}

if (import.meta.main) {
  const [dir] = Deno.args;
  if (dir === undefined) {
    console.error("usage: finish_bundle.ts DIR");
    Deno.exit(2);
  }
  const changed = await finishBundle(dir.replace(/\/$/, ""));
  if (changed.length === 0) {
    // deno bundle changed its output: the bundle still works, but starts Node's layer again.
    console.error(`finish_bundle: no eager createRequire found in ${dir}`);
  }
}
