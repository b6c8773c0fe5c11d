/**
 * The `yaml` package, loaded as its ES module build. From source, Deno resolves `yaml` to its
 * CommonJS build (the package's `node` export, a condition Deno always matches before `default`):
 * some 70 files through Node's module loader, compiled afresh on every start, about 40 ms of each
 * launch. The ES build beside it (the package's `default` export, the same code) loads as any
 * module does, with Deno's code cache. The bundle has that build bundled beside its entry, as
 * `yaml.js` (tools/finish_bundle.ts).
 *
 * @module
 */
import type * as Yaml from "yaml";
import { BUNDLED, ownFileUrl } from "../util/own_files.ts";

/** What the package exports (its typings add a `default` for CommonJS interop). */
type YamlApi = Omit<typeof Yaml, "default">;

/**
 * The package's exports. Each build's default export has them all (the ES build exports its
 * namespace as default, and a CommonJS module's default is its `exports`); the bundle's chunk of
 * the package has only that default.
 */
async function load(): Promise<YamlApi> {
  try {
    const url = BUNDLED
      ? ownFileUrl("yaml.js")
      : new URL("../browser/index.js", import.meta.resolve("yaml"));
    return (await import(url.href)).default;
  } catch {
    // Laid out otherwise, or not readable here: the package's own entry.
  }
  return (await import("yaml")).default;
}

/** The `yaml` package. */
export const YAML: YamlApi = await load();
