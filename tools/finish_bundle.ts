/**
 * The last step of `deno task bundle`, for what `deno bundle` leaves that would cost each process
 * the bundle starts Deno's Node compatibility layer (some 20 ms), though a run needs none of it:
 *
 * - The runtime helpers every chunk imports start Node's `require` eagerly:
 *
 *       import { createRequire as __deno_internal_createRequire } from "node:module";
 *       var __require = __deno_internal_createRequire(import.meta.url);
 *
 *   for the CommonJS packages of distributed runs and of the image built-in (ioredis, BullMQ,
 *   jpeg-js). This makes `__require` start it at its first call.
 * - `deno bundle` resolves `yaml` to its CommonJS build (the package's `node` export), which
 *   requires `node:process`. Its ES build (the package's `default` export, the same code, which
 *   runs from source: lib/jobfile/yaml.ts) is bundled here on its own, as `yaml.js` beside the
 *   entry, where the bundle's lib/jobfile/yaml.ts looks for it.
 *
 * - The runner threads' entries (`lib/pools/worker/web_runner.js`, `node_runner.js`) import
 *   chunks they share with the rest, but a Worker host whose jobs may read only their own folder
 *   lets its threads read those two files alone (lib/pools/worker/runner_files.ts): with a chunk
 *   out of reach, no thread could start. Each is bundled again here on its own, whole.
 *
 * - Deno loads every module a dynamic import names by a string literal before the first module
 *   runs, unless it is given `--unstable-lazy-dynamic-imports` (deno.json gives it to source
 *   runs; the bundle's users type their own command line): every chunk, and `node:crypto`,
 *   `node:v8` and `node:vm` with Node's layer. Those imports are rewritten to name their module
 *   by an expression (`import(String("./chunk.js"))`), which Deno loads when it runs.
 *
 * Usage: `deno run --allow-read --allow-write=DIR --allow-run tools/finish_bundle.ts DIR`
 *
 * @module
 */

import { RUNNER_ENTRIES } from "../lib/pools/worker/runner_files.ts";

const EAGER = 'import { createRequire as __deno_internal_createRequire } from "node:module";\n' +
  "var __require = __deno_internal_createRequire(import.meta.url);";

const LAZY = "var __deno_lazy_require;\n" +
  "var __require = (id) => (__deno_lazy_require ??= globalThis.process.getBuiltinModule(" +
  '"node:module").createRequire(import.meta.url))(id);';

/** Rewrites the helpers of the bundle in `dir`; resolves with the files changed. */
export async function lazyRequire(dir: string): Promise<string[]> {
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

/** A dynamic import of a module named by a string literal. */
const LITERAL_IMPORT = /\bimport\(("[^"\n]+")\)/g;

/**
 * Rewrites each dynamic import by a string literal in the bundle in `dir` (its folders too) to
 * one by an expression, loaded when it runs; resolves with the files changed.
 */
export async function lazyImports(dir: string): Promise<string[]> {
  const changed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) changed.push(...await lazyImports(path));
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    const text = await Deno.readTextFile(path);
    const lazy = text.replace(LITERAL_IMPORT, "import(String($1))");
    if (lazy === text) continue;
    await Deno.writeTextFile(path, lazy);
    changed.push(path);
  }
  return changed;
}

/** Bundles the `yaml` package's ES build into `DIR/yaml.js`. */
export async function bundleYaml(dir: string): Promise<void> {
  // The package's own entry (its CommonJS build); the ES build's entry is beside its folder.
  const entry = new URL("../browser/index.js", import.meta.resolve("yaml"));
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", `${dir}/yaml.js`, entry.href],
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`bundling yaml failed: ${new TextDecoder().decode(stderr)}`);
}

/**
 * Bundles each runner entry on its own, whole, over its code-split form in `DIR`: a runner file
 * then imports nothing but Deno's and Node's own modules.
 */
export async function bundleRunners(dir: string): Promise<void> {
  const root = new URL("../", import.meta.url);
  for (const entry of RUNNER_ENTRIES) {
    const out = `${dir}/${entry.replace(/\.ts$/, ".js")}`;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", "-o", out, new URL(entry, root).href],
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`bundling ${entry} failed: ${new TextDecoder().decode(stderr)}`);
    }
  }
}

if (import.meta.main) {
  const [dir] = Deno.args;
  if (dir === undefined) {
    console.error("usage: finish_bundle.ts DIR");
    Deno.exit(2);
  }
  const folder = dir.replace(/\/$/, "");
  if ((await lazyRequire(folder)).length === 0) {
    // deno bundle changed its output: the bundle still works, but starts Node's layer again.
    console.error(`finish_bundle: no eager createRequire found in ${dir}`);
  }
  await bundleYaml(folder);
  await bundleRunners(folder);
  await lazyImports(folder);
}
