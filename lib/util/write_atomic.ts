/**
 * Atomic file writes: a temporary name in the same folder, flushed, then renamed over the
 * target. A reader sees the old file or the new one, never half of one.
 *
 * @module
 */
import { basename, dirname, join } from "./posix_path.ts";

/**
 * Writes `text` to `path` atomically, creating the folder if needed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTextFileAtomic } from "./write_atomic.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeTextFileAtomic(`${dir}/report.json`, "{}\n");
 *   assert(await Deno.readTextFile(`${dir}/report.json`) === "{}\n");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function writeTextFileAtomic(path: string, text: string): Promise<void> {
  return writeChunksAtomic(path, [text]);
}

/** Writes `bytes` to `path` atomically, creating the folder if needed. */
export function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  return writeChunksAtomic(path, [bytes]);
}

/**
 * Writes `chunks` one after another to `path` atomically, creating the folder if needed: text of
 * any length without all of it in memory at once, as each chunk is made when it is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeChunksAtomic } from "./write_atomic.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeChunksAtomic(`${dir}/a.txt`, ["one ", new TextEncoder().encode("two"), "\n"]);
 *   assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "one two\n");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeChunksAtomic(
  path: string,
  chunks: Iterable<string | Uint8Array>,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = temporaryBeside(path, "tmp");
  const encoder = new TextEncoder();
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true });
    try {
      for (const chunk of chunks) {
        const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
        let offset = 0;
        while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
      }
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw namingFile(error, path);
  }
}

/**
 * The synchronous form of {@linkcode writeChunksAtomic}, for the last moments before an
 * immediate exit, when no promise will settle.
 */
export function writeChunksAtomicSync(path: string, chunks: Iterable<string | Uint8Array>): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryBeside(path, "tmp");
  const encoder = new TextEncoder();
  try {
    const file = Deno.openSync(temporary, { write: true, createNew: true });
    try {
      for (const chunk of chunks) {
        const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
        let offset = 0;
        while (offset < bytes.byteLength) offset += file.writeSync(bytes.subarray(offset));
      }
    } finally {
      file.close();
    }
    Deno.renameSync(temporary, path);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch { /* never written */ }
    throw namingFile(error, path);
  }
}

/**
 * `error` with `path` at the start of its message, of the same class (`Deno.errors.NotFound`
 * stays one): a write's error names the file it could not write (a write to an open file, such as
 * one failing for a full disk, names none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namingFile } from "./write_atomic.ts";
 * const error = namingFile(new Deno.errors.NotFound("No such file"), "/out/report.json");
 * assert.ok(error instanceof Deno.errors.NotFound);
 * assert.equal(error.message, "cannot write /out/report.json: No such file");
 * const full = Object.assign(new Error("No space left on device"), { code: "ENOSPC" });
 * assert.equal((namingFile(full, "/out/a") as { code?: string }).code, "ENOSPC");
 * const folder = namingFile(new Deno.errors.IsADirectory("Is a directory (os error 21)"), "/out/a");
 * assert.equal((folder as Error).message, "cannot write /out/a: a folder is there");
 * ```
 */
export function namingFile(error: unknown, path: string): unknown {
  // Only the classes the file system throws, whose constructors take a message.
  if (!(error instanceof Error) || !FS_ERRORS.has(error.constructor)) return error;
  // A folder in the way: Deno's message names a temporary file, or the open, not the cause.
  const why = error instanceof Deno.errors.IsADirectory ? "a folder is there" : error.message;
  const named = new (error.constructor as ErrorConstructor)(`cannot write ${path}: ${why}`, {
    cause: error,
  });
  // The system's name for it (`ENOSPC`), which decides the exit code and the report's.
  if ("code" in error) Object.assign(named, { code: error.code });
  return named;
}

const FS_ERRORS = new Set<unknown>([Error, ...Object.values(Deno.errors)]);

/**
 * A hidden name for a temporary file in `path`'s folder, unique to this process and call, ending
 * in `.suffix`: `.report.json.1234.<uuid>.tmp`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { temporaryBeside } from "./write_atomic.ts";
 * assert.match(temporaryBeside("/out/report.json", "jobs"), /^\/out\/\.report\.json\.\d+\.[-0-9a-f]+\.jobs$/);
 * ```
 */
export function temporaryBeside(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${Deno.pid}.${crypto.randomUUID()}.${suffix}`);
}
