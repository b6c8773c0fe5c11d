/**
 * The download kind: jobs on the io pool, admitted per host by a {@linkcode HostGate}, each
 * attempt run by {@linkcode downloadAttempt}. Decides which failures are worth another attempt
 * and how long a server asked us to wait (Retry-After, capped by `max_wait`).
 *
 * @module
 */
import { systemErrorCode, UNWRITABLE } from "../../lib/errors.ts";
import { HttpStatusError } from "../../lib/http/errors.ts";
import {
  IntegrityError,
  NameClashError,
  OutsideGrantsError,
  RedirectError,
  RetryLaterError,
  UnlistedError,
} from "./errors.ts";
import { HttpTransport } from "../../lib/http/transport.ts";
import type { DownloadJob, DownloadResult } from "./job.ts";
import type { JobKind } from "../../lib/scheduler/kind.ts";
import { downloadAttempt } from "./attempt.ts";
import { TargetFolders } from "./folders.ts";
import { HostGate } from "./host_gate.ts";
import { DownloadState } from "./state.ts";
import { Bandwidth } from "./bandwidth.ts";
import { Netrc } from "./netrc.ts";
import { PartsOnDisk } from "./parts_on_disk.ts";

/** Statuses worth another attempt: the server may answer differently soon. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Transfers at once to one host unless `concurrency.per_host` says otherwise. */
export const DEFAULT_PER_HOST = 8;

/** Options for {@linkcode createDownloadKind}. */
export interface DownloadKindOptions {
  /** Absolute output folder: every write must land inside it. */
  output: string;
  /** The HTTP transport to share across jobs (connection reuse). @default one of its own */
  http?: HttpTransport;
  /** What is known about earlier runs; saved by `close()`. @default an empty state, not saved */
  state?: DownloadState;
  /** Transfers at once to one host. @default 8 */
  perHost?: number;
  /** Ignore files on disk and download everything again. @default false */
  force?: boolean;
  /** Bytes a second for all downloads together. @default no limit */
  bandwidth?: number | undefined;
  /** Bytes a second for each host. @default no limit */
  perHostBandwidth?: number | undefined;
  /** The least time between the starts of two requests to one host, in ms. @default 0 */
  perHostIntervalMs?: number | undefined;
  /** The netrc file to take hosts' logins from. @default none */
  netrc?: string | undefined;
  /**
   * Other processes write into the output meanwhile (a distributed run's workers share it), so
   * what its folders held at the start says nothing: each download looks for its `.part`.
   * @default false
   */
  sharedOutput?: boolean | undefined;
  /** What a path already is to the run (see `RunResources.fileTaken`). @default nothing */
  fileTaken?: ((path: string) => Promise<string | undefined>) | undefined;
}

/**
 * The download kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDownloadKind } from "./download_kind.ts";
 * await using kind = createDownloadKind({ output: "/tmp/out" });
 * assert(kind.pool === "io");
 * ```
 */
export function createDownloadKind(
  options: DownloadKindOptions,
): JobKind<DownloadJob, DownloadResult> & AsyncDisposable & {
  gate: HostGate;
  close(): Promise<void>;
} {
  const { output, state = DownloadState.memory(), force = false } = options;
  const ownsHttp = options.http === undefined;
  const http = options.http ?? new HttpTransport();
  const hosts = new HostGate({
    limit: options.perHost ?? DEFAULT_PER_HOST,
    interval: options.perHostIntervalMs,
  });
  const folders = new TargetFolders(output);
  const parts = options.sharedOutput ? undefined : new PartsOnDisk();
  const bandwidth = new Bandwidth({
    total: options.bandwidth,
    perHost: options.perHostBandwidth,
  });
  const checksumFiles = new Map();
  const serverNames = new Map<string, string>();
  const ending = new AbortController();
  let netrc: Promise<Netrc> | undefined;
  const close = async () => {
    ending.abort(new DOMException("the run ended", "AbortError"));
    hosts.close();
    if (ownsHttp) http.close();
    await state.save();
  };
  return {
    pool: "io",
    gate: hosts,
    run: async (job, { signal, progress, attempt }) =>
      downloadAttempt(job, {
        http,
        state,
        hosts,
        folders,
        force,
        signal,
        progress,
        bandwidth,
        netrc: options.netrc === undefined
          ? undefined
          : await (netrc ??= Netrc.load(options.netrc)),
        checksumFiles,
        serverNames,
        ...(options.fileTaken ? { fileTaken: options.fileTaken } : {}),
        runSignal: ending.signal,
        parts,
        attempt,
      }),
    isRetryable,
    retryDelayMs: (error, job) =>
      error instanceof HttpStatusError && error.retryAfterMs !== undefined
        ? Math.min(error.retryAfterMs, job.maxWaitMs)
        : undefined,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The file system's errors that fail a download where it is written, not on the network. */
const LOCAL_FAILURES = new Set<unknown>([...UNWRITABLE, "ENAMETOOLONG", "ENOTDIR", "EISDIR"]);

/** Whether a failed download attempt is worth another. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) return RETRYABLE_STATUSES.has(error.status);
  if (error instanceof IntegrityError) return true; // a corrupted transfer may go well next time
  if (error instanceof RetryLaterError) return false; // the server asked for longer than max_wait
  if (error instanceof UnlistedError || error instanceof NameClashError) return false;
  if (error instanceof RangeError) return false; // too large, or a path that escapes
  if (error instanceof DOMException) return error.name === "TimeoutError";
  if (error instanceof RedirectError || error instanceof OutsideGrantsError) return false;
  if (error instanceof Error && error.name === "NotCapable") return false;
  // The file could not be written here (a full disk, a read-only one): no retry changes that.
  if (LOCAL_FAILURES.has(systemErrorCode(error))) return false;
  return true; // network errors (reset, refused, bad gzip), short bodies, idle timeouts
}
