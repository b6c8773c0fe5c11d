/**
 * SHA-256 of a file, or of every file in a folder, under the run's output folder. Streams, so
 * memory stays flat whatever the size.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join, relative, resolve } from "../../../lib/util/posix_path.ts";
import { isInside } from "../../../lib/util/paths.ts";
import type { ComputeContext } from "../job.ts";

/** What {@linkcode sha256} returns. */
export interface Sha256Result {
  /** Hex digest per file, keyed by path relative to the output folder. */
  files: Record<string, string>;
  /** Bytes hashed in all. */
  bytes: number;
}

/**
 * Hashes `path` (relative to the output folder): one file, or each file below a folder, in
 * name order.
 */
export default async function sha256(path: string, context: ComputeContext): Promise<Sha256Result> {
  if (typeof path !== "string") throw new TypeError(`sha256 needs a path: got ${typeof path}`);
  const target = resolve(context.output, path);
  if (!isInside(context.output, target)) {
    throw new RangeError(`sha256 reads only under the output folder: got "${path}"`);
  }
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const file of await listFiles(target)) {
    const hash = createHash("sha256");
    // The stream closes the file when it ends or is cancelled.
    const handle = await Deno.open(file);
    for await (const chunk of handle.readable) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    files[relative(context.output, file)] = hash.digest("hex");
  }
  return { files, bytes };
}

async function listFiles(path: string): Promise<string[]> {
  const info = await Deno.stat(path);
  if (info.isFile) return [path];
  const found: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    const child = join(path, entry.name);
    if (entry.isDirectory) found.push(...await listFiles(child));
    else if (entry.isFile && !entry.name.endsWith(".part")) found.push(child);
  }
  return found.sort();
}
