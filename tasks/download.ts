/**
 * Download jobs: stream one URL to `<to>.part`, counting and hashing on the way, check length
 * and checksum, then rename into place. No file carries its final name unless it is complete
 * and verified.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { HttpStatusError, IntegrityError } from "../lib/errors.ts";
import type { DownloadJob } from "../lib/job.ts";
import { landsInside } from "../lib/paths.ts";
import type { JobKind } from "./types.ts";

/** Statuses worth another attempt: the server may answer differently soon. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Options for {@linkcode createDownloadKind}. */
export interface DownloadKindOptions {
  /** Absolute output folder: every write must land inside it. */
  output: string;
  /** The HTTP client to share across jobs (connection reuse). */
  client?: Deno.HttpClient;
}

/** The download kind. */
export function createDownloadKind(options: DownloadKindOptions): JobKind<DownloadJob> {
  const { output, client } = options;
  return {
    pool: "io",
    run: (job, { signal }) => download(job, { output, client, signal }),
    isRetryable,
  };
}

/** Whether a failed download attempt is worth another. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) return RETRYABLE_STATUSES.has(error.status);
  if (error instanceof IntegrityError) return true;
  if (error instanceof RangeError) return false; // a path that escapes: retrying cannot help
  if (error instanceof DOMException) return error.name === "TimeoutError";
  return true; // network errors: reset, refused, DNS
}

interface DownloadOptions {
  output: string;
  client: Deno.HttpClient | undefined;
  signal: AbortSignal;
}

async function download(job: DownloadJob, options: DownloadOptions) {
  const { output, client, signal } = options;
  const response = await fetch(job.url, {
    signal,
    redirect: "follow",
    ...(client ? { client } : {}),
  });
  if (!response.ok) {
    throw new HttpStatusError({
      status: response.status,
      url: job.url,
      bodyExcerpt: await excerpt(response),
    });
  }
  if (!response.body) throw new IntegrityError(`GET ${job.url} answered with no body`);

  const folder = dirname(job.path);
  await Deno.mkdir(folder, { recursive: true });
  if (!await landsInside(output, job.path)) {
    await response.body.cancel();
    throw new RangeError(`${job.relativePath} would land outside the output folder`);
  }

  const part = `${job.path}.part`;
  // A stale .part, or a symlink planted under its name, is removed rather than followed.
  await Deno.remove(part).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    const file = await Deno.open(part, { write: true, createNew: true });
    await response.body
      .pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            bytes += chunk.byteLength;
            hash.update(chunk);
            controller.enqueue(chunk);
          },
        }),
      )
      .pipeTo(file.writable, { signal });

    const declared = expectedLength(response);
    if (declared !== undefined && bytes !== declared) {
      throw new IntegrityError(
        `GET ${job.url} sent ${bytes} bytes, but Content-Length said ${declared}`,
      );
    }
    const sha256 = hash.digest("hex");
    if (job.sha256 && sha256 !== job.sha256) {
      throw new IntegrityError(
        `sha256 mismatch for ${job.url}: expected ${job.sha256}, got ${sha256}`,
      );
    }
    await Deno.rename(part, job.path);
    return { bytes, path: job.relativePath, sha256 };
  } catch (error) {
    await Deno.remove(part).catch(() => {});
    throw signal.aborted ? signal.reason : error;
  }
}

/** Content-Length when it describes the bytes we receive (not for encoded bodies). */
function expectedLength(response: Response): number | undefined {
  if (response.headers.get("content-encoding")) return undefined;
  const header = response.headers.get("content-length");
  if (header === null || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/** The first 200 characters of an error response, for the message. */
async function excerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  try {
    const { value } = await reader.read();
    if (!value) return "";
    return new TextDecoder().decode(value.subarray(0, 200)).replace(/\s+/g, " ").trim();
  } catch {
    return "";
  } finally {
    await reader.cancel().catch(() => {});
  }
}
