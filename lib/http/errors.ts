/**
 * What an HTTP exchange can fail with, each with the `code` the report shows.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";

/** Options for {@linkcode HttpStatusError}. */
export interface HttpStatusErrorOptions {
  status: number;
  url: string;
  /** The first bytes of the response body, as text. */
  bodyExcerpt?: string;
  /** The server's `Retry-After`, in ms from when the response arrived. */
  retryAfterMs?: number | undefined;
}

/** A response whose status is not 2xx. */
export class HttpStatusError extends Error implements CodedError {
  override name = "HttpStatusError";
  get code(): string {
    return `HTTP_${this.status}`;
  }
  readonly status: number;
  readonly url: string;
  readonly bodyExcerpt: string;
  readonly retryAfterMs: number | undefined;

  constructor(options: HttpStatusErrorOptions) {
    const { status, url, bodyExcerpt = "", retryAfterMs } = options;
    const excerpt = bodyExcerpt ? `: ${JSON.stringify(bodyExcerpt)}` : "";
    const after = retryAfterMs === undefined ? "" : ` (Retry-After ${formatSeconds(retryAfterMs)})`;
    super(`GET ${url} answered HTTP ${status}${after}${excerpt}`);
    this.status = status;
    this.url = url;
    this.bodyExcerpt = bodyExcerpt;
    this.retryAfterMs = retryAfterMs;
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/**
 * A transfer that failed on the wire: a refused, reset or closed connection. Extends
 * `TypeError`, as fetch's network errors do. Worth another attempt; bytes already written are
 * still good.
 */
export class NetworkError extends TypeError implements CodedError {
  override name = "NetworkError";
  readonly code: string = "NETWORK";
}

/** A server that does not speak HTTP/1.1 as it must: a malformed head or framing. */
export class ProtocolError extends NetworkError {
  override name = "ProtocolError";
  override readonly code: string = "PROTOCOL";
}

/** A body that ended before its declared length (a reset or closed connection). Resumable. */
export class IncompleteBodyError extends Error implements CodedError {
  override name = "IncompleteBodyError";
  readonly code = "INCOMPLETE";
}
