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
 * A job with `mirrors` tries its sources in turn within one attempt: a source that fails in a
 * way another may not (refused, reset, 404, 410, 5xx, a checksum mismatch) hands over to the
 * next, with no back-off; the source whose bytes the `.part` holds goes first. Bytes from one
 * source are resumed from another only when their validators agree (a strong ETag, or the size
 * and Last-Modified date). A job with `segments` fetches a large file in ranges at once (see
 * `segments.ts`).
 *
 * @module
 */
import { dirname } from "../../lib/util/posix_path.ts";
import { HttpStatusError, IncompleteBodyError, NetworkError } from "../../lib/http/errors.ts";
import {
  ChecksumConflictError,
  FolderInTheWayError,
  IdleTimeoutError,
  IntegrityError,
  NameClashError,
  NotAFolderError,
  OutsideGrantsError,
  RedirectError,
  RetryLaterError,
  TooLargeError,
  UnlistedError,
} from "./errors.ts";
import { hasCode } from "../../lib/errors.ts";
import { formatBytes } from "../../lib/util/format.ts";
import type { HttpResponse } from "../../lib/http/client.ts";
import type { HttpTransport } from "../../lib/http/transport.ts";
import type { DownloadJob } from "./job.ts";
import { redactText, redactUrl, secretValues, urlSecrets } from "../../lib/util/secrets.ts";
import type { DownloadResult } from "./job.ts";
import { startDigests } from "./digests.ts";
import { getFollowing } from "./get_following.ts";
import type { TargetFolders } from "./folders.ts";
import type { HostGate } from "./host_gate.ts";
import { IdleWatchdog } from "./idle_watchdog.ts";
import { parseRetryAfter } from "./retry_after.ts";
import { type DownloadState, type FileRecord, type PartRecord, stateUrl } from "./state.ts";
import { openPart, writeBody } from "./write_body.ts";
import { checkFreshness, conditionalHeaders } from "./up_to_date.ts";
import type { Bandwidth } from "./bandwidth.ts";
import type { Netrc } from "./netrc.ts";
import { ChecksumConflict, type ListedDigest, parseChecksumFile } from "./checksum_file.ts";
import { dispositionFileName } from "./content_disposition.ts";
import { fetchSegments, type Segment, splitRanges } from "./segments.ts";
import { join } from "../../lib/util/posix_path.ts";
import { concatBytes } from "../../lib/util/bytes.ts";
import type { PartsOnDisk } from "./parts_on_disk.ts";

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
  /** The run's bandwidth limits. */
  bandwidth: Bandwidth;
  /** Logins by host (netrc), for requests without credentials of their own. */
  netrc: Netrc | undefined;
  /** Checksum files fetched once per run, by URL. */
  checksumFiles: Map<string, Promise<ReturnType<typeof parseChecksumFile>>>;
  /** Files named by their server (`Content-Disposition`) in this run: path to job name. */
  serverNames: Map<string, string>;
  /** What a path already is to the run (`"is the run's report"`). @default nothing */
  fileTaken?: ((path: string) => Promise<string | undefined>) | undefined;
  /** Aborted when the run ends: stops what jobs share, such as a checksum file's fetch. */
  runSignal: AbortSignal;
  /**
   * The `.part` files the target folders held at the start, for the first attempt's first look;
   * without it, every look is an lstat.
   */
  parts?: PartsOnDisk | undefined;
  /** 1 for the job's first attempt. @default 1 */
  attempt?: number;
}

/** Runs one attempt of `job`. */
export async function downloadAttempt(
  job: DownloadJob,
  options: AttemptOptions,
): Promise<DownloadResult> {
  const { state, force, signal } = options;
  try {
    job = await withListedDigest(job, options);
    const freshness = await checkFreshness(job, state, { force, signal });
    if (freshness.kind === "verified") {
      state.setPart(job.relativePath, undefined);
      return cachedResult(job, freshness.record, "checksum");
    }
    const revalidate = freshness.kind === "revalidate" ? freshness.record : undefined;
    const sources = sourcesOf(job, state);
    const failed: { url: string; error: string }[] = [];
    for (const [index, source] of sources.entries()) {
      using watchdog = new IdleWatchdog(job.idleTimeoutMs, { signal });
      const transfer = new Transfer(job, source, options, watchdog, index === 0);
      try {
        const result = await transfer.run(source === job.url ? revalidate : undefined);
        if (sources.length === 1) return result;
        return {
          ...result,
          servedBy: redactUrl(source),
          ...(failed.length ? { failedSources: failed } : {}),
        };
      } catch (error) {
        if (index === sources.length - 1 || !failsOver(error, signal)) {
          throw failed.length === 0 ? error : withEarlierSources(error, failed);
        }
        failed.push({
          url: redactUrl(source),
          error: redactText(messageOf(error), secretsOf(job)),
        });
      }
    }
    throw new Error("unreachable: a job has at least one source");
  } catch (error) {
    // A lower layer may quote the URL or a header: nothing secret leaves in a message.
    throw redactError(error, secretsOf(job));
  }
}

/**
 * The job with its expected digest from its checksum file: a local one was read into the plan;
 * a URL is fetched once per run.
 */
async function withListedDigest(job: DownloadJob, options: AttemptOptions): Promise<DownloadJob> {
  if (job.unverifiable !== undefined) throw new UnlistedError(job.unverifiable);
  if (job.checksumsUrl === undefined) return job;
  const url = job.checksumsUrl;
  let list = options.checksumFiles.get(url);
  if (!list) {
    // Shared by every job that needs it: stopped by the run's end, not by one job's attempt.
    list = fetchChecksumFile(url, options);
    options.checksumFiles.set(url, list);
    // A failed fetch is tried again by the next attempt that needs it.
    list.catch(() => options.checksumFiles.delete(url));
  }
  const names = job.checksumNames ?? [];
  let digest: ListedDigest | undefined;
  try {
    digest = (await untilAborted(list, options.signal)).find(names);
  } catch (error) {
    if (!(error instanceof ChecksumConflict)) throw error;
    throw new ChecksumConflictError(`the checksum file ${redactUrl(url)} ${error.message}`);
  }
  if (!digest) {
    throw new UnlistedError(
      `the checksum file ${redactUrl(url)} does not list ${names.join(" or ")}`,
    );
  }
  return { ...job, [digest.algorithm]: digest.hex };
}

async function fetchChecksumFile(
  url: string,
  options: AttemptOptions,
): Promise<ReturnType<typeof parseChecksumFile>> {
  const signal = options.runSignal;
  const { response } = await getFollowing(url, {
    headers: new Headers(),
    signal,
    http: options.http,
    ...(options.netrc
      ? { credentials: (at: URL) => options.netrc!.authorization(at.hostname) }
      : {}),
  });
  if (response.status !== 200) {
    await response.body.cancel();
    throw new UnlistedError(`the checksum file ${redactUrl(url)} answered ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await response.body.read(); chunk; chunk = await response.body.read()) {
    size += chunk.byteLength;
    if (size > MAX_CHECKSUM_FILE) {
      await response.body.cancel();
      throw new UnlistedError(`the checksum file ${redactUrl(url)} is larger than 16 MiB`);
    }
    chunks.push(chunk.slice());
  }
  const list = parseChecksumFile(new TextDecoder().decode(concatBytes(chunks)));
  if (list.size === 0) {
    throw new UnlistedError(`the checksum file ${redactUrl(url)} has no usable checksum line`);
  }
  return list;
}

/** The largest checksum file read. */
const MAX_CHECKSUM_FILE = 16 * 2 ** 20;

/** `promise`, or the signal's reason when it is aborted first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return Promise.race([promise, aborted]).finally(() =>
    signal.removeEventListener("abort", onAbort)
  );
}

/** The job's sources in the order to try them: the one a kept `.part` came from first. */
function sourcesOf(job: DownloadJob, state: DownloadState): string[] {
  const sources = [job.url, ...(job.mirrors ?? [])];
  if (sources.length === 1) return sources;
  const partUrl = state.part(job.relativePath)?.url;
  const kept = sources.find((source) => stateUrl(source) === partUrl);
  return kept === undefined ? sources : [kept, ...sources.filter((source) => source !== kept)];
}

/** Whether another source may succeed where this one failed. */
function failsOver(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false; // the run stopped, or the attempt's time is up
  if (error instanceof HttpStatusError) {
    return error.status === 404 || error.status === 410 || error.status >= 500 ||
      error.status === 408 || error.status === 429;
  }
  if (error instanceof TooLargeError || error instanceof NameClashError) return false;
  if (error instanceof RangeError) return false; // a target outside the output folder
  return error instanceof IntegrityError || error instanceof RetryLaterError ||
    error instanceof IncompleteBodyError || error instanceof NetworkError ||
    error instanceof IdleTimeoutError || error instanceof RedirectError ||
    error instanceof OutsideGrantsError || error instanceof TypeError;
}

/** `error`, its message led by what the sources before it failed with. */
function withEarlierSources(error: unknown, failed: { url: string; error: string }[]): unknown {
  if (!(error instanceof Error)) return error;
  const earlier = failed.map((each) => `${each.url}: ${each.error}`).join("; ");
  const message = `every source failed: ${earlier}; then ${error.message}`;
  try {
    error.message = message;
    return error;
  } catch {
    return new Error(message);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What must never be shown of `job`: secret header values and the URL's password. */
function secretsOf(job: DownloadJob): string[] {
  const urls = [job.url, ...(job.mirrors ?? []), ...(job.checksumsUrl ? [job.checksumsUrl] : [])];
  return [...secretValues(job.headers, job.secretHeaders), ...urls.flatMap(urlSecrets)]
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
  const path = record.savedAs === undefined
    ? job.relativePath
    : join(dirname(job.relativePath), record.savedAs);
  return { bytes: 0, size, path, ...(sha256 ? { sha256 } : {}), cached };
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
  /** The source this transfer reads: the job's URL or one of its mirrors. */
  readonly #url: string;
  readonly #options: AttemptOptions;
  readonly #watchdog: IdleWatchdog;
  readonly #signal: AbortSignal;
  readonly #part: string;
  readonly #host: string;
  /** Whether the job's admission counted this transfer's first request (per_host_interval). */
  #admitted: boolean;
  /** Whether this is the job's first source in this attempt. */
  readonly #firstSource: boolean;
  /** Whether the `.part` has a sidecar (written or found): removed with it. */
  #sidecar = false;
  #secrets: string[] | undefined;

  constructor(
    job: DownloadJob,
    url: string,
    options: AttemptOptions,
    watchdog: IdleWatchdog,
    admitted: boolean,
  ) {
    this.#job = job;
    this.#url = url;
    this.#options = options;
    this.#watchdog = watchdog;
    this.#signal = watchdog.signal; // follows options.signal too
    this.#part = `${job.path}.part`;
    this.#host = url === job.url ? options.hosts.keyOf(job) : new URL(url).host;
    this.#admitted = admitted && url === job.url;
    this.#firstSource = admitted;
  }

  async run(revalidate: FileRecord | undefined): Promise<DownloadResult> {
    const job = this.#job;
    const { state } = this.#options;
    const kept = revalidate ? undefined : await this.#resumablePart();
    if (kept?.segments) return await this.#resumeSegments(kept);
    let resumeFrom = kept?.bytes ?? 0;
    if (resumeFrom === 0 && state.part(job.relativePath)) await this.#discardPart();
    const split = (job.segments ?? 1) > 1 && !revalidate && resumeFrom === 0;

    let { response, url, redirects } = await this.#request(
      revalidate ? conditionalHeaders(revalidate) : split ? { range: "bytes=0-" } : {},
      resumeFrom,
    );
    this.#watchdog.progress();
    if (kept && resumeFrom > 0 && !this.#sameFile(kept, response)) {
      // Another source's bytes, and nothing proves its file is the same: start afresh.
      await response.body.cancel();
      resumeFrom = 0;
      await this.#discardPart();
      ({ response, url, redirects } = await this.#request({}, 0));
      this.#watchdog.progress();
    }

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
    if (response.status === 206 && resumeFrom === 0 && !(split && rangeStart(response) === 0)) {
      await response.body.cancel();
      throw new IntegrityError(`GET ${redactUrl(url)} answered 206 to a request for everything`);
    }
    const target = await this.#target(response);

    const encoded = isEncoded(response);
    if (split && response.status === 206 && !encoded) {
      const total = rangeTotal(response);
      const validator = ifRangeValidator(response);
      if (total !== undefined && validator !== undefined) {
        const segments = splitRanges(total, job.segments ?? 1);
        if (segments.length > 1) {
          return await this.#segmented(response, { total, validator, segments, target, redirects });
        }
      }
    }
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
      throw error instanceof RangeError && !(error instanceof NotAFolderError)
        ? new RangeError(`${job.relativePath} would land outside the output folder`)
        : error;
    }

    const digests = needsDigest(job)
      ? await startDigests({ sha512: job.sha512 !== undefined })
      : undefined;
    let received = 0;
    let opened = false;
    let mtimeMs = 0;
    try {
      if (validator !== undefined && (total === undefined || total - resumeFrom > SIDECAR_MIN)) {
        // Written before the first byte: a process that dies (SIGKILL, a distributed run's
        // worker) leaves what another can resume from, with no state saved.
        this.#sidecar = true;
        await writeSidecar(this.#part, {
          url: stateUrl(this.#url),
          bytes: 0,
          validator,
          ...(total !== undefined ? { total } : {}),
          ...validatorsOf(response),
        });
      }
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
        pacer: this.#options.bandwidth.pacer(this.#host),
        signal: this.#signal,
      }));
      if (declared !== undefined && received !== declared) {
        throw new IncompleteBodyError(
          `GET ${redactUrl(url)} sent ${received} bytes, but Content-Length said ${declared}`,
        );
      }
    } catch (caught) {
      await response.body.cancel();
      // The folder went away under the run: the next attempt makes it again.
      if (caught instanceof Deno.errors.NotFound) this.#options.folders.forget(dirname(job.path));
      const error = this.#reason(caught, url);
      if (opened && validator !== undefined && isResumable(error)) {
        await this.#keepPart(validator, response, total);
      } else await this.#discardPart();
      throw error;
    }

    const { sha256, sha512 } = digests?.digest() ?? {};
    const mismatch = mismatchOf(job, url, sha256, sha512);
    if (mismatch) {
      await this.#discardPart();
      throw new IntegrityError(mismatch);
    }
    mtimeMs = withRemoteTime(job, response.headers.get("last-modified"), this.#part) ?? mtimeMs;
    await this.#putInPlace(target.path); // a rename keeps the mtime taken above
    if (this.#sidecar) await removeSidecar(this.#part);
    const size = resumeFrom + received;
    state.setPart(job.relativePath, undefined);
    state.setFile(job.relativePath, {
      url: stateUrl(job.url),
      bytes: size,
      mtimeMs,
      ...(sha256 ? { sha256 } : {}),
      ...validatorsOf(response),
      ...(target.savedAs ? { savedAs: target.savedAs } : {}),
    });
    this.#options.hosts.succeeded(this.#host);
    return {
      bytes: received,
      size,
      path: target.relativePath,
      ...(sha256 ? { sha256 } : {}),
      ...(redirects.length ? { redirects } : {}),
      ...(resumeFrom > 0 ? { resumedFrom: resumeFrom } : {}),
    };
  }

  /**
   * Where the file lands: its planned path, or the name its server gives in
   * `Content-Disposition` when the job file named none (in the same folder).
   */
  async #target(
    response: HttpResponse,
  ): Promise<{ path: string; relativePath: string; savedAs?: string }> {
    const job = this.#job;
    const planned = { path: job.path, relativePath: job.relativePath };
    if (!job.nameFromServer || response.status < 200 || response.status > 299) return planned;
    const name = dispositionFileName(response.headers.get("content-disposition"));
    if (name === undefined) return planned;
    const path = join(dirname(job.path), name);
    if (path === job.path) return planned;
    const relativePath = join(dirname(job.relativePath), name);
    // Another job's file by the plan (written already, or still to come), the run's report, the
    // job file (an `output: .`). Asked first: from here to the claim below nothing awaits.
    const taken = await this.#options.fileTaken?.(path);
    const claimedBy = this.#options.serverNames.get(path);
    // Another download's planned target has a record under its name in the state.
    const recorded = this.#options.state.file(relativePath);
    const owner = claimedBy !== undefined && claimedBy !== job.name
      ? `${claimedBy} wrote in this run`
      : taken !== undefined
      ? taken
      : recorded !== undefined && recorded.url !== stateUrl(job.url)
      ? `the download of ${redactUrl(recorded.url)} wrote`
      : undefined;
    if (owner !== undefined) {
      await response.body.cancel();
      throw new NameClashError(
        `GET ${redactUrl(this.#url)} names its file ${name} (Content-Disposition), which ` +
          `${owner}: set \`to:\` to keep both`,
      );
    }
    this.#options.serverNames.set(path, job.name);
    return { path, relativePath, savedAs: name };
  }

  /** Fetches the rest of a split download whose first range `first` is streaming. */
  async #segmented(
    first: HttpResponse,
    split: {
      total: number;
      validator: string;
      segments: Segment[];
      target: { path: string; relativePath: string; savedAs?: string };
      redirects: string[];
    },
  ): Promise<DownloadResult> {
    const job = this.#job;
    if (split.total > job.maxBytes) {
      await first.body.cancel();
      throw tooLarge(job, this.#url, `declares ${formatBytes(split.total)}`);
    }
    try {
      await this.#options.folders.prepare(dirname(job.path));
      using file = openPart(this.#part, false);
      file.truncateSync(split.total);
    } catch (error) {
      await first.body.cancel();
      if (error instanceof Deno.errors.NotFound) this.#options.folders.forget(dirname(job.path));
      throw error instanceof RangeError && !(error instanceof NotAFolderError)
        ? new RangeError(`${job.relativePath} would land outside the output folder`)
        : error;
    }
    const record: PartRecord = {
      url: stateUrl(this.#url),
      bytes: 0,
      validator: split.validator,
      total: split.total,
      ...validatorsOf(first),
      segments: split.segments,
      ...(split.target.savedAs ? { savedAs: split.target.savedAs } : {}),
    };
    return await this.#fetchRanges(record, first, split.target, split.redirects, 0);
  }

  /** Resumes a split download from the ranges a kept `.part` records. */
  async #resumeSegments(record: PartRecord): Promise<DownloadResult> {
    const job = this.#job;
    const resumedFrom = record.segments!.reduce((sum, [, , done]) => sum + done, 0);
    const target = record.savedAs === undefined
      ? { path: job.path, relativePath: job.relativePath }
      : {
        path: join(dirname(job.path), record.savedAs),
        relativePath: join(dirname(job.relativePath), record.savedAs),
        savedAs: record.savedAs,
      };
    return await this.#fetchRanges(
      { ...record, segments: record.segments!.map(([a, b, done]) => [a, b, done]) },
      undefined,
      target,
      [],
      resumedFrom,
    );
  }

  async #fetchRanges(
    record: PartRecord,
    first: HttpResponse | undefined,
    target: { path: string; relativePath: string; savedAs?: string },
    redirects: string[],
    resumedFrom: number,
  ): Promise<DownloadResult> {
    const job = this.#job;
    const { state } = this.#options;
    const segments = record.segments!;
    let received = 0;
    try {
      received = await fetchSegments({
        part: this.#part,
        segments,
        first,
        request: (from, to, signal) => this.#range(from, to, record, signal),
        pacer: this.#options.bandwidth.pacer(this.#host),
        watchdog: this.#watchdog,
        signal: this.#signal,
        progress: this.#options.progress,
      });
    } catch (caught) {
      const error = this.#reason(caught, this.#url);
      const done = segments.reduce((sum, [, , each]) => sum + each, 0);
      if (isResumable(error) && done > 0) {
        state.setPart(job.relativePath, { ...record, bytes: done, segments });
      } else await this.#discardPart();
      throw error;
    }
    const digests = needsDigest(job)
      ? await startDigests({ sha512: job.sha512 !== undefined })
      : undefined;
    if (digests) await digests.updateFromFile(this.#part, this.#signal);
    const { sha256, sha512 } = digests?.digest() ?? {};
    const mismatch = mismatchOf(job, this.#url, sha256, sha512);
    if (mismatch) {
      await this.#discardPart();
      throw new IntegrityError(mismatch);
    }
    const mtimeMs = withRemoteTime(job, record.lastModified, this.#part) ??
      Deno.statSync(this.#part).mtime?.getTime() ?? 0;
    await this.#putInPlace(target.path);
    state.setPart(job.relativePath, undefined);
    state.setFile(job.relativePath, {
      url: stateUrl(job.url),
      bytes: record.total!,
      mtimeMs,
      ...(sha256 ? { sha256 } : {}),
      ...(record.etag ? { etag: record.etag } : {}),
      ...(record.lastModified ? { lastModified: record.lastModified } : {}),
      ...(target.savedAs ? { savedAs: target.savedAs } : {}),
    });
    this.#options.hosts.succeeded(this.#host);
    return {
      bytes: received,
      size: record.total!,
      path: target.relativePath,
      segments: segments.length,
      ...(sha256 ? { sha256 } : {}),
      ...(redirects.length ? { redirects } : {}),
      ...(resumedFrom > 0 ? { resumedFrom } : {}),
    };
  }

  /** Requests one range of a split download: a 206 for exactly that range of the same file. */
  async #range(
    from: number,
    to: number,
    record: PartRecord,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const headers = new Headers(this.#job.headers);
    headers.set("range", `bytes=${from}-${to}`);
    headers.set("if-range", record.validator);
    const { response, url } = await getFollowing(this.#url, {
      ...this.#requestOptions(),
      headers,
      signal,
    });
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
    if (
      response.status !== 206 || !match || Number(match[1]) !== from || Number(match[2]) !== to ||
      Number(match[3]) !== record.total || isEncoded(response)
    ) {
      await response.body.cancel();
      if (response.status < 200 || response.status > 299) {
        throw await this.#statusError(response, url);
      }
      throw new IntegrityError(
        `GET ${redactUrl(url)} did not answer the range ${from}-${to} of the same file ` +
          `(${response.status}): the split download starts again`,
      );
    }
    return response;
  }

  /** The options every request of this transfer shares. */
  #requestOptions() {
    const { hosts, netrc } = this.#options;
    return {
      signal: this.#signal,
      http: this.#options.http,
      secretHeaders: this.#job.secretHeaders,
      turn: (url: URL, first: boolean) => {
        if (first && this.#admitted) {
          this.#admitted = false; // the job's admission counted this request
          return Promise.resolve();
        }
        return hosts.turn(url.host, this.#signal);
      },
      ...(netrc ? { credentials: (url: URL) => netrc.authorization(url.hostname) } : {}),
    };
  }

  /**
   * Whether a 206 from this source continues the bytes kept from `kept.url`: always for the
   * same source (If-Range checked it); from another, only when a strong ETag or the size and
   * Last-Modified date agree.
   */
  #sameFile(kept: PartRecord, response: HttpResponse): boolean {
    if (kept.url === stateUrl(this.#url) || response.status !== 206) return true;
    const etag = response.headers.get("etag");
    if (kept.etag && !kept.etag.startsWith("W/") && etag === kept.etag) return true;
    const lastModified = response.headers.get("last-modified");
    return kept.total !== undefined && rangeTotal(response) === kept.total &&
      kept.lastModified !== undefined && lastModified === kept.lastModified;
  }

  /** Renames the finished `.part` to `path`; a folder there fails the job, the part removed. */
  async #putInPlace(path: string): Promise<void> {
    try {
      Deno.renameSync(this.#part, path);
    } catch (error) {
      if (!(error instanceof Deno.errors.IsADirectory)) throw error;
      await this.#discardPart();
      throw new FolderInTheWayError(
        `cannot put the file at ${path}: a folder is there (remove it, or set \`to\` to another ` +
          "name)",
      );
    }
  }

  /** Sends the request, with a Range from `resumeFrom` when it is above 0. */
  #request(extra: Record<string, string>, resumeFrom: number) {
    const headers = new Headers(this.#job.headers);
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    if (resumeFrom > 0) {
      headers.set("range", `bytes=${resumeFrom}-`);
      headers.set("if-range", this.#options.state.part(this.#job.relativePath)!.validator);
    }
    return getFollowing(this.#url, { ...this.#requestOptions(), headers }).catch((error) => {
      throw this.#reason(error, this.#url);
    });
  }

  /** The record of a `.part` that can be resumed from this source, if there is one. */
  async #resumablePart(): Promise<PartRecord | undefined> {
    let record = this.#options.state.part(this.#job.relativePath);
    // A kept `.part` may have a sidecar, from an attempt before this one.
    if (record) this.#sidecar = true;
    if (!record) {
      // No state of it (its process died): the sidecar says where its bytes came from. Most
      // downloads have no `.part`: the folder's listing or one lstat says so, with no look for a
      // sidecar.
      const firstLook = (this.#options.attempt ?? 1) === 1 && this.#firstSource;
      const info = firstLook && this.#options.parts?.surelyAbsent(this.#part)
        ? undefined
        : lstatSync(this.#part);
      const sidecar = info?.isFile && info.size > 0 ? await readSidecar(this.#part) : undefined;
      if (sidecar && info) {
        this.#sidecar = true;
        record = { ...sidecar, bytes: info.size };
        this.#options.state.setPart(this.#job.relativePath, record);
      }
    }
    if (!record || record.bytes <= 0) return undefined;
    const sources = [this.#job.url, ...(this.#job.mirrors ?? [])].map(stateUrl);
    if (!sources.includes(record.url)) return undefined;
    // A split download's ranges are resumed from the source that sent them only.
    if (record.segments && record.url !== stateUrl(this.#url)) return undefined;
    const info = await Deno.lstat(this.#part).catch(() => undefined);
    const size = record.segments ? record.total : record.bytes;
    return info?.isFile && info.size === size ? record : undefined;
  }

  async #keepPart(validator: string, response: HttpResponse, total: number | undefined) {
    const info = await Deno.lstat(this.#part).catch(() => undefined);
    if (!info?.isFile || info.size === 0) return await this.#discardPart();
    const record: PartRecord = {
      url: stateUrl(this.#url),
      bytes: info.size,
      validator,
      ...(total !== undefined ? { total } : {}),
      ...validatorsOf(response),
    };
    this.#options.state.setPart(this.#job.relativePath, record);
  }

  /** Removes the `.part` (or a symlink planted under its name) and forgets it. */
  async #discardPart() {
    this.#options.state.setPart(this.#job.relativePath, undefined);
    await Deno.remove(this.#part).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    if (this.#sidecar) await removeSidecar(this.#part);
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

function lstatSync(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The least body worth a sidecar: smaller ones are fetched again whole. */
const SIDECAR_MIN = 256 * 1024;

/** Where a `.part`'s sidecar is: its source and validators, for a resume with no state. */
function sidecarOf(part: string): string {
  return `${part}.json`;
}

async function writeSidecar(part: string, record: PartRecord): Promise<void> {
  // A new file: whatever sits under its name (a symlink planted there) is removed, not followed.
  await removeSidecar(part);
  await Deno.writeTextFile(sidecarOf(part), JSON.stringify(record), { createNew: true });
}

async function readSidecar(part: string): Promise<PartRecord | undefined> {
  try {
    const record = JSON.parse(await Deno.readTextFile(sidecarOf(part)));
    return typeof record?.url === "string" && typeof record.validator === "string"
      ? record as PartRecord
      : undefined;
  } catch {
    return undefined;
  }
}

async function removeSidecar(part: string): Promise<void> {
  await Deno.remove(sidecarOf(part)).catch(() => {});
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

/** The whole file's size a 206 states (`Content-Range: bytes START-END/TOTAL`). */
function rangeTotal(response: HttpResponse): number | undefined {
  if (response.status !== 206) return undefined;
  const match = /^bytes \d+-\d+\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

/** What a checksum mismatch says, or undefined when the digests match what the job expects. */
function mismatchOf(
  job: DownloadJob,
  url: string,
  sha256: string | undefined,
  sha512: string | undefined,
): string | undefined {
  if (job.sha256 !== undefined && sha256 !== job.sha256) {
    return `sha256 mismatch for ${redactUrl(url)}: expected ${job.sha256}, got ${sha256}`;
  }
  if (job.sha512 !== undefined && sha512 !== job.sha512) {
    return `sha512 mismatch for ${redactUrl(url)}: expected ${job.sha512}, got ${sha512}`;
  }
  return undefined;
}

/**
 * Gives the finished `.part` its server's Last-Modified time (`lastModified`) when the job asks
 * (`remote_time`), as curl `-R` does; its mtime in ms as the file system keeps it, or undefined
 * when it keeps its own (no date, or none that parses).
 */
function withRemoteTime(
  job: DownloadJob,
  lastModified: string | null | undefined,
  part: string,
): number | undefined {
  if (!job.remoteTime) return undefined;
  const time = lastModified ? Date.parse(lastModified) : NaN;
  if (Number.isNaN(time)) return undefined;
  const date = new Date(time);
  Deno.utimeSync(part, date, date);
  // The file system may keep another time (ext4 clamps to 1901-2446, FAT rounds to 2 s): the
  // state must hold the one the next run will find, or the file reads as edited on disk.
  return Deno.statSync(part).mtime?.getTime() ?? time;
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
