/**
 * Is the file on disk already what a download would produce? Two answers short of a full
 * transfer: a file that matches the job's checksum needs no request at all; a file taskpool
 * wrote itself (same URL, size and mtime as recorded) can be revalidated with a conditional
 * request (`If-None-Match` / `If-Modified-Since`) that a 304 answers.
 *
 * @module
 */
import { dirname, join } from "../../lib/util/posix_path.ts";
import type { DownloadJob } from "./job.ts";
import { startDigests } from "./digests.ts";
import { type DownloadState, type FileRecord, stateUrl } from "./state.ts";

/** What the disk says about a download before it runs. */
export type Freshness =
  | { kind: "verified"; record: FileRecord }
  | { kind: "revalidate"; record: FileRecord }
  | { kind: "absent" };

/** Decides how much of `job` needs doing. `force` always says absent. */
export async function checkFreshness(
  job: DownloadJob,
  state: DownloadState,
  options: { force: boolean; signal: AbortSignal },
): Promise<Freshness> {
  if (options.force) return { kind: "absent" };
  const recorded = state.file(job.relativePath);
  const url = stateUrl(job.url);
  const checksummed = job.sha256 !== undefined || job.sha512 !== undefined;
  // Without a checksum, only a file recorded for this URL can be reused: no need to look.
  if (!checksummed && recorded?.url !== url) return { kind: "absent" };
  // A file its server named (Content-Disposition) sits beside the planned path.
  const path = recorded?.url === url && recorded.savedAs !== undefined
    ? join(dirname(job.path), recorded.savedAs)
    : job.path;
  const info = lstatOrUndefined(path);
  if (!info?.isFile) return { kind: "absent" };
  const unchanged = recorded !== undefined && recorded.url === url &&
    recorded.bytes === info.size && recorded.mtimeMs === info.mtime?.getTime();

  if (checksummed) {
    // The recorded SHA-256 of an unchanged file stands in for re-reading it.
    if (unchanged && job.sha512 === undefined && recorded.sha256 === job.sha256) {
      return { kind: "verified", record: recorded };
    }
    const digests = await startDigests({ sha512: job.sha512 !== undefined });
    await digests.updateFromFile(path, options.signal);
    const { sha256, sha512 } = digests.digest();
    if ((job.sha256 ?? sha256) === sha256 && (job.sha512 ?? sha512) === sha512) {
      const record: FileRecord = {
        ...(recorded?.url === url ? recorded : {}),
        url,
        bytes: info.size,
        mtimeMs: info.mtime?.getTime() ?? 0,
        sha256,
      };
      state.setFile(job.relativePath, record);
      return { kind: "verified", record };
    }
    return { kind: "absent" };
  }
  if (unchanged && (recorded.etag !== undefined || recorded.lastModified !== undefined)) {
    return { kind: "revalidate", record: recorded };
  }
  return { kind: "absent" };
}

/** The conditional request headers for a file to revalidate. */
export function conditionalHeaders(record: FileRecord): Record<string, string> {
  if (record.etag !== undefined) return { "if-none-match": record.etag };
  if (record.lastModified !== undefined) return { "if-modified-since": record.lastModified };
  return {};
}

/** lstat, synchronously: one metadata lookup costs less than an async op's round trip. */
function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}
