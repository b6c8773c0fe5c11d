/**
 * A `compute:` entry to jobs: its module found (a file beside the job file, or a built-in), its
 * rights made absolute, its fan-out unrolled.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "../../lib/util/posix_path.ts";
import { filePath, fileUrl } from "../../lib/util/own_files.ts";
import type { ExpandContext, JobEntry } from "../../lib/kind_definition.ts";
import type { PathSegment } from "../../lib/jobfile/document.ts";
import { cleanRelativePath, isInside } from "../../lib/util/paths.ts";
import { builtinModuleUrl } from "./builtin/mod.ts";
import type { ComputeJob } from "./job.ts";
import type { ComputeSpec } from "./spec.ts";
import { moduleFiles } from "./module_files.ts";

/** The local files `moduleUrl` imports, directly or not, outside its own folder. */
async function importedFromOutside(moduleUrl: string): Promise<string[]> {
  const folder = dirname(filePath(moduleUrl));
  return (await moduleFiles(moduleUrl)).filter((file) => !isInside(folder, file));
}

/** A `compute:` entry's jobs: one, or one per `repeat` or `matrix` member. */
export async function expandCompute(
  entry: JobEntry,
  context: ExpandContext,
): Promise<ComputeJob[]> {
  const { path, baseDir, fail, common } = context;
  const compute = entry.compute as ComputeSpec;
  const at: PathSegment[] = [...path, "compute", "module"];
  let moduleUrl: string | undefined;
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(compute.module)?.[1]?.toLowerCase();
  if (scheme === "builtin") {
    moduleUrl = builtinModuleUrl(compute.module.slice("builtin:".length));
    if (!moduleUrl) fail(at, `names an unknown built-in: "${compute.module}"`, "try builtin:count");
  } else if (scheme !== undefined && scheme !== "file") {
    fail(
      at,
      `names a ${scheme}: module, which taskpool does not load: got "${compute.module}"`,
      "download it with a download job, or keep a copy beside the job file, and name its path",
    );
  } else {
    let file = compute.module;
    let info: Deno.FileInfo | undefined;
    try {
      if (scheme === "file") file = filePath(compute.module);
      file = isAbsolute(file) ? file : resolve(baseDir, file);
      info = await Deno.stat(file);
    } catch {
      fail(at, `names a module that does not exist: ${file}`);
    }
    if (info && !info.isFile) {
      fail(at, `names a folder, not a module: ${file}`, "name the .ts or .js file in it");
    } else if (info && /\.(json|jsonc|txt|md|ya?ml|csv)$/i.test(file)) {
      // Deno imports these only with an import attribute: the job would fail as it starts.
      fail(
        at,
        `names a data file, not a module: ${file}`,
        'name a .ts or .js module that reads it, with Deno.readTextFile or an import with { type: "json" }',
      );
    } else if (info) moduleUrl = fileUrl(file).href;
  }
  let to: string | undefined;
  if (compute.to !== undefined) {
    try {
      to = cleanRelativePath(compute.to);
      if ((entry.repeat ?? entry.matrix) !== undefined && !to.includes("{n}")) {
        throw new RangeError(`needs {n} with repeat or matrix, or every job writes one file`);
      }
    } catch (error) {
      fail([...path, "compute", "to"], (error as Error).message, "such as thumbs/{n}.png");
    }
  }
  if (!moduleUrl) return [];
  const isolation = compute.isolation ?? "worker";
  if (isolation === "thread" && compute.memory !== undefined) {
    fail(
      [...path, "compute", "memory"],
      "cannot cap the heap of a thread in taskpool's own process (isolation: thread)",
      "drop memory:, or use isolation: worker or process",
    );
  }
  const granted = compute.permissions;
  const permissions = {
    read: [
      ...(granted?.read ?? []).map((p) => resolve(baseDir, p)),
      // The local modules it imports from outside its folder: its code, which it must read.
      ...(scheme === "builtin" ? [] : await importedFromOutside(moduleUrl)),
    ],
    write: (granted?.write ?? []).map((p) => resolve(baseDir, p)),
    net: granted?.net ?? false,
    env: granted?.env ?? false,
  };
  return context.fanOut().map(({ name, n, extra }) => {
    const target = to === undefined
      ? undefined
      : join(context.output, to.replaceAll("{n}", String(n)));
    const cache = context.cacheFor(n, target);
    return {
      ...common,
      name,
      kind: "compute" as const,
      moduleUrl: moduleUrl!,
      module: compute.module,
      exportName: compute.export,
      args: [...compute.args, ...extra],
      isolation,
      memoryMb: compute.memory === undefined ? undefined : Math.ceil(compute.memory / 2 ** 20),
      permissions,
      ...(target === undefined ? {} : { to: target }),
      ...(cache ? { cache } : {}),
    };
  });
}
