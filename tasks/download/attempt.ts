/**
 * One attempt of a download job, from the checks before any request to the rename into place:
 *
 * 1. up to date? a checksum match needs no request; a recorded file is revalidated (304);
 * 2. a kept `<to>.part` is resumed with `Range` + `If-Range`; a server that ignores the range
 *    or whose file changed gets a clean restart;
 * 3. the body streams to the `.part`, counted, hashed (when there is a checksum to verify or
 *    `record_sha256`), capped by `max_bytes` and watched by the idle watchdog;
 * 4. length and checksums are verified, then the `.part` is renamed over the target.
 *
 * A failure after some bytes keeps the `.part` for the next attempt (or run) when it can be
 * resumed safely; otherwise the `.part` is removed. No file carries its final name unless it
 * is complete and verified.
 *
 * @module
 */
import { dirname } from "node:path";
import { HttpStatusError, IncompleteBodyError, NetworkError } from "../../lib/http/errors.ts";
import { IdleTimeoutError, IntegrityError, RetryLaterError, TooLargeError } from "./errors.ts";
import { hasCode } from "../../lib/errors.ts";
import { formatBytes } from "../../lib/util/format.ts";
import type { HttpResponse } from "../../lib/http/client.ts";
import type { HttpTransport } from "../../lib/http/transport.ts";
import type { DownloadJob } from "./job.ts";
import { redactText, redactUrl, secretValues, urlSecrets } from "../../lib/util/secrets.ts";
import type { DownloadResult } from "./job.ts";
import { Digests } from "./digests.ts";
import { getFollowing } from "./get_following.ts";
import type { TargetFolders } from "./folders.ts";
import type { HostGate } from "./host_gate.ts";
import { IdleWatchdog } from "./idle_watchdog.ts";
import { parseRetryAfter } from "./retry_after.ts";
import { type DownloadState, type FileRecord, type PartRecord, stateUrl } from "./state.ts";
import { writeBody } from "./write_body.ts";
import { checkFreshness, conditionalHeaders } from "./up_to_date.ts";

/** What an attempt needs besides the job. */
export interface AttemptOptions {
  http: HttpTransport;
  state: DownloadState;
  hosts: HostGate;
  /** Creates target folders and proves they stay inside the output folder. */
  folders: TargetFolders;
  /** Ignore what is on disk and download again. */
  force: boolean;
  signal: AbortSignal;
  progress: ((bytes: number) => void) | undefined;
}

/** Runs one attempt of `job`. */
export async function downloadAttempt(
  job: DownloadJob,
  options: AttemptOptions,
): Promise<DownloadResult> {
  const { state, force, signal } = options;
  const freshness = await checkFreshness(job, state, { force, signal });
  if (freshness.kind === "verified") {
    state.setPart(job.relativePath, undefined);
    return cachedResult(job, freshness.record, "checksum");
  }
  using watchdog = new IdleWatchdog(job.idleTimeoutMs, { signal });
  const transfer = new Transfer(job, options, watchdog);
  try {
    return await transfer.run(freshness.kind === "revalidate" ? freshness.record : undefined);
  } catch (error) {
    // A lower layer may quote the URL or a header: nothing secret leaves in a message.
    throw redactError(error, secretsOf(job));
  }
}

/** What must never be shown of `job`: secret header values and the URL's password. */
function secretsOf(job: DownloadJob): string[] {
  return [...secretValues(job.headers, job.secretHeaders), ...urlSecrets(job.url)]
    .sort((a, b) => b.length - a.length);
}

/** `error` with every secret in its message replaced by `***` (its reason, when it is one). */
function redactError(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || !(error instanceof Error)) return error;
  const message = redactText(error.message, secrets);
  if (message !== error.message) {
    try {
      error.message = message;
    } catch {
      return new Error(message);
    }
  }
  return error;
}

function cachedResult(
  job: DownloadJob,
  record: FileRecord,
  cached: "checksum" | "not-modified",
): DownloadResult {
  const { bytes: size, sha256 } = record;
  return { bytes: 0, size, path: job.relativePath, ...(sha256 ? { sha256 } : {}), cached };
}

/**
 * Is the body hashed on its way? Only for a checksum to verify or when the job asks to record
 * the SHA-256: hashing costs CPU time per MiB, which a 2-core machine feels.
 */
function needsDigest(job: DownloadJob): boolean {
  return job.sha256 !== undefined || job.sha512 !== undefined || job.recordSha256;
}

/** Statuses after which the host is paused for its Retry-After. */
const PAUSING_STATUSES = new Set([429, 503]);

class Transfer {
  readonly #job: DownloadJob;
  readonly #options: AttemptOptions;
  readonly #watchdog: IdleWatchdog;
  readonly #signal: AbortSignal;
  readonly #part: string;
  readonly #host: string;
  #secrets: string[] | undefined;

  constructor(job: DownloadJob, options: AttemptOptions, watchdog: IdleWatchdog) {
    this.#job = job;
    this.#options = options;
    this.#watchdog = watchdog;
    this.#signal = watchdog.signal; // follows options.signal too
    this.#part = `${job.path}.part`;
    this.#host = options.hosts.keyOf(job);
  }

  async run(revalidate: FileRecord | undefined) {
    const job = this.#job;
    const { state } = this.#options;
    let resumeFrom = revalidate ? 0 : await this.#resumablePart();
    if (resumeFrom === 0 && state.part(job.relativePath)) await this.#discardPart();

    let { response, url, redirects } = await this.#request(
      revalidate ? conditionalHeaders(revalidate) : {},
      resumeFrom,
    );
    this.#watchdog.progress();

    if (revalidate && response.status === 304) {
      await response.body.cancel();
      state.setFile(job.relativePath, { ...revalidate, ...validatorsOf(response) });
      this.#options.hosts.succeeded(this.#host);
      return {
        ...cachedResult(job, revalidate, "not-modified"),
        ...(redirects.length ? { redirects } : {}),
      };
    }
    if (resumeFrom > 0 && rangeStart(response) !== resumeFrom) {
      // The server ignored the range (200: use it from the start), the file changed under
      // If-Range (200, the new file), or the range no longer fits (416): start afresh.
      resumeFrom = 0;
      await this.#discardPart();
      if (response.status !== 200) {
        await response.body.cancel();
        ({ response, url, redirects } = await this.#request({}, 0));
        this.#watchdog.progress();
      }
    }
    if (response.status < 200 || response.status > 299) {
      throw await this.#statusError(response, url);
    }
    if (response.status === 206 && resumeFrom === 0) {
      await response.body.cancel();
      throw new IntegrityError(`GET ${redactUrl(url)} answered 206 to a request for everything`);
    }

    const encoded = isEncoded(response);
    const declared = response.body.length;
    const total = declared === undefined ? undefined : resumeFrom + declared;
    if (total !== undefined && total > job.maxBytes) {
      await response.body.cancel();
      throw tooLarge(job, url, `declares ${formatBytes(total)}`);
    }
    const validator = encoded ? undefined : ifRangeValidator(response);

    try {
      await this.#options.folders.prepare(dirname(job.path));
    } catch (error) {
      await response.body.cancel();
      throw error instanceof RangeError
        ? new RangeError(`${job.relativePath} would land outside the output folder`)
        : error;
    }

    const digests = needsDigest(job)
      ? new Digests({ sha512: job.sha512 !== undefined })
      : undefined;
    let received = 0;
    let opened = false;
    let mtimeMs = 0;
    try {
      if (resumeFrom > 0 && digests) {
        const kept = await digests.updateFromFile(this.#part, this.#signal);
        if (kept !== resumeFrom) throw new IncompleteBodyError(`${this.#part} changed size`);
      }
      opened = true;
      ({ received, mtimeMs } = await writeBody(response.body, {
        part: this.#part,
        offset: resumeFrom,
        digests,
        watchdog: this.#watchdog,
        maxBytes: job.maxBytes,
        tooLarge: () =>
          encoded
            ? new TooLargeError(
              `GET ${redactUrl(url)} decodes to more than max_bytes ${
                formatBytes(job.maxBytes)
              } (Content-Encoding ${response.headers.get("content-encoding")}): ` +
                "stopped there, as a possible decompression bomb",
            )
            : tooLarge(job, url, `sent more than ${formatBytes(job.maxBytes)}`),
        progress: this.#options.progress,
      }));
      if (declared !== undefined && received !== declared) {
        throw new IncompleteBodyError(
          `GET ${redactUrl(url)} sent ${received} bytes, but Content-Length said ${declared}`,
        );
      }
    } catch (caught) {
      await response.body.cancel();
      const error = this.#reason(caught, url);
      if (opened && validator !== undefined && isResumable(error)) await this.#keepPart(validator);
      else await this.#discardPart();
      throw error;
    }

    const { sha256, sha512 } = digests?.digest() ?? {};
    const mismatch = job.sha256 !== undefined && sha256 !== job.sha256
      ? `sha256 mismatch for ${redactUrl(url)}: expected ${job.sha256}, got ${sha256}`
      : job.sha512 !== undefined && sha512 !== job.sha512
      ? `sha512 mismatch for ${redactUrl(url)}: expected ${job.sha512}, got ${sha512}`
      : undefined;
    if (mismatch) {
      await this.#discardPart();
      throw new IntegrityError(mismatch);
    }
    Deno.renameSync(this.#part, job.path); // a rename keeps the mtime taken above
    const size = resumeFrom + received;
    state.setPart(job.relativePath, undefined);
    state.setFile(job.relativePath, {
      url: stateUrl(job.url),
      bytes: size,
      mtimeMs,
      ...(sha256 ? { sha256 } : {}),
      ...validatorsOf(response),
    });
    this.#options.hosts.succeeded(this.#host);
    return {
      bytes: received,
      size,
      path: job.relativePath,
      ...(sha256 ? { sha256 } : {}),
      ...(redirects.length ? { redirects } : {}),
      ...(resumeFrom > 0 ? { resumedFrom: resumeFrom } : {}),
    };
  }

  /** Sends the request, with a Range from `resumeFrom` when it is above 0. */
  #request(extra: Record<string, string>, resumeFrom: number) {
    const headers = new Headers(this.#job.headers);
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    if (resumeFrom > 0) {
      headers.set("range", `bytes=${resumeFrom}-`);
      headers.set("if-range", this.#options.state.part(this.#job.relativePath)!.validator);
    }
    return getFollowing(this.#job.url, {
      headers,
      signal: this.#signal,
      http: this.#options.http,
      secretHeaders: this.#job.secretHeaders,
    }).catch((error) => {
      throw this.#reason(error, this.#job.url);
    });
  }

  /** The size of a `.part` that can be resumed, or 0. */
  async #resumablePart(): Promise<number> {
    const record = this.#options.state.part(this.#job.relativePath);
    if (!record || record.url !== stateUrl(this.#job.url) || record.bytes <= 0) return 0;
    const info = await Deno.lstat(this.#part).catch(() => undefined);
    return info?.isFile && info.size === record.bytes ? record.bytes : 0;
  }

  async #keepPart(validator: string) {
    const info = await Deno.lstat(this.#part).catch(() => undefined);
    if (!info?.isFile || info.size === 0) return await this.#discardPart();
    const record: PartRecord = { url: stateUrl(this.#job.url), bytes: info.size, validator };
    this.#options.state.setPart(this.#job.relativePath, record);
  }

  /** Removes the `.part` (or a symlink planted under its name) and forgets it. */
  async #discardPart() {
    this.#options.state.setPart(this.#job.relativePath, undefined);
    await Deno.remove(this.#part).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /**
   * The error to report: the run's reason or the watchdog's beats an echo of it; an error on the
   * wire gets the URL, which the HTTP layer does not say.
   */
  #reason(error: unknown, url: string): unknown {
    if (this.#options.signal.aborted) return this.#options.signal.reason;
    if (this.#watchdog.signal.aborted) return this.#watchdog.signal.reason;
    if (error instanceof IncompleteBodyError || error instanceof NetworkError) {
      const Class = error.constructor as new (message: string, options: ErrorOptions) => Error;
      return new Class(`GET ${redactUrl(url)}: ${error.message}`, { cause: error });
    }
    return error;
  }

  async #statusError(
    response: HttpResponse,
    url: string,
  ): Promise<HttpStatusError | RetryLaterError> {
    const { status } = response;
    const job = this.#job;
    const retryAfterMs = PAUSING_STATUSES.has(status)
      ? parseRetryAfter(response.headers.get("retry-after"))
      : undefined;
    if (status === 429) {
      this.#options.hosts.throttle(
        this.#host,
        Math.min(retryAfterMs ?? job.backoffMs, job.maxWaitMs),
      );
    } else if (status === 503 && retryAfterMs !== undefined) {
      this.#options.hosts.pause(this.#host, Math.min(retryAfterMs, job.maxWaitMs));
    }
    if (retryAfterMs !== undefined && retryAfterMs > job.maxWaitMs) {
      await response.body.cancel();
      return new RetryLaterError(redactUrl(url), status, retryAfterMs, job.maxWaitMs);
    }
    return new HttpStatusError({
      status,
      url: redactUrl(url),
      bodyExcerpt: redactText(await excerpt(response), this.#secrets ??= secretsOf(job)),
      retryAfterMs,
    });
  }
}

/** Errors after which the bytes already written are still good. */
function isResumable(error: unknown): boolean {
  return error instanceof IncompleteBodyError || error instanceof IdleTimeoutError ||
    error instanceof TypeError || // network: reset, closed
    error instanceof DOMException || // attempt timeout, abort
    hasCode(error, "INTERRUPTED", "FAIL_FAST"); // the run stopped: keep what arrived
}

function tooLarge(job: DownloadJob, url: string, what: string): TooLargeError {
  return new TooLargeError(
    `GET ${redactUrl(url)} ${what}, over max_bytes ${formatBytes(job.maxBytes)}`,
  );
}

function isEncoded(response: HttpResponse): boolean {
  const encoding = response.headers.get("content-encoding");
  return encoding !== null && encoding.toLowerCase() !== "identity";
}

/** Where a 206 starts (`Content-Range: bytes START-END/TOTAL`); undefined otherwise. */
function rangeStart(response: HttpResponse): number | undefined {
  if (response.status !== 206) return undefined;
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

/** A validator usable in If-Range: a strong ETag, else Last-Modified. */
function ifRangeValidator(response: HttpResponse): string | undefined {
  const etag = response.headers.get("etag");
  if (etag && !etag.startsWith("W/")) return etag;
  return response.headers.get("last-modified") ?? undefined;
}

function validatorsOf(response: HttpResponse): { etag?: string; lastModified?: string } {
  const etag = response.headers.get("etag");
  const lastModified = response.headers.get("last-modified");
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

/** The first 200 characters of an error response, for the message. */
async function excerpt(response: HttpResponse): Promise<string> {
  try {
    const value = await response.body.read();
    if (!value) return "";
    return new TextDecoder().decode(value.subarray(0, 200)).replace(/\s+/g, " ").trim();
  } catch {
    return "";
  } finally {
    await response.body.cancel();
  }
}
