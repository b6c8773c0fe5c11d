/**
 * How many downloads at once the process's limit on open files (`ulimit -n`) allows. Each one
 * holds a socket and its file, and keeps a socket for the next request to its host; past the
 * limit every transfer fails with "Too many open files", so a run asked for more lowers its io
 * limit to what fits, and says so.
 *
 * @module
 */
import type { Plan } from "../jobfile/job.ts";
import type { Kinds } from "../kind_definition.ts";

/** Descriptors a run keeps besides its downloads: Deno's own, hosts' pipes, logs, report. */
const RESERVED = 64;
/** Descriptors one download at once may hold: its socket, its file, an idle socket. */
const PER_DOWNLOAD = 3;
/** Downloads at once that fit in any limit a system sets by default (macOS: 256). */
const ALWAYS_FITS = Math.floor((256 - RESERVED) / PER_DOWNLOAD);

/**
 * `io`, or less when the limit on open files cannot hold that many downloads at once: then also
 * the sentence that says so. The limit is asked of `sh` (`ulimit -n`) only for an `io` above
 * what any default limit holds; where it cannot be asked, `io` stands.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ioWithinOpenFiles } from "./open_files.ts";
 * assert.deepEqual(ioWithinOpenFiles(16), { io: 16 });
 * const { io, note } = ioWithinOpenFiles(1000, () => 1024);
 * assert.equal(io, 320);
 * assert.match(note!, /^io 1000 lowered to 320: /);
 * ```
 */
export function ioWithinOpenFiles(
  io: number,
  limit: () => number | undefined = openFilesLimit,
): { io: number; note?: string } {
  if (io <= ALWAYS_FITS) return { io };
  const files = limit();
  if (files === undefined) return { io };
  const fits = Math.max(1, Math.floor((files - RESERVED) / PER_DOWNLOAD));
  if (io <= fits) return { io };
  return {
    io: fits,
    note: `io ${io} lowered to ${fits}: this process may open ${files} files at once ` +
      `(ulimit -n), and each download at once needs up to ${PER_DOWNLOAD}; raise the limit ` +
      `(ulimit -n ${PER_DOWNLOAD * io + RESERVED}) to run more`,
  };
}

/**
 * Lowers `plan`'s io in place to what the open files allow, when it has downloads (jobs of a kind
 * on the io pool); the sentence that says so, if it did.
 */
export function fitDownloadsToOpenFiles(plan: Plan, kinds: Kinds): string | undefined {
  const ioKinds = new Set(kinds.filter((kind) => kind.pool === "io").map((kind) => kind.name));
  if (!plan.jobs.some((job) => ioKinds.has(job.kind))) return undefined;
  const { io, note } = ioWithinOpenFiles(plan.concurrency.io);
  if (note !== undefined) plan.concurrency.io = io;
  return note;
}

/** The soft limit on open files; undefined when unlimited or where it cannot be asked. */
function openFilesLimit(): number | undefined {
  try {
    const { success, stdout } = new Deno.Command("sh", {
      args: ["-c", "ulimit -n"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const files = Number(new TextDecoder().decode(stdout).trim());
    return success && Number.isInteger(files) && files > 0 ? files : undefined;
  } catch {
    return undefined; // no sh, or no right to run it
  }
}
