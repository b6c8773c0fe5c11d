/**
 * The least privileges of a compute job run in a host process, as `deno run` flags: read its
 * module's folder and the output folder, write the output folder, and nothing more (no net, no
 * env, no run) unless the job's `permissions:` grant it; `memory:` becomes the V8 heap cap.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ComputeJob } from "../lib/job.ts";
import type { HostProfile } from "../lib/pools/process_pool.ts";

/**
 * The host profile for `job`, whose output folder is `output`.
 *
 * @example
 * ```ts
 * import { hostProfile } from "./host_profile.ts";
 * const profile = hostProfile({
 *   moduleUrl: "file:///jobs/work.ts",
 *   memoryMb: 256,
 *   permissions: { read: [], write: [], net: ["127.0.0.1:8000"], env: false },
 * }, "/out");
 * console.assert(profile.flags.includes("--allow-net=127.0.0.1:8000"));
 * ```
 *
 * @throws {RangeError} for a path with a comma, which a permission flag cannot carry
 */
export function hostProfile(
  job: Pick<ComputeJob, "moduleUrl" | "memoryMb" | "permissions">,
  output: string,
): HostProfile {
  const { permissions, memoryMb } = job;
  const read = [moduleFolder(job.moduleUrl), output, ...permissions.read];
  const write = [output, ...permissions.write];
  const flags = [list("--allow-read", read), list("--allow-write", write)];
  if (permissions.net !== false) flags.push(grant("--allow-net", permissions.net));
  if (permissions.env !== false) flags.push(grant("--allow-env", permissions.env));
  if (memoryMb !== undefined) flags.push(`--v8-flags=--max-old-space-size=${memoryMb}`);
  return { flags, ...(memoryMb !== undefined ? { memoryMb } : {}) };
}

function moduleFolder(moduleUrl: string): string {
  return dirname(fileURLToPath(moduleUrl));
}

function grant(flag: string, value: true | string[]): string {
  return value === true ? flag : list(flag, value);
}

function list(flag: string, items: string[]): string {
  for (const item of items) {
    if (item.includes(",")) {
      throw new RangeError(`${flag} cannot carry a path with a comma: ${item}`);
    }
  }
  return `${flag}=${[...new Set(items)].join(",")}`;
}
