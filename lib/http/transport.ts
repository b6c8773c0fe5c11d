/**
 * The HTTP transport downloads use: taskpool's own {@linkcode HttpClient}, or `fetch` for a URL
 * that goes through a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, which Deno's fetch honours together
 * with `NO_PROXY`). Both give the same {@linkcode HttpResponse}.
 *
 * @module
 */
import { HttpClient, type HttpRequestInit, type HttpResponse } from "./client.ts";
import { StreamBody } from "./stream_body.ts";
import { PROXY_VARIABLES } from "./proxy_variables.ts";
import { readEnv } from "../util/env.ts";
import { NetworkError } from "./errors.ts";
import { redactUrl } from "../util/secrets.ts";

/** Options for {@linkcode HttpTransport}. */
export interface HttpTransportOptions {
  /** Idle connections kept per origin by taskpool's client. @default 64 */
  maxIdlePerOrigin?: number;
  /** Reads an environment variable. @default Deno.env.get, undefined where not permitted */
  env?: (name: string) => string | undefined;
  /** Certificate authorities to trust besides the system's, as PEM text. @default none */
  caCerts?: string[] | undefined;
}

/**
 * GETs a URL directly or through the proxy its scheme names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpTransport } from "./transport.ts";
 * using transport = new HttpTransport({ env: () => undefined });
 * assert(!transport.proxied(new URL("http://example.com/")));
 * ```
 */
export class HttpTransport implements Disposable {
  readonly #direct: HttpClient;
  /** The proxy of each scheme that has one, as it may be shown: `HTTP_PROXY=http://host:3128`. */
  readonly #proxied: Map<string, string>;
  readonly #caCerts: string[] | undefined;
  #fetchClient: Deno.HttpClient | undefined;

  constructor(options: HttpTransportOptions = {}) {
    const { maxIdlePerOrigin = 64, env = readEnv, caCerts } = options;
    this.#caCerts = caCerts?.length ? caCerts : undefined;
    this.#direct = new HttpClient({
      maxIdlePerOrigin,
      ...(this.#caCerts ? { caCerts: this.#caCerts } : {}),
    });
    this.#proxied = new Map();
    for (const [scheme, names] of Object.entries(PROXY_VARIABLES)) {
      const name = names.find((name) => env(name));
      if (name) this.#proxied.set(scheme, `${name}=${redactUrl(env(name)!)}`);
    }
  }

  /** Whether requests to `url` go through fetch, for its proxy. */
  proxied(url: URL): boolean {
    return this.#proxied.has(url.protocol);
  }

  /** GETs `url` without following redirects. */
  get(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    return this.proxied(url) ? this.#fetch(url, init) : this.#direct.get(url, init);
  }

  close(): void {
    this.#direct.close();
    this.#fetchClient?.close();
    this.#fetchClient = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Deno's own fetch, which applies the proxy variables and `NO_PROXY` itself. */
  async #fetch(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    if (this.#caCerts && !this.#fetchClient) {
      this.#fetchClient = Deno.createHttpClient({ caCerts: this.#caCerts });
    }
    let response: Response;
    try {
      response = await fetch(url, {
        headers: init.headers,
        signal: init.signal,
        redirect: "manual",
        ...(this.#fetchClient ? { client: this.#fetchClient } : {}),
      });
    } catch (error) {
      // fetch says only "fetch failed"; what failed is in its cause, which names the URL first.
      if (init.signal?.aborted || !(error instanceof TypeError)) throw error;
      const cause = error.cause instanceof Error ? error.cause.message : error.message;
      const reason = cause.replace(/^error sending request for url \([^)]*\): /, "");
      throw new NetworkError(`${reason} (${this.#proxied.get(url.protocol)} is set)`, {
        cause: error,
      });
    }
    const { status, statusText, headers } = response;
    const encoding = headers.get("content-encoding")?.toLowerCase() ?? "identity";
    const declared = headers.get("content-length");
    const length = encoding === "identity" && declared !== null && /^\d+$/.test(declared)
      ? Number(declared)
      : undefined;
    const body = new StreamBody(response.body ?? emptyStream(), length);
    return { status, statusText, headers, body };
  }
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}
